// 监管台 (docs/console.md): GET /api/console with the filter in the address; every live
// room of the city with its phase, window and who is present, each joined read-only in
// its own page; the alerts escalated to supervisors, the undecided collusion warnings and
// the open challenges and complaints, each leading to its tender. Asked again every 5 s
// while the tab is visible; a filter change asks at once.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, isSupervisorRole } from '../api.js';
import { t, label, getLang, onLangChange } from '../i18n.js';
import { formatCST } from '../format.js';
import { h, replace, clear, loadingBlock, errorBlock, banner, countdown, startCountdowns } from '../ui.js';

const POLL_MS = 5000;
const FIELDS = ['region', 'purchaser', 'agency', 'method', 'category', 'from', 'to'];
const $ = (id) => document.getElementById(id);
const root = $('console');

let data = null;
let loadError = null;
let timer = null;

/** The filter as the address says it. */
function current() {
  const q = new URLSearchParams(location.search);
  return Object.fromEntries(FIELDS.map((k) => [k, q.get(k) || '']));
}

function query(f) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function load() {
  try {
    data = await get(`/api/console${query(current())}`);
    loadError = null;
  } catch (e) {
    loadError = e;
  }
  render();
}

function schedulePoll() {
  clearTimeout(timer);
  timer = setTimeout(async () => {
    if (!document.hidden) await load();
    schedulePoll();
  }, POLL_MS);
}

function renderFilter() {
  if (!data) return;
  const f = current();
  const c = data.choices;
  const select = (name, all, options) => h(`select#console-${name}.select`, { name },
    h('option', { value: '' }, t(all)),
    options.map(([value, text]) => h('option', { value, selected: value === f[name] }, text)));
  const fields = {
    region: select('region', 'console.all_regions', c.regions.map((r) => [r.id, r.name])),
    purchaser: select('purchaser', 'console.all_purchasers', c.purchasers.map((o) => [o.id, o.name])),
    agency: select('agency', 'console.all_agencies', c.agencies.map((o) => [o.id, o.name])),
    method: select('method', 'console.all_methods', c.methods.map((m) => [m, label('method', m)])),
    category: select('category', 'console.all_categories', c.categories.map((x) => [x, label('category', x)])),
    from: h('input#console-from.input', { type: 'date', name: 'from', value: f.from }),
    to: h('input#console-to.input', { type: 'date', name: 'to', value: f.to }),
  };
  const form = $('console-filter');
  replace(form,
    FIELDS.map((k) => h('label', t(`console.${k}`), ' ', fields[k])),
    h('button#console-apply.btn', { type: 'submit' }, t('console.apply')),
    h('a#console-clear.btn', { href: '/console.html' }, t('console.clear')));
  const apply = () => {
    const next = Object.fromEntries(FIELDS.map((k) => [k, fields[k].value]));
    history.pushState(null, '', `/console.html${query(next)}`);
    load();
  };
  form.onsubmit = (ev) => {
    ev.preventDefault();
    apply();
  };
  for (const k of ['region', 'purchaser', 'agency', 'method', 'category']) fields[k].onchange = apply;
}

const KIND_NAMES = { opening: 'console.kind.opening', evaluation: 'console.kind.evaluation', rounds: 'console.kind.rounds' };

function phaseLabel(room) {
  return room.kind === 'opening' ? label('phase', room.phase) : label('console.phase', room.phase);
}

/** Who is present: a count per role, and the names as supervisors see them. */
function presence(room) {
  if (!room.present.length) return h('span.muted', t('console.nobody'));
  const byRole = {};
  for (const p of room.present) byRole[p.role] = (byRole[p.role] || 0) + 1;
  return h('div.console-present',
    h('div.small', Object.entries(byRole).map(([role, n]) => `${label('role', role)} ${n}`).join(' · ')),
    h('ul.chips', room.present.map((p) => h('li.chip', { dataset: { role: p.role } }, p.display_name))));
}

function tenderCell(x) {
  return [h('a', { href: `/tender.html?id=${encodeURIComponent(x.id)}` }, x.title || x.code),
    h('div.small.muted.mono', x.code), h('div.small.muted', `${x.region_name} · ${x.purchaser}`)];
}

function roomsBlock() {
  const rooms = data.rooms;
  return h('section#console-rooms.console-section', { 'aria-labelledby': 'console-rooms-heading' },
    h('h2#console-rooms-heading.section-heading', t('console.rooms', { n: rooms.length })),
    rooms.length
      ? h('div.table-wrap', h('table#console-rooms-table.table',
        h('thead', h('tr',
          h('th', { scope: 'col' }, t('field.title')),
          h('th.hide-mobile', { scope: 'col' }, t('field.agency')),
          h('th', { scope: 'col' }, t('console.room')),
          h('th', { scope: 'col' }, t('console.present')),
          h('th', { scope: 'col' }, h('span.visually-hidden', t('console.join'))))),
        h('tbody', rooms.map((r) => h('tr.room-row', { dataset: { id: r.tender.id, kind: r.kind, phase: r.phase } },
          h('td', tenderCell(r.tender)),
          h('td.hide-mobile', r.tender.agency, h('div.small.muted', label('method', r.tender.method))),
          h('td', h('div', t(KIND_NAMES[r.kind])),
            h('span.badge.phase-badge', { dataset: { phase: r.phase } }, phaseLabel(r)),
            r.ends_at ? h('div.small', countdown(r.ends_at, { done: 'hall.window_over' })) : null),
          h('td', presence(r)),
          h('td', h('a.btn.btn-small.btn-primary.room-link', { href: r.link, dataset: { tender: r.tender.id, kind: r.kind } }, t('console.join'))))))))
      : h('p.muted#console-no-rooms', t('console.no_rooms')));
}

/** A section of the console: its heading with the count, its rows, or a line when none. */
function listSection(name, rows, row) {
  return h(`section#console-${name}.console-section`, { 'aria-labelledby': `console-${name}-heading` },
    h(`h2#console-${name}-heading.section-heading`, t(`console.${name}`, { n: rows.length })),
    rows.length ? h('ul.console-list', rows.map(row)) : h('p.muted', t(`console.no_${name}`)));
}

function alertsBlock() {
  const en = getLang() === 'en';
  return listSection('alerts', data.alerts, (a) => h('li.alert-row', { dataset: { id: a.id, stage: a.stage, tender: a.tender ? a.tender.id : '' } },
    h(`span.badge.badge-${a.stage === 'overdue' ? 'failed' : 'opening'}`, t(`alerts.stage.${a.stage}`)), ' ',
    h('a.alert-link', { href: a.link }, en ? a.title_en : a.title_zh),
    h('div.small.muted', `${a.rule} · ${t('console.due', { at: formatCST(a.due_at) })}`,
      a.tender ? ` · ${a.tender.title}` : '')));
}

function warningsBlock() {
  return listSection('warnings', data.warnings, (w) => h('li.warning-row', { dataset: { tender: w.tender.id } },
    h('a', { href: w.link }, w.tender.title),
    h('div.small', t('console.warning_tally', { open: w.tally.open, confirmed: w.tally.confirmed }))));
}

function disputesBlock() {
  return listSection('disputes', data.disputes, (d) => h('li.dispute-row', { dataset: { tender: d.tender.id } },
    h('a', { href: d.link }, d.tender.title),
    h('div.small', t('console.dispute_counts', { challenges: d.challenges, complaints: d.complaints }))));
}

function render() {
  if (loadError && !data) {
    replace(root, errorBlock(errorText(loadError), load));
    return;
  }
  if (!data) {
    replace(root, loadingBlock());
    return;
  }
  if (loadError) replace($('console-alert'), banner('warning', errorText(loadError)));
  else clear($('console-alert'));
  $('console-updated').textContent = t('console.updated', { at: formatCST(data.now, { seconds: true }).slice(11) });
  renderFilter();
  replace(root, roomsBlock(), h('div.console-grid', alertsBlock(), warningsBlock(), disputesBlock()));
  startCountdowns();
}

async function main() {
  setPageTitle('console.title');
  const me = await initLayout({ auth: 'required', active: 'console' });
  if (!me || !isSupervisorRole(me.role)) {
    replace(root, banner('warning', t('console.supervisors_only')));
    return;
  }
  render();
  await load();
  schedulePoll();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) load();
  });
  window.addEventListener('popstate', load);
  onLangChange(render);
}

main();
