// 采购公告 detail: all fields, lots, schedule, amendments (更正公告), ledger link.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, label, onLangChange, withColon } from '../i18n.js';
import { formatCST, serverNow, amountInWords, formatMoney } from '../format.js';
import { h, replace, param, loadingBlock, errorBlock, banner, statusBadge, countdown, startCountdowns, copyText } from '../ui.js';
import { budgetTotal, schedule, regionName, purchaserName, agencyName, lotsTable, timeline, amendmentsList, ledgerEvents, cancelReasonFromLedger, evaluationCard, awardCard } from '../tenders.js';

const root = document.getElementById('announcement');
const crumb = document.getElementById('crumb-current');
const id = param('id');

let ann = null;
let regions = [];
let ledger = null;
let user = null;

function kv(items) {
  return h('dl.kv', items.filter(Boolean).map(([k, v, wide]) =>
    h('div.kv-item', { class: wide ? 'kv-wide' : '' }, h('dt', t(k)), h('dd', v ?? '—'))));
}

function deadlineCard(a) {
  const s = schedule(a);
  const closed = a.status !== 'published' || (s.bid_deadline !== null && s.bid_deadline <= serverNow());
  const total = budgetTotal(a);
  const heading = a.status === 'published' || a.status === 'sealed' ? (closed ? t('ann.closed_label') : t('ann.countdown_label')) : label('status', a.status);
  return h('aside.card.deadline-card.sticky.side-first', { class: closed ? 'is-closed' : '', 'aria-labelledby': 'deadline-label' },
    h('div#deadline-label.side-label', heading),
    s.bid_deadline !== null && !closed
      ? countdown(s.bid_deadline, { done: 'ann.closed_label', className: 'big-countdown' })
      : h('span.big-countdown.countdown.is-past', '—'),
    h('div.deadline-time', `${formatCST(s.bid_deadline)}`),
    h('div.small.muted', t('common.cst_note')),
    h('div.budget-block',
      h('div.side-label', t('field.budget_total')),
      h('div.money.money-large', total !== null ? formatMoney(total) : '—'),
      total !== null ? h('div.words', { lang: 'zh-CN' }, amountInWords(total)) : null),
    closed ? null : h('p.small.muted.bid-note', t('ann.bid_note')),
    a.status === 'awarded'
      ? h('a#result-link.btn.btn-primary.btn-block', { href: `/result.html?tender=${encodeURIComponent(a.id)}` }, t('res.link'))
      : null,
    user && user.role === 'supplier' && a.status !== 'cancelled'
      ? h('a#documents-link.btn.btn-block', { href: `/documents.html?tender=${encodeURIComponent(a.id)}` }, t('docs.link'))
      : null,
    !closed && user && user.role === 'supplier' && a.opening_key
      ? h('div.bid-online',
        h('a#bid-online.btn.btn-primary.btn-block.btn-large', { href: `/bid.html?tender=${encodeURIComponent(a.id)}` }, t('ann.bid_online')),
        h('p.small.muted', t('ann.bid_online_hint')),
        a.deposit_fen != null
          ? h('a#deposit-link.btn.btn-block', { href: `/deposits.html?tender=${encodeURIComponent(a.id)}` },
            `${t('deposit.record_link')}（${formatMoney(a.deposit_fen)}）`)
          : null)
      : null);
}

function ledgerCard(a) {
  const href = `/api/tenders/${encodeURIComponent(a.id)}/ledger`;
  const events = ledger ? ledgerEvents(ledger) : null;
  const cmd = `kaibiao verify ledger-${a.code || a.id}.json`;
  return h('section.card', { 'aria-labelledby': 'ledger-heading' },
    h('div.card-head', h('h2#ledger-heading', t('ann.ledger'))),
    h('div.ledger-box',
      h('p', t('ann.ledger_text')),
      h('pre', h('code', cmd)),
      h('p.action-bar',
        h('a#ledger-link.btn.btn-small', { href, download: `ledger-${a.code || a.id}.json`, type: 'application/json' }, t('ann.ledger_link')),
        h('a.small', { href, target: '_blank', rel: 'noopener' }, href)),
      ledger && ledger.head
        ? h('div.ledger-head',
          h('span', `${t('ann.ledger_head')}:`),
          h('button.btn.btn-ghost.btn-small.hash', { type: 'button', title: ledger.head, on: { click: () => copyText(ledger.head) } }, ledger.head),
          events ? h('span', t('ann.ledger_events', { n: events.length })) : null)
        : null));
}

function render() {
  const a = ann;
  const s = schedule(a);
  crumb.textContent = a.code || a.title || '';
  setPageTitle(() => a.title || t('ann.title'));
  replace(root,
    h('header.doc-head',
      h('div',
        h('div.announcement-tags',
          h('span#announcement-status', statusBadge(a.status)),
          a.method ? h('span.tag', label('method', a.method)) : null,
          a.category ? h('span.tag.tag-plain', label('category', a.category)) : null),
        h('h1#announcement-title.doc-title', a.title || '—'),
        h('div.doc-sub',
          a.code ? h('span', withColon(t('field.code')), h('span.mono', a.code)) : null,
          h('span', withColon(t('field.published_at')) + formatCST(s.published_at))))),
    a.status === 'cancelled'
      ? banner('warning', a.cancel_reason || (ledger && cancelReasonFromLedger(ledger)) || t('ann.cancelled_text'), { title: t('ann.cancelled_title') })
      : null,
    h('div.layout-2col',
      h('div.main-col',
        awardCard(ledger),
        h('section.card', { 'aria-labelledby': 'overview-heading' },
          h('div.card-head', h('h2#overview-heading', t('ann.overview'))),
          kv([
            ['field.title', a.title, true],
            ['field.code', a.code],
            ['field.status', label('status', a.status)],
            ['field.region', regionName(a, regions)],
            ['field.category', label('category', a.category)],
            ['field.purchaser', purchaserName(a)],
            ['field.agency', agencyName(a)],
            ['field.method', label('method', a.method)],
            ['field.budget_total', budgetTotal(a) !== null ? `${formatMoney(budgetTotal(a))}（${amountInWords(budgetTotal(a))}）` : '—'],
            ['deposit.amount_asked', a.deposit_fen != null ? formatMoney(a.deposit_fen) : t('deposit.none')],
            ['field.description', a.description ? h('div.prewrap', a.description) : '—', true],
          ])),
        h('section.card', { 'aria-labelledby': 'lots-heading' },
          h('div.card-head', h('h2#lots-heading', t('ann.lots'))),
          lotsTable(a.lots)),
        evaluationCard(a),
        h('section.card', { 'aria-labelledby': 'timeline-heading' },
          h('div.card-head', h('h2#timeline-heading', t('ann.timeline')), h('span.card-note', t('common.cst_note'))),
          timeline(a)),
        h('section#amendments.card', { 'aria-labelledby': 'amend-heading' },
          h('div.card-head', h('h2#amend-heading', t('ann.amendments'))),
          amendmentsList(a.amendments)),
        ledgerCard(a)),
      deadlineCard(a)));
  startCountdowns();
}

async function load() {
  replace(root, loadingBlock());
  try {
    const [a, r] = await Promise.all([
      get(`/api/announcements/${encodeURIComponent(id)}`),
      get('/api/regions').catch(() => []),
    ]);
    ann = a && a.announcement ? { ...a, ...a.announcement } : a;
    regions = Array.isArray(r) ? r : [];
    render();
    // The ledger head is a nice extra; the page does not depend on it.
    get(`/api/tenders/${encodeURIComponent(id)}/ledger`).then((l) => {
      ledger = l;
      render();
    }).catch(() => {});
  } catch (e) {
    const text = e instanceof ApiError && e.status === 404 ? t('common.not_found') : errorText(e);
    replace(root, errorBlock(text, e instanceof ApiError && e.status === 404 ? null : load),
      h('p', h('a.btn', { href: '/index.html' }, t('common.back_home'))));
  }
}

onLangChange(() => {
  if (ann) render();
});

async function main() {
  setPageTitle('ann.title');
  initLayout({ active: 'announcements' }).then((u) => {
    // A logged-in supplier gets the "bid online" button once the user is known.
    user = u;
    if (ann && user) render();
  });
  if (!id) {
    replace(root, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/index.html' }, t('common.back_home'))));
    return;
  }
  await load();
}

main();
