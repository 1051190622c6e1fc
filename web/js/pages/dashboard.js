// Per-role dashboard from GET /api/dashboard and /api/me.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, isSupervisorRole } from '../api.js';
import { t, label, has, onLangChange, withColon } from '../i18n.js';
import { formatMoney, formatCST, serverNow } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, statusBadge, countdown, startCountdowns } from '../ui.js';
import { budgetTotal, schedule, purchaserName } from '../tenders.js';
import { HubRoom } from '../hub.js';

const root = document.getElementById('dashboard');
const TENDER_ROLES = ['agency', 'purchaser', 'finance', 'oversight', 'admin'];
const HALL_STATUSES = ['sealed', 'opening'];
const EVAL_STATUSES = ['evaluating', 'awarded'];

let user = null;
let dash = null;
let openAnnouncements = null;
let loadError = null;
/** The hub rooms of the tenders under evaluation this supplier bid on, by tender id. */
const watched = new Map();
/** The latest live news for this supplier: {title, at}. */
let liveNote = null;
let reloadTimer = null;

function countLabel(key) {
  const k = `count.${key}`;
  if (has(k)) return t(k);
  if (has(`status.${key}`)) return t(`status.${key}`);
  return key.replace(/_/g, ' ');
}

// Tiles in a deliberate order (the server's map comes sorted by key).
const TILE_ORDER = ['total', 'assignments', 'evaluations', 'open_tenders', 'draft', 'published', 'sealed', 'opening',
  'evaluating', 'awarded', 'failed', 'cancelled', 'organisations', 'users', 'experts'];
const STATUSES = ['draft', 'published', 'sealed', 'opening', 'evaluating', 'awarded', 'failed', 'cancelled'];

function tiles(counts) {
  const c = { ...(counts || {}) };
  if (c.total === undefined && STATUSES.some((k) => k in c)) {
    c.total = STATUSES.reduce((sum, k) => sum + (Number(c[k]) || 0), 0);
  }
  const rank = (k) => (TILE_ORDER.includes(k) ? TILE_ORDER.indexOf(k) : TILE_ORDER.length);
  const entries = Object.entries(c)
    .filter(([, v]) => typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v)))
    .sort(([a], [b]) => rank(a) - rank(b));
  if (!entries.length) return null;
  return h('section', { 'aria-labelledby': 'counts-heading' },
    h('h2#counts-heading.visually-hidden', t('dash.counts')),
    h('div#count-tiles.tiles', entries.map(([k, v]) =>
      h('div.tile', { class: `tile-${k.replace(/[^a-z_]/gi, '')}`, dataset: { count: k } },
        h('span.tile-value', String(v)),
        h('span.tile-label', countLabel(k))))));
}

/** The live room of a tender in its list row: the opening hall, then the evaluation room. */
function roomLink(x) {
  const id = encodeURIComponent(x.id);
  if (HALL_STATUSES.includes(x.status)) return h('a.hall-link.small', { href: `/opening.html?tender=${id}`, dataset: { tender: x.id } }, t('hall.enter'));
  if (EVAL_STATUSES.includes(x.status)) return h('a.hall-link.eval-link.small', { href: `/evaluation.html?tender=${id}`, dataset: { tender: x.id } }, t('eval.enter'));
  return null;
}

function tendersTable(list) {
  if (!list.length) return emptyBlock(t('dash.no_tenders'));
  return h('div.table-wrap',
    h('table#tender-table.table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('field.title')),
        h('th.hide-mobile', { scope: 'col' }, t('field.code')),
        h('th', { scope: 'col' }, t('field.status')),
        h('th.hide-mobile', { scope: 'col' }, t('field.purchaser')),
        h('th.num.hide-mobile', { scope: 'col' }, t('field.budget_total')),
        h('th', { scope: 'col' }, t('field.deadline')))),
      h('tbody', list.map((x) => {
        const s = schedule(x);
        const total = budgetTotal(x);
        return h('tr.tender-row', { dataset: { id: x.id } },
          h('td', h('a', { href: `/tender.html?id=${encodeURIComponent(x.id)}` }, x.title || x.code || x.id)),
          h('td.hide-mobile.mono.small.nowrap', x.code || '—'),
          h('td', statusBadge(x.status), roomLink(x)),
          h('td.hide-mobile', purchaserName(x)),
          h('td.num.hide-mobile.money', total !== null ? formatMoney(total) : '—'),
          h('td.nowrap', formatCST(s.bid_deadline)));
      }))));
}

function announcementsBlock(list) {
  if (list === null) return loadingBlock();
  const now = serverNow();
  const open = list.filter((a) => a.status === 'published' && !(schedule(a).bid_deadline <= now));
  if (!open.length) return emptyBlock(t('dash.no_open'));
  return h('ul.announcement-list', open.map((a) => {
    const s = schedule(a);
    const total = budgetTotal(a);
    return h('li.announcement', { dataset: { id: a.id } },
      h('div.announcement-main',
        h('div.announcement-tags', statusBadge(a.status), a.method ? h('span.tag', label('method', a.method)) : null),
        h('h3.announcement-title', h('a', { href: `/announcement.html?id=${encodeURIComponent(a.id)}` }, a.title || '—')),
        h('dl.announcement-meta',
          a.code ? h('div', h('dt', t('field.code')), h('dd', a.code)) : null,
          h('div', h('dt', t('field.purchaser')), h('dd', purchaserName(a))))),
      h('div.announcement-side',
        h('span.side-label', t('field.budget_total')),
        h('span.side-budget', total !== null ? formatMoney(total) : '—'),
        h('span.side-deadline', `${t('field.deadline')} ${formatCST(s.bid_deadline)}`),
        s.bid_deadline !== null ? countdown(s.bid_deadline, { format: 'list.opens_in', done: 'list.closed', className: 'side-countdown' }) : null,
        h('a.btn.btn-primary.btn-small.bid-link', { href: `/bid.html?tender=${encodeURIComponent(a.id)}`, dataset: { tender: a.id } }, t('dash.bid_online'))));
  }));
}

function render() {
  if (loadError) {
    replace(root, errorBlock(errorText(loadError), load));
    return;
  }
  if (!dash) {
    replace(root, loadingBlock());
    return;
  }
  const role = user.role || dash.role;
  const org = user.org && user.org.name;
  const tenders = Array.isArray(dash.tenders) ? dash.tenders : [];
  const sections = [];

  sections.push(h('div.page-head.greeting',
    h('div.greeting-text',
      h('h1#greeting', t('dash.hello', { name: user.display_name || user.username })),
      h('div.greeting-sub',
        h('span#user-role.tag', label('role', role)),
        org ? h('span#user-org', org) : null)),
    role === 'agency'
      ? null
      : h('div.page-actions', h('a.btn', { href: '/index.html' }, t('dash.all_announcements')))));

  if (role === 'agency') {
    sections.push(h('div.cta-new',
      h('div', h('h2', t('dash.cta_title')), h('p', t('form.lead'))),
      h('a#new-tender.btn.btn-large', { href: '/tender-form.html' }, h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), t('dash.new_tender'))));
  }

  sections.push(tiles(dash.counts));

  if (TENDER_ROLES.includes(role)) {
    sections.push(h('section.card', { 'aria-labelledby': 'tenders-heading' },
      h('div.card-head',
        h('h2#tenders-heading', role === 'agency' || role === 'purchaser' ? t('dash.my_tenders') : t('dash.tenders')),
        h('span.card-note', t('list.times_note'))),
      tendersTable(tenders)));
  }

  if (role === 'supplier') {
    sections.push(h('section.card', { 'aria-labelledby': 'open-heading' },
      h('div.card-head',
        h('h2#open-heading', t('dash.open_announcements')),
        h('a.btn.btn-small', { href: '/index.html' }, t('dash.all_announcements'))),
      h('p.card-note', t('dash.supplier_note_online')),
      announcementsBlock(openAnnouncements)));
  }

  if (role === 'supplier') {
    // Every tender this supplier has a bid in, until the contract, with what awaits it:
    // the opening, decrypting, the record to confirm, a clarification to answer, the result.
    const mine = Array.isArray(dash.my_bids) ? dash.my_bids : [];
    sections.push(h('section#dash-my-bids.card', { 'aria-labelledby': 'my-bids-heading' },
      h('div.card-head', h('h2#my-bids-heading', t('dash.my_bids')), h('span.tag', String(mine.length))),
      // New requests are told here as they arrive, without a reload.
      h('div#dash-live', { 'aria-live': 'polite' }, liveNote
        ? banner('success', t('dash.live_clarification', { title: liveNote.title, at: formatCST(liveNote.at, { seconds: true }) }))
        : null),
      mine.length
        ? h('ul.hall-links.dash-bid-list', mine.map((m) => {
          const x = m.tender;
          const href = m.opening_phase ? `/opening.html?tender=${encodeURIComponent(x.id)}` : `/bid.html?tender=${encodeURIComponent(x.id)}`;
          return h('li.dash-bid', { dataset: { tender: x.id } },
            statusBadge(x.status), ' ',
            h('a.hall-link', { href, dataset: { tender: x.id } }, x.title || x.code),
            h('span.dash-bid-awaits', (m.awaits || []).map((a) => h('span.tag.await', { dataset: { await: a } },
              t(`dash.await_${a}`, { n: m.open_clarifications })))));
        }))
        : h('p.muted.small', t('dash.my_bids_none'))));
  }

  if (role === 'expert') {
    const counts = dash.counts || {};
    const n = Number(counts.evaluations ?? counts.assignments ?? 0);
    // The tenders whose panel the expert was drawn for, each leading into its room.
    const rooms = Array.isArray(dash.tenders) ? dash.tenders : [];
    sections.push(h('section#expert-tasks.card', { 'aria-labelledby': 'expert-heading' },
      h('div.card-head', h('h2#expert-heading', t('dash.expert_tasks'))),
      rooms.length
        ? [h('p.card-note', t('dash.evaluations_note')),
          h('ul.hall-links', rooms.map((x) => h('li',
            statusBadge(x.status), ' ',
            h('a.hall-link.eval-link', { href: `/evaluation.html?tender=${encodeURIComponent(x.id)}`, dataset: { tender: x.id } }, x.title || x.code || x.id))))]
        : n > 0
          ? h('p', withColon(t('count.evaluations')) + n)
          : h('div.placeholder-area', emptyBlock(t('dash.expert_none')))));
  }

  // Acceptance reports waiting for this user's signature as a member of the panel.
  const toSign = Array.isArray(dash.acceptances_to_sign) ? dash.acceptances_to_sign : [];
  if (toSign.length) {
    sections.push(h('section#acceptances-to-sign.card', { 'aria-labelledby': 'to-sign-heading' },
      h('div.card-head', h('h2#to-sign-heading', t('dash.acceptances_to_sign')), h('span.tag', String(toSign.length))),
      h('p.card-note', t('dash.acceptances_note')),
      h('ul.hall-links', toSign.map((x) => h('li',
        h('a.hall-link.acceptance-link', { href: `/fulfilment.html?tender=${encodeURIComponent(x.tender_id)}`, dataset: { acceptance: x.acceptance_id } },
          t('dash.acceptance_item', { no: x.contract_no, n: x.round })),
        ' ', h('span.small.muted', formatCST(x.recorded_at)))))));
  }

  if (role === 'bank') {
    const open = Number((dash.counts || {}).financing_open ?? 0);
    sections.push(h('section#bank-cases.card', { 'aria-labelledby': 'bank-heading' },
      h('div.card-head', h('h2#bank-heading', t('fin.title'))),
      h('p.card-note', t('dash.bank_note', { n: open })),
      h('a#financing-link.btn.btn-primary', { href: '/financing.html' }, t('dash.bank_link'))));
  }

  if (isSupervisorRole(role)) {
    sections.push(h('section.card', { 'aria-labelledby': 'audit-heading' },
      h('div.card-head', h('h2#audit-heading', t('dash.audit'))),
      h('p.card-note', t('dash.audit_text')),
      h('a#audit-link.btn', { href: '/audit.html' }, t('dash.audit_link'))));
  }

  replace(root, ...sections.filter(Boolean));
  startCountdowns();
}

/**
 * While a tender this supplier bid on is under evaluation, the panel may ask it to
 * clarify: its hall's hub room brings the request, and the list is read again.
 */
function watchEvaluations() {
  const mine = (dash && Array.isArray(dash.my_bids)) ? dash.my_bids : [];
  const want = new Set(mine.filter((m) => m.tender && m.tender.status === 'evaluating').slice(0, 8).map((m) => m.tender.id));
  for (const [id, room] of watched) {
    if (!want.has(id)) {
      room.stop();
      watched.delete(id);
    }
  }
  for (const id of want) {
    if (watched.has(id)) continue;
    // The room replays its history first: only events after the first `subscribed`
    // (whose seq is the last replayed) are news.
    let liveFrom = null;
    const room = new HubRoom(`opening:${id}`, {
      onSubscribed: (msg) => {
        if (liveFrom === null) liveFrom = Number(msg.seq) || 0;
      },
      onEvent: (e) => {
        if (e.kind !== 'clarification_requested' || liveFrom === null || Number(e.seq) <= liveFrom) return;
        const m = ((dash && dash.my_bids) || []).find((x) => x.tender && x.tender.id === id);
        liveNote = { title: m ? (m.tender.title || m.tender.code) : id, at: e.at };
        clearTimeout(reloadTimer);
        reloadTimer = setTimeout(refresh, 300);
      },
    });
    watched.set(id, room.start());
  }
}

/** Reads the dashboard again in place (no loading state). */
async function refresh() {
  try {
    dash = await get('/api/dashboard');
  } catch (_) {
    return;
  }
  render();
  watchEvaluations();
}

async function load() {
  loadError = null;
  dash = null;
  render();
  try {
    dash = await get('/api/dashboard');
    render();
    watchEvaluations();
  } catch (e) {
    loadError = e;
    render();
    return;
  }
  if ((user.role || dash.role) === 'supplier') {
    commitmentBanner();
    try {
      // The server sends a supplier the open announcements as `tenders`.
      const list = Array.isArray(dash.tenders) ? dash.tenders : await get('/api/announcements');
      openAnnouncements = Array.isArray(list) ? list : [];
    } catch (_) {
      openAnnouncements = [];
    }
    render();
  }
}

/** A supplier that signed itself up bids once it has signed its credit commitment. */
async function commitmentBanner() {
  try {
    const c = await get('/api/suppliers/me/commitment');
    if (c.required && !c.signed_at) {
      replace(document.getElementById('commitment-banner'), banner('warning', t('commitment.needed'), {
        action: h('a#to-commitment.btn.btn-small', { href: '/commitment.html' }, t('commitment.sign_now')),
      }));
    }
  } catch (_) {
    /* the dashboard works without it */
  }
}

onLangChange(render);

async function main() {
  setPageTitle('dash.title');
  replace(root, loadingBlock());
  user = await initLayout({ auth: 'required', active: 'dashboard' });
  await load();
}

main();
