// A tender's collusion warnings for the supervisors (docs/collusion.md): after the
// opening, each finding with its rule, the bidders, the shared value or the price series
// and its weight, and the lot's price screens; a supervisor confirms or dismisses each
// with a reason. Refreshes every 15 seconds unless a dialog is open.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatMoney } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast, openDialog } from '../ui.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const path = `/api/tenders/${encodeURIComponent(tenderId)}/warnings`;
let st = null;

async function load() {
  st = await get(path);
}

async function decide(w, type, button) {
  const reason = await openDialog({ title: t(`warn.${type}`), input: { label: t('warn.reason'), maxlength: 2000 } });
  if (!reason) return;
  const done = busy(button);
  try {
    await post(path, { type, key: w.key, reason });
    toast(t('warn.saved'));
    await load();
    renderAll();
  } catch (e) {
    showBanner($('warn-alert'), 'error', errorText(e));
  } finally {
    done();
  }
}

function evidence(w) {
  const e = w.evidence;
  if (e.series) {
    return h('p.warn-series', t('warn.series', { lot: e.series.lot_no }), ' ',
      e.series.prices_fen.map((p) => formatMoney(p)).join(' · '));
  }
  if (w.kind === 'similar_text') {
    return h('div.warn-shared',
      h('p', h('strong', t('warn.value.similar_text')), ' ', h('code', `${Math.round(e.similarity * 100)}%`),
        ' — ', (e.bidders || []).join('、')),
      h('p.small.muted', t('warn.passage')),
      h('div.warn-passages', (e.passages || []).map((p) =>
        h('figure.warn-passage', h('figcaption', p.bidder), h('blockquote', p.text)))));
  }
  if (w.kind === 'shared_errors') {
    const marked = (chars, at) => [chars.slice(0, at).join(''), h('mark', chars[at] || ''), chars.slice(at + 1).join('')];
    return h('div.warn-shared',
      h('p', h('strong', t('warn.value.shared_errors')), ' ', h('code', String(e.sites)), ' — ', (e.bidders || []).join('、')),
      h('table.table.warn-errors',
        h('thead', h('tr', h('th', t('warn.errors.tender')), h('th', t('warn.errors.bids')))),
        h('tbody', (e.errors || []).map((x) => {
          const [ref, bid] = [[...x.tender], [...x.bids]];
          const at = ref.findIndex((c, i) => c !== bid[i]);
          return h('tr', h('td', marked(ref, at)), h('td', marked(bid, at)));
        }))));
  }
  if (w.kind === 'similar_across_tenders') {
    const other = e.tender || {};
    return h('p.warn-shared', h('strong', t('warn.value.similar_across_tenders')), ' ',
      h('code', `${Math.round(e.similarity * 100)}%`), ' — ', (e.bidders || [])[0] || '', ' ↔ ',
      h('a', { href: `/warnings.html?tender=${encodeURIComponent(other.id)}` }, `${other.title}（${other.code}）`),
      ' ', (e.bidders || [])[1] || '');
  }
  if (w.kind === 'same_file') {
    return h('p.warn-shared', h('strong', t('warn.value.same_file')), ' ', (e.names || []).join(' / '),
      ' ', h('code', String(e.value).slice(0, 16)), ' — ', (e.bidders || []).join('、'));
  }
  if (e.places) {
    return h('div.warn-shared',
      h('p', h('strong', t(`warn.value.${w.kind}`)), ' ', h('code', String(e.value))),
      h('ul.warn-people', e.places.map((p) => h('li', `${p.bidder}：…${p.text}…`))));
  }
  if (e.people) {
    return h('div.warn-shared',
      h('p', h('strong', t(`warn.value.${w.kind}`)), ' ', h('code', String(e.value))),
      h('ul.warn-people', e.people.map((p) => h('li', `${p.bidder}：${p.name}（${p.role}）`))));
  }
  const value = w.kind === 'lowest_bid_disqualified' ? formatMoney(e.value) : String(e.value);
  return h('p.warn-shared', h('strong', t(`warn.value.${w.kind}`)), ' ', h('code', value),
    ' — ', (e.bidders || []).join('、'));
}

function warningCard(w, i) {
  const actions = [];
  if (w.status === 'open') {
    const confirm = h(`button#warn-confirm-${i}.btn.btn-primary`, { type: 'button' }, t('warn.confirm'));
    confirm.addEventListener('click', () => decide(w, 'confirm', confirm));
    const dismiss = h(`button#warn-dismiss-${i}.btn`, { type: 'button' }, t('warn.dismiss'));
    dismiss.addEventListener('click', () => decide(w, 'dismiss', dismiss));
    actions.push(confirm, dismiss);
  }
  return h('section.card.warn-card', { id: `warn-${i}`, dataset: { kind: w.kind, status: w.status } },
    h('div.card-head', h('h3', `${w.rule} · ${t(`warn.kind.${w.kind}`)}`),
      h(`span.badge.badge-${w.status === 'confirmed' ? 'failed' : w.status === 'dismissed' ? 'draft' : 'opening'}`, t(`warn.status.${w.status}`))),
    evidence(w),
    h('p.small.muted', t('warn.weight', { n: w.weight, bids: w.bids.length })),
    w.reason ? h('p.warn-reason', h('strong', t('warn.reason')), ' ', w.reason, ' · ', formatCST(w.decided_at)) : null,
    actions.length ? h('p.action-bar', actions) : null);
}

function screensTable() {
  if (!st.screens.length) return null;
  const f = (x) => (x === null || x === undefined ? '—' : Number(x).toFixed(3));
  return h('section.card', h('div.card-head', h('h2', t('warn.screens'))),
    h('p.small.muted', t('warn.screens_note')),
    h('table.table#warn-screens-table',
      h('thead', h('tr', [t('warn.lot'), t('warn.bids'), 'CV', 'RD', t('warn.spread'), t('warn.skewness')].map((x) => h('th', x)))),
      h('tbody', st.screens.map((s) => h('tr', h('td', String(s.lot_no)), h('td', String(s.bids)),
        h('td', f(s.cv)), h('td', f(s.rd)), h('td', f(s.spread)), h('td', f(s.skewness)))))));
}

function renderAll() {
  replace($('warn-screens'), screensTable());
  replace($('warn-list'), h('h2#warn-list-heading', t('warn.list', { n: st.warnings.length })),
    st.warnings.length ? h('div.stack', st.warnings.map(warningCard)) : h('p.muted#warn-none', t('warn.none')));
}

async function main() {
  setPageTitle('warn.title');
  const me = await initLayout({ auth: 'required', active: 'audit' });
  if (!me) return;
  if (!tenderId) return replace($('warn-alert'), errorBlock(t('common.missing_id')));
  replace($('warn-loading'), loadingBlock());
  try {
    await load();
  } catch (e) {
    clear($('warn-loading'));
    if (e instanceof ApiError && e.code === 'WARNINGS_NOT_YET') return replace($('warn-alert'), banner('info', t('warn.not_yet')));
    return replace($('warn-alert'), errorBlock(errorText(e), () => location.reload()));
  }
  clear($('warn-loading'));
  $('warn-page').hidden = false;
  renderAll();
  setInterval(() => {
    if (!document.querySelector('dialog[open]')) load().then(renderAll).catch(() => {});
  }, 15_000);
  onLangChange(renderAll);
}

main();
