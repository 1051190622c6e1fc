// 评标报告: the evaluation report (GET /api/tenders/{id}/evaluation/report) laid out for
// printing, like the opening record: the panel by seat (by name once the award makes the
// names public), the reviews, each lot's ranking with every bid's derivation in the
// reader's language, the revisions, the clarifications and the signatures; a JSON
// download; and checks made in this browser — the report's SHA-256 is the one
// `scoring_closed` put in the ledger, and how many seats have signed. `kaibiao verify`
// checks the signatures and certificates offline.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, label, noteText, onLangChange } from '../i18n.js';
import { formatCST, formatMoney, shortHash } from '../format.js';
import { h, replace, param, loadingBlock, errorBlock, banner } from '../ui.js';
import { canonicalJson } from '../crypto/json.js';
import { fromB64url, sha256Hex, toHex, utf8 } from '../crypto/bytes.js';
import { pct } from '../tenders.js';

const tenderId = param('tender');
const root = document.getElementById('report');
const alertEl = document.getElementById('report-alert');
const crumb = document.getElementById('crumb-tender');
const crumbLink = document.getElementById('crumb-tender-link');

let bundle = null;
/** Names by seat, when the viewer may know them (the evaluation view decides). */
let names = new Map();
let shaOk = null;
let downloadUrl = null;

const points = (v) => (v === null || v === undefined ? '—' : (Number(v) / 100).toFixed(2));
const seatName = (n) => names.get(Number(n)) || t('eval.seat_n', { n });

async function check() {
  try {
    const digest = await sha256Hex(utf8(canonicalJson(bundle.report)));
    const events = (bundle.ledger && bundle.ledger.events) || [];
    shaOk = digest === bundle.report_sha256
      && events.some((e) => e.kind === 'scoring_closed' && e.body && e.body.report_sha256 === digest);
  } catch (_) {
    shaOk = false;
  }
  render();
}

function checkLine(id, ok, okText, badText) {
  if (ok === null) return h(`li#${id}.check-line.is-pending`, h('span.check-mark', { 'aria-hidden': 'true' }, '…'), t('bid.verifying'));
  return h(`li#${id}.check-line`, { class: ok ? 'is-ok' : 'is-bad', dataset: { ok: String(ok) } },
    h('span.check-mark', { 'aria-hidden': 'true' }, ok ? '✓' : '✗'), ok ? okText : badText);
}

function bidderOf(lot, id) {
  return (lot.bidders && lot.bidders[id]) || id;
}

function lotBlock(lot) {
  const head = h('h3.small-heading', t('bid.lot_n', { n: lot.lot_no }));
  if (lot.failed) return h('div.report-lot', { dataset: { lot: lot.lot_no } }, head, banner('warning', t('rep.lot_failed')));
  const r = lot.result || {};
  const ranking = r.ranking || [];
  const byBid = new Map((r.bids || []).map((b) => [b.bidder, b]));
  return h('div.report-lot', { dataset: { lot: lot.lot_no } }, head,
    h('p.small.muted', label('emethod', r.method), ' · ', t('eval.benchmark'), ' ', formatMoney(r.benchmark_fen)),
    h('div.table-wrap', h('table.table.report-ranking',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('eval.rank')),
        h('th', { scope: 'col' }, t('hall.col_bidder')),
        h('th.num', { scope: 'col' }, t('eval.total')),
        h('th.num', { scope: 'col' }, t('eval.evaluated_price')))),
      h('tbody', ranking.map((x) => h('tr.rank-row', { dataset: { rank: x.rank } },
        h('td', String(x.rank), x.unresolved_tie ? h('span.tag', t('eval.tie')) : null),
        h('th', { scope: 'row' }, bidderOf(lot, x.bidder)),
        h('td.num', points(x.total)),
        h('td.num.money', formatMoney(x.evaluated_fen))))))),
    ranking.map((x) => {
      const b = byBid.get(x.bidder);
      if (!b) return null;
      const p = b.price || {};
      return h('div.report-derivation', { dataset: { bid: x.bidder } },
        h('strong', bidderOf(lot, x.bidder)),
        p.formula ? h('p.mono.small.derive-formula', t('eval.evaluated_formula', { formula: p.formula })) : null,
        (p.notes || []).length ? h('ul.derive-notes.small', p.notes.map((n) => h('li', n && n.code ? [h('span.tag', n.code), ' '] : null, noteText(n)))) : null,
        b.abnormally_low ? h('p.small', h('span.tag', 'R-EVAL-8'), ' ', noteText(b.abnormally_low.note)) : null,
        b.score ? [
          h('ul.small', b.score.items.map((it) => h('li', `${it.name === 'price' ? t('eval.item_price') : it.name}：${points(it.score)} × ${pct(it.weight_bp)} = ${points(it.points)}`))),
          b.score.price_formula ? h('p.mono.small.derive-formula', t('eval.price_formula', { formula: b.score.price_formula })) : null,
          h('p.mono.small.derive-formula', b.score.price_formula ? t('eval.total_formula', { formula: b.score.formula }) : b.score.formula),
          b.score.rounding ? h('p.small.muted', t(`eval.rounding.${b.score.rounding}`)) : null,
        ] : null);
    }),
    (lot.invalid || []).length
      ? h('ul.small.report-invalid', lot.invalid.map((x) => h('li', h('strong', x.bidder || x.bid_id), '：',
        typeof x.note === 'object' ? noteText(x.note) : label('cause', x.cause))))
      : null);
}

function reviewsBlock(rep) {
  const q = rep.qualification || [];
  const c = rep.compliance || [];
  return h('section.card', { 'aria-labelledby': 'rep-reviews' },
    h('div.card-head', h('h2#rep-reviews', t('rep.reviews'))),
    q.length ? [h('h3.small-heading', t('eval.qualification')), h('ul.small', q.map((x) => h('li', `${x.bidder}：${x.pass ? t('rep.pass') : t('rep.fail')}`, x.reason ? `（${x.reason}）` : '')))] : null,
    c.length ? [h('h3.small-heading', t('eval.compliance')), h('ul.small', c.map((x) => h('li', `${x.bidder}：${x.compliant ? t('rep.pass') : t('rep.fail')} · `,
      (x.reviews || []).map((r) => `${seatName(r.seat)} ${r.pass ? '✓' : '✗'}${r.reason ? `（${r.reason}）` : ''}`).join('，'),
      criteriaTable(x))))] : null);
}

/** 符合性审查表: per criterion, the panel's passes and failures and the majority. */
function criteriaTable(x) {
  if (!Array.isArray(x.criteria) || !x.criteria.length) return null;
  return h('table.table.report-criteria', { dataset: { bid: x.bid_id } },
    h('thead', h('tr', h('th', t('eval.check_criterion')), h('th', t('eval.check_pass')), h('th', t('eval.check_fail')), h('th', t('rep.majority')))),
    h('tbody', x.criteria.map((c) => h('tr', { dataset: { criterion: c.name } }, h('td', c.name), h('td.num', String(c.pass)), h('td.num', String(c.fail)),
      h('td', c.pass > c.fail ? `✓ ${t('eval.check_pass')}` : `✗ ${t('eval.check_fail')}`)))));
}

/**
 * 签字栏: a row per seat of the panel, the chair (评标组长) first, with when it signed, the
 * signature, and its dissent; a seat still to sign shows so.
 */
function sigHex(b64) {
  try {
    return toHex(fromB64url(b64));
  } catch (_) {
    return '';
  }
}

function signatureTable(rep, sigs) {
  const chair = rep.chair_seat;
  const seats = (rep.panel || []).map((p) => Number(p.seat))
    .sort((a, b) => (a === chair ? -1 : b === chair ? 1 : a - b));
  return h('div.table-wrap',
    h('table#report-signatures.table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('rep.sig_seat')),
        h('th', { scope: 'col' }, t('rep.sig_at')),
        h('th', { scope: 'col' }, t('rep.sig_value')),
        h('th', { scope: 'col' }, t('rep.sig_opinion')))),
      h('tbody', seats.map((seat) => {
        const s = sigs.find((x) => Number(x.seat) === seat);
        return h('tr', { dataset: { seat: String(seat), signed: String(Boolean(s)) } },
          h('th', { scope: 'row' }, seatName(seat), seat === chair ? h('span.tag.chair-tag', t('eval.chair')) : null),
          h('td', s ? formatCST(s.at, { seconds: true }) : h('span.muted', t('rep.sig_pending'))),
          // r‖s in hex: what the certificate's key signed (the JSON has it whole).
          h('td.mono.small', s ? shortHash(sigHex(s.signature), 16) : '—'),
          h('td', s ? (s.dissent ? h('div.prewrap', `${t('eval.dissent')}：${s.dissent}`) : t('rep.sig_agree')) : '—'));
      }))));
}

function render() {
  if (!bundle) return;
  const rep = bundle.report || {};
  const tender = rep.tender || {};
  const sigs = bundle.signatures || [];
  const panel = rep.panel || [];
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([`${JSON.stringify(bundle, null, 2)}\n`], { type: 'application/json' }));
  const kv = (k, v) => h('div.kv-item', h('dt', t(k)), h('dd', v ?? '—'));
  replace(root,
    h('div.page-head.record-head',
      h('div', h('h1#report-title', t('rep.title')), h('p.page-lead', tender.title || '')),
      h('div.page-actions',
        h('button#print-report.btn', { type: 'button', on: { click: () => window.print() } }, t('rec.print')),
        h('a#download-report.btn.btn-primary', { href: downloadUrl, download: `evaluation-report-${tender.code || tenderId}.json`, type: 'application/json' }, t('rec.download')))),
    h('section#report-checks.card.record-checks', { 'aria-labelledby': 'rep-checks' },
      h('div.card-head', h('h2#rep-checks', t('rec.checks'))),
      h('ul.check-list', { 'aria-live': 'polite' },
        checkLine('check-report-sha', shaOk, t('rep.sha_ok'), t('rep.sha_bad')),
        checkLine('check-signed', sigs.length >= panel.length && panel.length > 0, t('rep.signed_all', { n: sigs.length }), t('rep.signed_some', { n: sigs.length, of: panel.length }))),
      h('p.small.muted', t('rep.offline'))),
    h('section.card', { 'aria-labelledby': 'rep-overview' },
      h('div.card-head', h('h2#rep-overview', t('rec.overview'))),
      h('dl.kv',
        kv('field.code', h('span.mono', tender.code || '—')),
        kv('field.title', tender.title || '—'),
        kv('field.method', label('method', tender.method)),
        kv('rep.closed', formatCST(rep.closed_at, { seconds: true })),
        h('div.kv-item.kv-wide', h('dt', t('rep.panel')), h('dd#report-panel', panel.map((p) => h('span.tag', seatName(p.seat))))))),
    reviewsBlock(rep),
    h('section.card', { 'aria-labelledby': 'rep-lots' },
      h('div.card-head', h('h2#rep-lots', t('rep.results'))),
      (rep.lots || []).map(lotBlock)),
    (rep.changes || []).length
      ? h('section.card', { 'aria-labelledby': 'rep-changes' },
        h('div.card-head', h('h2#rep-changes', t('rep.changes'))),
        h('ul.small', rep.changes.map((c) => h('li', `${seatName(c.seat)} · ${c.item}：${c.from} → ${c.to}（${label('change', c.kind)}）${c.reason}`))))
      : null,
    h('section.card.record-sign', { 'aria-labelledby': 'rep-sign' },
      h('div.card-head', h('h2#rep-sign', t('rep.signatures'))),
      signatureTable(rep, sigs),
      h('p.small.muted', t('rep.print_note', { at: formatCST(Date.now(), { seconds: true }) }))));
}

async function main() {
  setPageTitle('rep.title');
  await initLayout({ auth: 'required', active: 'console' });
  if (!tenderId) {
    replace(alertEl, errorBlock(t('common.missing_id')));
    return;
  }
  replace(root, loadingBlock());
  try {
    const [b, v] = await Promise.all([
      get(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation/report`),
      get(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation`).catch(() => null),
    ]);
    bundle = b;
    names = new Map(((v && v.panel) || []).filter((p) => p.name && p.status === 'accepted').map((p) => [Number(p.seat), p.name]));
  } catch (e) {
    const text = e instanceof ApiError && (e.status === 403 || e.status === 404) ? t('rep.not_available') : errorText(e);
    replace(root, banner('warning', text), h('p', h('a.btn', { href: `/evaluation.html?tender=${encodeURIComponent(tenderId)}` }, t('eval.enter'))));
    return;
  }
  const code = (bundle.report && bundle.report.tender && bundle.report.tender.code) || '';
  crumb.hidden = false;
  crumbLink.textContent = code;
  crumbLink.href = `/evaluation.html?tender=${encodeURIComponent(tenderId)}`;
  setPageTitle(() => `${t('rep.title')}${code ? ` · ${code}` : ''}`);
  render();
  check();
}

onLangChange(render);

main();
