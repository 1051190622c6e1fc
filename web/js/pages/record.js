// 开标记录: the signed opening record of a closed opening (GET
// /api/tenders/{id}/opening/record), laid out for printing, with a JSON download and
// checks made in this browser: the platform's ECDSA P-256 signature over the record's
// canonical JSON (docs/ledger.md), the ledger's hash chain, that the record names the
// ledger head before `opening_closed`, and that `opening_closed` carries the record's
// SHA-256 — what `kaibiao verify record.json` checks offline.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, label, onLangChange, pickMessage } from '../i18n.js';
import { formatCST, formatMoney, amountInWords, shortHash } from '../format.js';
import { h, replace, param, loadingBlock, errorBlock, banner } from '../ui.js';
import { canonicalJson } from '../crypto/json.js';
import { fromB64url, sha256Hex, utf8 } from '../crypto/bytes.js';

const tenderId = param('tender');
const root = document.getElementById('record');
const alertEl = document.getElementById('record-alert');
const crumb = document.getElementById('crumb-tender');
const crumbLink = document.getElementById('crumb-tender-link');
const ZERO_HASH = '0'.repeat(64);

let signed = null;
let tender = null;
/** {signature: valid|invalid|other-cert|error|null, chain: {ok, n, bad}|null, head: bool|null, sha: bool|null} */
let checks = { signature: null, chain: null, head: null, sha: null };
let downloadUrl = null;

// ------------------------------------------------------------------ checks --

async function verifySignature() {
  const certs = await get('/api/pki/certificates');
  if (signed.signer_pem && certs.signer_pem && signed.signer_pem.trim() !== certs.signer_pem.trim()) return 'other-cert';
  const pub = fromB64url(certs.signer_public_key);
  const sig = fromB64url(signed.signature);
  if (!pub || !sig || sig.length !== 64) return 'invalid';
  const key = await crypto.subtle.importKey('raw', pub, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, utf8(canonicalJson(signed.record)));
  return ok ? 'valid' : 'invalid';
}

/** Recomputes every hash and link of the ledger (docs/ledger.md). */
async function verifyChain(ledger) {
  const events = (ledger && ledger.events) || [];
  let prev = ZERO_HASH;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    const c = canonicalJson({ actor: e.actor, at: e.at, body: e.body, kind: e.kind, seq: e.seq, tender: ledger.tender_id });
    const hash = await sha256Hex(utf8(prev + c));
    if (e.seq !== i + 1 || e.prev_hash !== prev || e.hash !== hash) return { ok: false, n: events.length, bad: e.seq };
    prev = hash;
  }
  if (ledger.head && ledger.head !== prev) return { ok: false, n: events.length, bad: 'head' };
  return { ok: true, n: events.length };
}

async function runChecks() {
  checks = { signature: null, chain: null, head: null, sha: null };
  render();
  try {
    checks.signature = await verifySignature();
  } catch (_) {
    checks.signature = 'error';
  }
  try {
    const ledger = signed.ledger || { events: [] };
    checks.chain = await verifyChain(ledger);
    const events = ledger.events || [];
    const closedAt = events.findIndex((e) => e.kind === 'opening_closed');
    const before = closedAt > 0 ? events[closedAt - 1] : null;
    checks.head = Boolean(before && signed.record.ledger_head === before.hash);
    const recordSha = await sha256Hex(utf8(canonicalJson(signed.record)));
    checks.sha = closedAt >= 0 && events[closedAt].body && events[closedAt].body.record_sha256 === recordSha;
  } catch (_) {
    checks.chain = checks.chain || { ok: false, n: 0, bad: '?' };
  }
  render();
}

// ------------------------------------------------------------------ view --

function checkLine(id, state, okText, badText, pendingText = t('bid.verifying')) {
  if (state === null || state === undefined) return h(`li#${id}.check-line.is-pending`, h('span.check-mark', { 'aria-hidden': 'true' }, '…'), pendingText);
  const ok = state === true || state === 'valid' || (state && state.ok === true);
  return h(`li#${id}.check-line`, { class: ok ? 'is-ok' : 'is-bad', dataset: { ok: String(ok) } },
    h('span.check-mark', { 'aria-hidden': 'true' }, ok ? '✓' : '✗'), ok ? okText : badText);
}

function checksBlock() {
  const sigBad = checks.signature === 'other-cert' ? t('bid.receipt_other_cert') : checks.signature === 'error' ? t('rec.sig_error') : t('rec.sig_bad');
  return h('section#record-checks.card.record-checks', { 'aria-labelledby': 'checks-heading' },
    h('div.card-head', h('h2#checks-heading', t('rec.checks'))),
    h('ul.check-list', { 'aria-live': 'polite' },
      checkLine('check-signature', checks.signature, t('rec.sig_ok'), sigBad),
      checkLine('check-chain', checks.chain, t('rec.chain_ok', { n: checks.chain ? checks.chain.n : 0 }), t('rec.chain_bad', { seq: checks.chain ? checks.chain.bad : '' })),
      checkLine('check-head', checks.head, t('rec.head_ok'), t('rec.head_bad')),
      checkLine('check-sha', checks.sha, t('rec.sha_ok'), t('rec.sha_bad'))),
    h('p.small.muted', t('rec.offline')));
}

function lotName(r, no) {
  // The record's lots carry the quorum; names are in the announcement.
  const lots = [...((tender && tender.lots) || []), ...(r.lots || [])];
  const lot = lots.find((l) => Number(l.lot_no) === Number(no) && l.name);
  return lot ? lot.name : t('bid.lot_n', { n: no });
}

/** How a bidder accepted the record: from `confirmations` [{bidder_org_id, how}]. */
function confirmationOf(r, b) {
  if (b.confirmation) return b.confirmation;
  const c = (r.confirmations || []).find((x) => x.bidder_org_id === b.bidder_org_id);
  return c ? c.how : null;
}

function bidsTable(r) {
  const bids = Array.isArray(r.bids) ? r.bids.slice().sort((a, b) => Number(a.lot_no) - Number(b.lot_no)) : [];
  if (!bids.length) return h('p.muted', t('hall.no_bids'));
  return h('div.table-wrap',
    h('table#record-bids.table.reading-table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('hall.col_bidder')),
        h('th', { scope: 'col' }, t('bid.col_lot')),
        h('th.num', { scope: 'col' }, t('bid.field_price')),
        h('th', { scope: 'col' }, t('bid.field_delivery')),
        h('th', { scope: 'col' }, t('bid.field_warranty')),
        h('th', { scope: 'col' }, t('hall.col_size')),
        h('th', { scope: 'col' }, t('hall.col_confirm')))),
      h('tbody', bids.map((b) => {
        const s = b.sheet;
        const name = (b.bidder && (b.bidder.name || b.bidder.display_name)) || b.bidder_name || '—';
        return h('tr.reading-row', { class: s ? '' : 'is-invalid', dataset: { bid: b.bid_id } },
          h('th', { scope: 'row' }, name),
          h('td', lotName(r, b.lot_no)),
          s
            ? [
              h('td.num', h('span.money.price', formatMoney(s.total_price_fen)), h('div.words', s.total_price_words || amountInWords(s.total_price_fen))),
              h('td.nowrap', `${s.delivery_days} ${t('bid.days')}`),
              h('td.nowrap', `${s.warranty_months} ${t('bid.months')}`),
              // As the hall read it out: the special status, brand and notes too.
              h('td', label('size', s.enterprise_size),
                s.special_status ? h('div.small.special-status', label('special', s.special_status)) : null,
                s.brand ? h('div.small.muted', `${t('hall.brand')}：${s.brand}`) : null,
                s.notes ? h('div.small.muted.prewrap', s.notes) : null),
            ]
            : h('td.invalid-cause', { colSpan: 4 },
              h('strong', b.cause && b.cause.deemed ? label('deemed', b.cause.deemed) : t('hall.invalid')), ' ',
              b.cause ? pickMessage(b.cause.message, b.cause.message_en) || b.cause.code : ''),
          h('td', confirmationOf(r, b) ? label('confirmation', confirmationOf(r, b)) : '—'));
      }))));
}

function objectionsList(r) {
  const list = Array.isArray(r.objections) ? r.objections : [];
  if (!list.length) return h('p.muted', t('hall.no_objections'));
  return h('ol.objection-list', list.map((o) => h('li.objection',
    h('div.objection-head', h('span.tag', label('hall.kind', o.kind)), h('strong', (o.bidder && o.bidder.name) || o.bidder_name || '—'),
      h('span.small.muted', formatCST(o.raised_at, { seconds: true }))),
    h('p.objection-text.prewrap', o.text),
    o.answer ? h('div.objection-answer', h('span.side-label', t('hall.answer')), h('p.prewrap', o.answer)) : null)));
}

/**
 * 签字栏: the host, the supervisors present, the custodians and each bidder as the record
 * keeps them: when they took part, each one's signed sign-in (签到) and how each bidder
 * accepted the record.
 */
function signatureTable(r) {
  const at = (v) => (v ? formatCST(v, { seconds: true }) : '—');
  const signIns = Array.isArray(r.sign_ins) ? r.sign_ins : [];
  const signed = (si) => (si
    ? [h('div', t('rec.sig_signed_in', { at: at(si.signed_in_at) })),
      h('div.small.mono.hash', { title: si.signature }, `${t('rec.sig_key')} ${shortHash(si.key_id, 12)}`)]
    : h('span.muted', t('rec.sig_not_signed_in')));
  const rows = [];
  const host = r.host && (r.host.display_name || r.host.name);
  const hostIn = signIns.find((x) => x.role === 'host');
  if (host || hostIn) {
    rows.push({ role: t('rec.sig_host'), name: host || hostIn.name, part: `${t('rec.started')} ${at(r.started_at)}`, sign: signed(hostIn) });
  }
  for (const x of signIns.filter((y) => y.role !== 'bidder' && y.role !== 'host')) {
    rows.push({ role: label('role', x.role), name: x.name, part: t('rec.sig_present'), sign: signed(x) });
  }
  for (const x of Array.isArray(r.custodian_shares) ? r.custodian_shares : []) {
    rows.push({ role: `${t('rec.sig_custodian')} ${x.index}`, name: x.custodian_name || '—', part: `${t('rec.sig_share')} ${at(x.submitted_at)}`, sign: '—' });
  }
  for (const c of Array.isArray(r.confirmations) ? r.confirmations : []) {
    rows.push({
      role: t('rec.sig_bidder'),
      name: c.bidder_name || '—',
      part: `${label('confirmation', c.how)} ${at(c.at)}`,
      sign: signed(signIns.find((x) => x.role === 'bidder' && x.org_id === c.bidder_org_id)),
      bidder: c.bidder_org_id,
    });
  }
  return h('div.table-wrap',
    h('table#record-signatures.table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('rec.sig_role')),
        h('th', { scope: 'col' }, t('rec.sig_name')),
        h('th', { scope: 'col' }, t('rec.sig_part')),
        h('th', { scope: 'col' }, t('rec.sig_sign')))),
      h('tbody', rows.map((x) => h('tr', { dataset: x.bidder ? { bidder: x.bidder } : {} },
        h('td', x.role), h('th', { scope: 'row' }, x.name), h('td', x.part), h('td', x.sign))))));
}

function render() {
  if (!signed) return;
  const r = signed.record || {};
  const title = r.title || (r.tender && r.tender.title) || (tender && tender.title) || '';
  const code = r.code || r.tender_code || (r.tender && r.tender.code) || (tender && tender.code) || '';
  const kv = (k, v) => h('div.kv-item', h('dt', t(k)), h('dd', v ?? '—'));
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(new Blob([`${JSON.stringify(signed, null, 2)}\n`], { type: 'application/json' }));
  const host = r.host && (r.host.display_name || r.host.name);
  replace(root,
    h('div.page-head.record-head',
      h('div',
        h('h1#record-title', t('rec.title')),
        h('p.page-lead', title)),
      h('div.page-actions',
        h('button#print-record.btn', { type: 'button', on: { click: () => window.print() } }, t('rec.print')),
        h('a#download-record.btn.btn-primary', { href: downloadUrl, download: `opening-record-${code || tenderId}.json`, type: 'application/json' }, t('rec.download')))),
    checksBlock(),
    h('section.card', { 'aria-labelledby': 'rec-overview' },
      h('div.card-head', h('h2#rec-overview', t('rec.overview'))),
      h('dl.kv',
        kv('field.code', h('span.mono', code || '—')),
        kv('field.title', title || '—'),
        kv('rec.host', host || '—'),
        kv('rec.started', formatCST(r.started_at, { seconds: true })),
        kv('rec.closed', formatCST(r.closed_at, { seconds: true })),
        kv('rec.decrypt_ends', formatCST(r.decrypt_ends_at, { seconds: true })),
        r.outcome ? kv('rec.outcome', h('strong#record-outcome', label('outcome', r.outcome))) : null,
        Array.isArray(r.custodian_shares)
          ? h('div.kv-item.kv-wide', h('dt', t('hall.shares', { t: r.threshold ?? '—', n: r.custodians ?? r.custodian_shares.length })),
            h('dd', r.custodian_shares.map((x) => h('div', `${t('cust.index')} ${x.index} · ${x.custodian_name || ''} · ${formatCST(x.submitted_at, { seconds: true })}`))))
          : null)),
    h('section.card', { 'aria-labelledby': 'rec-bids' },
      h('div.card-head', h('h2#rec-bids', t('hall.reading')), h('span.card-note', t('hall.reading_note'))),
      bidsTable(r)),
    h('section.card', { 'aria-labelledby': 'rec-objections' },
      h('div.card-head', h('h2#rec-objections', t('hall.objections'))),
      objectionsList(r)),
    h('section.card', { 'aria-labelledby': 'rec-sigs' },
      h('div.card-head', h('h2#rec-sigs', t('rec.sigs')), h('span.card-note', t('rec.sigs_note'))),
      signatureTable(r)),
    h('section.card.record-sign', { 'aria-labelledby': 'rec-sign' },
      h('div.card-head', h('h2#rec-sign', t('rec.signature'))),
      h('dl.kv',
        h('div.kv-item.kv-wide', h('dt', t('rec.ledger_head')), h('dd', h('span#record-head.hash', r.ledger_head || '—'))),
        h('div.kv-item.kv-wide', h('dt', t('rec.signature_value')), h('dd', h('span#record-signature.hash.signature', signed.signature || '—'))),
        h('div.kv-item.kv-wide', h('dt', t('rec.signer')), h('dd', h('details', h('summary.small', t('rec.show_pem')), h('pre.json', signed.signer_pem || ''))))),
      h('p.small.muted', t('rec.print_note', { at: formatCST(Date.now(), { seconds: true }) }))));
}

function renderTitle() {
  const r = (signed && signed.record) || {};
  const code = r.code || r.tender_code || (tender && tender.code) || '';
  if (code || tender) {
    crumb.hidden = false;
    crumbLink.textContent = code || (tender && tender.title) || '';
    crumbLink.href = `/opening.html?tender=${encodeURIComponent(tenderId)}`;
  }
  setPageTitle(() => `${t('rec.title')}${code ? ` · ${code}` : ''}`);
}

async function main() {
  setPageTitle('rec.title');
  await initLayout({ auth: 'required', active: 'console' });
  if (!tenderId) {
    replace(alertEl, errorBlock(t('common.missing_id')));
    return;
  }
  replace(root, loadingBlock());
  try {
    const [s, a] = await Promise.all([
      get(`/api/tenders/${encodeURIComponent(tenderId)}/opening/record`),
      get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null),
    ]);
    signed = s;
    tender = a && a.announcement ? { ...a, ...a.announcement } : a;
  } catch (e) {
    const code = e instanceof ApiError ? e.code : '';
    const text = code === 'ILLEGAL_TRANSITION' ? t('rec.not_closed') : e instanceof ApiError && (e.status === 403 || e.status === 404) ? t('hall.not_member') : errorText(e);
    replace(root, banner('warning', text), h('p', h('a.btn', { href: `/opening.html?tender=${encodeURIComponent(tenderId)}` }, t('hall.enter'))));
    return;
  }
  renderTitle();
  render();
  runChecks();
}

onLangChange(() => {
  renderTitle();
  render();
});

main();
