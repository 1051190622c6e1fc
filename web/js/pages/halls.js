// 开标大厅一览: the supervisors' view of every opening in progress — tenders sealed or
// opening (GET /api/tenders, filtered here: the route has no status filter), each with
// its phase and counts from GET /api/tenders/{id}/opening. Polled lightly (every 15 s,
// paused while the tab is hidden); each row leads into its live hall.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, isSupervisorRole } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatCST, serverNow } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, countdown, startCountdowns } from '../ui.js';
import { purchaserName, agencyName, schedule } from '../tenders.js';

const LIVE = ['sealed', 'opening'];
const POLL_MS = 15000;

const root = document.getElementById('halls');
const updatedEl = document.getElementById('halls-updated');

let rows = null; // [{tender, state, error}]
let evaluations = []; // tenders being evaluated, each leading into its evaluation room
let loadError = null;
let updatedAt = null;
let timer = null;

async function load() {
  try {
    const list = await get('/api/tenders');
    const live = (Array.isArray(list) ? list : []).filter((x) => LIVE.includes(x.status));
    evaluations = (Array.isArray(list) ? list : []).filter((x) => x.status === 'evaluating');
    rows = await Promise.all(live.map(async (x) => {
      try {
        return { tender: x, state: await get(`/api/tenders/${encodeURIComponent(x.id)}/opening`), error: null };
      } catch (e) {
        return { tender: x, state: null, error: e };
      }
    }));
    loadError = null;
    updatedAt = serverNow();
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

function phaseOf(row) {
  if (row.state && row.state.phase) return row.state.phase;
  return row.tender.status === 'sealed' ? 'sealed' : null;
}

function counts(row) {
  const s = row.state;
  if (!s) return row.error ? h('span.small.muted', errorText(row.error)) : '—';
  const bids = Array.isArray(s.bids) ? s.bids : [];
  const shares = Array.isArray(s.shares) ? s.shares : [];
  // Before the start the bids are not listed yet (who bid is told at the opening).
  if (!bids.length && (s.phase === null || s.phase === undefined)) return h('span.muted', t('hall.wait_start'));
  const parts = [h('div', t('halls.bids', { n: bids.length }))];
  if (s.phase === 'decrypting' || bids.some((b) => b.decrypt_status === 'decrypted')) {
    parts.push(h('div.small', t('hall.decrypted_count', { done: bids.filter((b) => b.decrypt_status === 'decrypted').length, all: bids.length })));
  }
  if (s.phase === 'unsealing') {
    const got = shares.filter((x) => x.submitted_at).length;
    parts.push(h('div.small', { class: got < s.threshold ? 'hash-bad' : '' }, t('hall.shares_progress', { got, t: s.threshold })));
  }
  const open = (s.objections || []).filter((o) => !o.answer).length;
  if (open) parts.push(h('div.small.hash-bad', t('hall.objections_open', { n: open })));
  return parts;
}

function render() {
  if (loadError && !rows) {
    replace(root, errorBlock(errorText(loadError), load));
    return;
  }
  if (!rows) {
    replace(root, loadingBlock());
    return;
  }
  updatedEl.textContent = updatedAt ? t('halls.updated', { at: formatCST(updatedAt, { seconds: true }).slice(11) }) : '';
  if (!rows.length) {
    replace(root, emptyBlock(t('halls.none'), t('halls.none_hint')), evaluationsBlock());
    return;
  }
  replace(root,
    loadError ? banner('warning', errorText(loadError)) : null,
    h('div.table-wrap',
      h('table#halls-table.table',
        h('thead', h('tr',
          h('th', { scope: 'col' }, t('field.title')),
          h('th.hide-mobile', { scope: 'col' }, t('field.agency')),
          h('th', { scope: 'col' }, t('hall.phase')),
          h('th', { scope: 'col' }, t('halls.progress')),
          h('th.hide-mobile', { scope: 'col' }, t('field.deadline')),
          h('th', { scope: 'col' }, h('span.visually-hidden', t('hall.enter'))))),
        h('tbody', rows.map((row) => {
          const x = row.tender;
          const p = phaseOf(row);
          const ends = row.state && p === 'decrypting' ? row.state.decrypt_ends_at : row.state && p === 'confirming' ? row.state.confirm_ends_at : null;
          const href = `/opening.html?tender=${encodeURIComponent(x.id)}`;
          return h('tr.hall-row', { dataset: { id: x.id, phase: p || '' } },
            h('td', h('a', { href }, x.title || x.code), h('div.small.muted.mono', x.code || ''), h('div.small.muted', purchaserName(x))),
            h('td.hide-mobile', agencyName(x)),
            h('td', h('span.badge.phase-badge', { dataset: { phase: p || '' } }, p ? label('phase', p) : '—'),
              ends ? h('div.small', countdown(ends, { done: 'hall.window_over' })) : null),
            h('td', counts(row)),
            h('td.hide-mobile.nowrap', formatCST(schedule(x).bid_deadline)),
            h('td', h('a.btn.btn-small.btn-primary.hall-link', { href, dataset: { tender: x.id } }, t('hall.enter'))));
        })))),
    evaluationsBlock());
  startCountdowns();
}

/** The evaluations in progress, below the openings: each row leads into its room. */
function evaluationsBlock() {
  return h('section#evaluations.halls-evaluations', { 'aria-labelledby': 'evaluations-heading' },
    h('h2#evaluations-heading.section-heading', t('halls.evaluations')),
    evaluations.length
      ? h('div.table-wrap',
        h('table#evaluations-table.table',
          h('thead', h('tr',
            h('th', { scope: 'col' }, t('field.title')),
            h('th.hide-mobile', { scope: 'col' }, t('field.agency')),
            h('th', { scope: 'col' }, h('span.visually-hidden', t('eval.enter'))))),
          h('tbody', evaluations.map((x) => {
            const href = `/evaluation.html?tender=${encodeURIComponent(x.id)}`;
            return h('tr.eval-row', { dataset: { id: x.id } },
              h('td', h('a', { href }, x.title || x.code), h('div.small.muted.mono', x.code || ''), h('div.small.muted', purchaserName(x))),
              h('td.hide-mobile', agencyName(x)),
              h('td', h('a.btn.btn-small.btn-primary.eval-link', { href, dataset: { tender: x.id } }, t('eval.enter'))));
          }))))
      : h('p.muted', t('halls.evaluations_none')));
}

async function main() {
  setPageTitle('halls.title');
  const me = await initLayout({ auth: 'required', active: 'halls' });
  if (!me || !isSupervisorRole(me.role)) {
    replace(root, banner('warning', t('halls.supervisors_only')));
    return;
  }
  render();
  await load();
  schedulePoll();
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) load();
  });
  onLangChange(render);
}

main();
