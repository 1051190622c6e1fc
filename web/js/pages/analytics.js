// 统计分析 (docs/analytics.md): GET /api/analytics with the filter in the address, the
// figures as cards and a bar chart of the awarded value per region drawn as SVG here (no
// library), and the CSV of the same figures for a spreadsheet.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, getLang, onLangChange } from '../i18n.js';
import { formatMoney } from '../format.js';
import { h, replace, loadingBlock, errorBlock, banner } from '../ui.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';
let me = null;
let regions = [];
let data = null;

/** The filter as the address says it. */
function current() {
  const q = new URLSearchParams(location.search);
  return { region: q.get('region') || '', from: q.get('from') || '', to: q.get('to') || '' };
}

function query(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

const pct = (bp) => `${(bp / 100).toFixed(2)}%`;

function renderFilter() {
  const f = current();
  const region = h('select#ana-region.select', { name: 'region' },
    h('option', { value: '' }, t('ana.all_regions')),
    regions.map((r) => h('option', { value: r.code, selected: r.code === f.region }, getLang() === 'en' ? r.name_en : r.name_zh)));
  const from = h('input#ana-from.input', { type: 'date', name: 'from', value: f.from });
  const to = h('input#ana-to.input', { type: 'date', name: 'to', value: f.to });
  const form = $('ana-filter');
  replace(form,
    h('label', t('ana.region'), ' ', region),
    h('label', t('ana.from'), ' ', from),
    h('label', t('ana.to'), ' ', to),
    h('button#ana-apply.btn', { type: 'submit' }, t('ana.apply')),
    h('a#ana-csv.btn', { href: `/api/analytics.csv${query(f)}`, download: 'kaibiao-analytics.csv' }, t('ana.csv')),
    h('a#ana-xlsx.btn', { href: `/api/analytics.xlsx${query(f)}`, download: 'kaibiao-analytics.xlsx' }, t('ana.xlsx')),
    me.role === 'purchaser' ? h('span.tag', t('ana.own_unit')) : null);
  form.onsubmit = (ev) => {
    ev.preventDefault();
    const next = { region: region.value, from: from.value, to: to.value };
    history.pushState(null, '', `/analytics.html${query(next)}`);
    load();
  };
}

const figure = (id, label, value, note) => h('div.kv-item', { dataset: { figure: id } },
  h('dt', label), h('dd', h(`strong#ana-${id}`, value), note ? h('span.small.muted', ' ', note) : null));

/** Each deadline rule of the stages: due, met in time, met late, past due and open. */
function timeliness(rows) {
  return h('div.table-wrap', h('table#ana-timeliness-table.table',
    h('thead', h('tr',
      h('th', { scope: 'col' }, t('ana.rule')),
      h('th.num', { scope: 'col' }, t('ana.due')),
      h('th.num', { scope: 'col' }, t('ana.on_time')),
      h('th.num', { scope: 'col' }, t('ana.late')),
      h('th.num', { scope: 'col' }, t('ana.overdue')),
      h('th.num', { scope: 'col' }, t('ana.on_time_rate')))),
    h('tbody', rows.map((r) => h('tr', { dataset: { rule: `${r.code}.${r.name}` } },
      h('td', getLang() === 'en' ? r.en : r.zh, h('div.small.muted', r.code)),
      h('td.num', String(r.due)),
      h('td.num', String(r.on_time)),
      h('td.num', String(r.late)),
      h('td.num', r.overdue ? h('span.tag.tag-danger', String(r.overdue)) : '0'),
      h('td.num', r.due ? pct(r.on_time_bp) : '—'))))));
}

/** Bars per region: the awarded value, its SME part darker; the scale is the largest. */
function chart(rows) {
  const width = 640;
  const bar = 26;
  const gap = 12;
  const label = 120;
  const height = rows.length * (bar + gap) + gap;
  const max = Math.max(1, ...rows.map((r) => r.awarded_fen));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('ana.chart_label'));
  svg.classList.add('ana-chart');
  const add = (tag, attrs, text) => {
    const el = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    if (text !== undefined) el.textContent = text;
    svg.append(el);
    return el;
  };
  rows.forEach((r, i) => {
    const y = gap + i * (bar + gap);
    const span = width - label - 150;
    const w = (r.awarded_fen / max) * span;
    const sme = (r.sme_fen / max) * span;
    add('text', { x: label - 8, y: y + bar * 0.7, 'text-anchor': 'end', class: 'ana-chart-label' }, r.name);
    add('rect', { x: label, y, width: Math.max(w, 0), height: bar, class: 'ana-bar-other', 'data-region': r.code });
    add('rect', { x: label, y, width: Math.max(sme, 0), height: bar, class: 'ana-bar-sme' });
    add('text', { x: label + w + 6, y: y + bar * 0.7, class: 'ana-chart-value' }, formatMoney(r.awarded_fen));
  });
  return svg;
}

function render() {
  const f = data.figures;
  const b = f.budget;
  const s = f.savings;
  const m = f.sme;
  const c = f.competition;
  const e = f.experts;
  const p = f.participation;
  const y = f.policy;
  replace($('ana-page'),
    c.tenders === 0 ? banner('info', t('ana.none')) : null,
    h('section.card#ana-budget', h('div.card-head', h('h2', t('ana.budget'))),
      h('dl.kv',
        figure('planned', t('ana.planned'), formatMoney(b.planned_fen)),
        figure('committed', t('ana.committed'), formatMoney(b.committed_fen)),
        figure('tendered', t('ana.tendered'), formatMoney(b.tendered_fen)),
        figure('contracted', t('ana.contracted'), formatMoney(b.contracted_fen), pct(b.contracted_of_planned_bp)),
        figure('paid', t('ana.paid'), formatMoney(b.paid_fen), pct(b.paid_of_contracted_bp)))),
    h('section.card#ana-savings', h('div.card-head', h('h2', t('ana.savings'))),
      h('dl.kv',
        figure('awarded-budget', t('ana.awarded_budget'), formatMoney(s.awarded_budget_fen)),
        figure('awarded', t('ana.awarded'), formatMoney(s.awarded_fen)),
        figure('saved', t('ana.saved'), formatMoney(s.saved_fen)),
        figure('rate', t('ana.rate'), pct(s.rate_bp)))),
    h('section.card#ana-sme', h('div.card-head', h('h2', t('ana.sme'))),
      h('dl.kv',
        figure('sme-count', t('ana.sme_count'), pct(m.share_count_bp), t('ana.sme_of', { n: m.sme_awards, total: m.awards })),
        figure('sme-value', t('ana.sme_value'), pct(m.share_value_bp), formatMoney(m.sme_fen)))),
    h('section.card#ana-competition', h('div.card-head', h('h2', t('ana.competition'))),
      h('dl.kv',
        figure('tenders', t('ana.tenders'), String(c.tenders)),
        figure('awarded-n', t('ana.awarded_n'), String(c.awarded)),
        figure('failed', t('ana.failed'), String(c.failed)),
        figure('bids-per-lot', t('ana.bids_per_lot'), (c.bids_per_lot_x100 / 100).toFixed(2)),
        figure('single-bid', t('ana.single_bid'), pct(c.single_bid_rate_bp)))),
    h('section.card#ana-experts', h('div.card-head', h('h2', t('ana.experts'))),
      h('dl.kv',
        figure('invitations', t('ana.invitations'), String(e.invitations)),
        figure('decline-rate', t('ana.decline_rate'), pct(e.decline_rate_bp), t('ana.of', { n: e.declines, total: e.invitations })),
        figure('outlier-rate', t('ana.outlier_rate'), pct(e.outlier_rate_bp), t('ana.of', { n: e.outlier_scores, total: e.scores })),
        figure('minutes-to-score', t('ana.minutes_to_score'), t('ana.minutes', { n: e.minutes_to_score_avg }), t('ana.seats', { n: e.scored_seats })))),
    h('section.card#ana-participation', h('div.card-head', h('h2', t('ana.participation'))),
      h('dl.kv',
        figure('bidders', t('ana.bidders'), String(p.bidders), t('ana.sme_bidders', { n: p.sme_bidders })),
        figure('winners', t('ana.winners'), String(p.winners)),
        figure('bids-per-bidder', t('ana.bids_per_bidder'), (p.bids_per_bidder_x100 / 100).toFixed(2)))),
    h('section.card#ana-policy', h('div.card-head', h('h2', t('ana.policy'))),
      h('dl.kv',
        figure('small-micro', t('ana.small_micro_deductions'), String(y.small_micro_deductions)),
        figure('consortium', t('ana.consortium_deductions'), String(y.consortium_deductions)),
        figure('domestic', t('ana.domestic_deductions'), String(y.domestic_deductions)),
        figure('deducted', t('ana.deducted'), formatMoney(y.deducted_fen)),
        figure('special', t('ana.special_awards'), String(y.special_awards), formatMoney(y.special_fen)),
        figure('reserved', t('ana.reserved'), String(y.reserved_tenders), formatMoney(y.reserved_budget_fen)),
        figure('reservation-rate', t('ana.reservation_rate'), pct(y.reservation_rate_bp), t('ana.of', { n: y.reservable_reserved, total: y.reservable_tenders })))),
    h('section.card#ana-timeliness', h('div.card-head', h('h2', t('ana.timeliness')),
      h('span.card-note', t('ana.timeliness_note'))),
    timeliness(f.timeliness)),
    h('section.card#ana-regions', h('div.card-head', h('h2', t('ana.regions')),
      h('span.card-note', h('span.ana-key.ana-key-sme'), t('ana.legend_sme'), ' ', h('span.ana-key.ana-key-other'), t('ana.legend_other'))),
    chart(f.regions)));
}

async function load() {
  renderFilter();
  replace($('ana-page'), loadingBlock());
  try {
    data = await get(`/api/analytics${query(current())}`);
  } catch (e) {
    replace($('ana-page'), e instanceof ApiError && e.status === 403 ? banner('warning', errorText(e)) : errorBlock(errorText(e), load));
    return;
  }
  render();
}

async function main() {
  setPageTitle('ana.title');
  me = await initLayout({ auth: 'required', active: 'analytics' });
  if (!me) return;
  regions = await get('/api/regions');
  window.addEventListener('popstate', load);
  onLangChange(() => {
    renderFilter();
    if (data) render();
  });
  await load();
}

main();
