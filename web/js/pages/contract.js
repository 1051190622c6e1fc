// 合同文本: one contract of a tender laid out as the document both parties sign, for
// reading and for printing to PDF (the print stylesheet sets it in a Chinese serif face):
// the parties, the subject, the price in figures and in words, the terms, the template's
// clauses, the supplements, and a signature block with each party's signature, key and
// certificate fingerprint under the document's SHA-256 — which this browser recomputes
// from the document, as `kaibiao verify` does offline with the downloaded bundle.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, label, isEnglish, onLangChange } from '../i18n.js';
import { formatCST, formatMoney } from '../format.js';
import { h, replace, param, loadingBlock, errorBlock, banner } from '../ui.js';
import { canonicalJson } from '../crypto/json.js';
import { fromBase64, sha256Hex, utf8 } from '../crypto/bytes.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const lotNo = Number(param('lot') || 1);

let contract = null;
/** Whether the document's SHA-256 recomputed here matches the one signed (null: not yet). */
let digestOk = null;
/** The SHA-256 of each signature's certificate (DER), by key id. */
const fingerprints = {};

/** The SHA-256 of a PEM certificate's DER bytes, as `openssl x509 -fingerprint -sha256`. */
async function fingerprint(pem) {
  try {
    return await sha256Hex(fromBase64(String(pem).replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')));
  } catch (_) {
    return null;
  }
}

async function check() {
  digestOk = (await sha256Hex(utf8(canonicalJson(contract.document)))) === contract.document_sha256;
  for (const s of contract.signatures) fingerprints[s.key_id] = await fingerprint(s.cert_pem);
}

const DIGITS = '〇一二三四五六七八九';

/** 1 → 一, 10 → 十, 12 → 十二, 20 → 二十: articles are numbered in Chinese. */
function chineseNumber(n) {
  if (isEnglish()) return String(n);
  const tens = Math.floor(n / 10);
  const ones = n % 10;
  return `${tens > 1 ? DIGITS[tens] : ''}${tens ? '十' : ''}${ones ? DIGITS[ones] : ''}`;
}

const para = (n, heading, ...body) => h('section.contract-article',
  h('h2', t('con.article', { n: chineseNumber(n) }), ' ', heading), ...body);

function partyLine(role, org) {
  const size = org.enterprise_size ? label('size', org.enterprise_size) : null;
  return h('p.contract-party',
    h('strong', t(role)), h('span', org.name),
    h('span.small', t('con.credit_code'), ' ', h('span.mono', org.credit_code || '—')),
    size ? h('span.small', size) : null);
}

function signatureTable(d) {
  const rows = ['purchaser', 'supplier'].map((party) => {
    const s = contract.signatures.find((x) => x.party === party);
    const org = d[party] || {};
    return h('tr', { dataset: { party } },
      h('th', { scope: 'row' }, t(party === 'purchaser' ? 'con.party_a' : 'con.party_b'), h('div', org.name)),
      s
        ? h('td',
          h('div', t('con.signed_at'), ' ', formatCST(s.at, { seconds: true })),
          h('div', t('con.key_id'), ' ', h('span.mono', s.key_id)),
          h('div', t('con.cert_sha256'), ' ', h('span.hash', fingerprints[s.key_id] || '—')),
          h('div', t('con.signature_value'), ' ', h('span.hash.signature', s.signature)))
        : h('td.muted', t('con.unsigned')));
  });
  return h('table.contract-signatures', h('tbody', rows));
}

function render() {
  const d = contract.document;
  const terms = d.terms || {};
  const clauses = (d.clauses && d.clauses.clauses) || [];
  const en = isEnglish();
  const signed = contract.status === 'signed';
  let n = 0;
  const next = () => { n += 1; return n; };
  replace($('contract'),
    h('div.page-actions.no-print',
      h('button#contract-print.btn', { type: 'button', on: { click: () => window.print() } }, t('rec.print')),
      signed
        ? h('a#contract-download.btn.btn-primary', { href: `/api/contracts/${encodeURIComponent(contract.id)}/bundle`, download: `contract-${d.contract_no}.json` }, t('con.download'))
        : null),
    signed ? null : banner('warning', t('con.draft_mark')),
    h('article#contract-text.contract-text', { dataset: { status: contract.status }, lang: 'zh-CN' },
      h('h1', t('con.title')),
      h('p.contract-no', t('con.contract_no'), ' ', h('span#contract-no.mono', d.contract_no)),
      h('p.contract-project', `${d.tender.code} ${d.tender.title} · ${t('con.lot', { n: d.lot.lot_no })} ${d.lot.name}`),
      partyLine('con.party_a_full', d.purchaser),
      partyLine('con.party_b_full', d.supplier),
      h('p', t('con.preamble')),
      para(next(), t('con.subject'),
        (d.items || []).length
          ? h('ul', d.items.map((i) => h('li', i)))
          : h('p', t('con.subject_lot', { lot: d.lot.name })),
        d.brand ? h('p', t('con.brand'), ' ', d.brand) : null),
      para(next(), t('con.price'),
        h('p#contract-price', formatMoney(d.price_fen), '（', t('con.in_words'), ' ', d.price_words, '）')),
      para(next(), t('con.delivery'),
        h('p', t('con.delivery_days', { n: d.delivery_days }),
          terms.delivery_place ? `；${t('con.delivery_place')} ${terms.delivery_place}` : ''),
        d.warranty_months != null ? h('p', t('con.warranty', { n: d.warranty_months })) : null),
      para(next(), t('con.payment'),
        h('p', t('con.payment_days', { n: terms.payment_days })),
        h('p', (terms.instalments || []).map((i) => `${t(`con.when.${i.when}`)} ${i.share_bp / 100}%`).join('；')),
        terms.acceptance_experts ? h('p', t('con.acceptance_panel', { n: terms.acceptance_experts })) : null),
      terms.special_terms ? para(next(), t('con.special_terms'), h('p.contract-special', terms.special_terms)) : null,
      clauses.length ? para(next(), t('con.clauses'), h('ol', clauses.map((c) => h('li', en ? c.en : c.zh)))) : null,
      contract.supplements.length
        ? para(next(), t('con.supplements'), h('ul', contract.supplements.map((s) => h('li',
          `${formatCST(s.recorded_at)} · ${formatMoney(s.amount_fen)} · ${s.reason}`))))
        : null,
      para(next(), t('con.basis'),
        h('p', t('con.notice_sha256'), ' ', h('span.hash', d.notice_sha256 || '—')),
        h('p', t('con.letter_sha256'), ' ', h('span.hash', d.award_letter_sha256 || '—'))),
      h('section.contract-sign',
        h('h2', t('con.signatures')),
        signatureTable(d),
        h('p', t('con.document_sha256'), ' ', h('span#contract-sha256.hash', contract.document_sha256)),
        h('p#contract-digest-check', { dataset: { ok: String(digestOk) } },
          digestOk === null ? t('con.digest_checking') : t(digestOk ? 'con.digest_ok' : 'con.digest_bad')),
        h('p.small.muted', t('con.verify_note', { file: `contract-${d.contract_no}.json`, at: formatCST(Date.now(), { seconds: true }) })))));
}

async function main() {
  setPageTitle('con.text_title');
  await initLayout({ auth: 'optional', active: 'announcements' });
  if (!tenderId) return replace($('contract-alert'), errorBlock(t('common.missing_id')));
  replace($('contract'), loadingBlock());
  let view = null;
  try {
    view = await get(`/api/tenders/${encodeURIComponent(tenderId)}/contracts`);
  } catch (e) {
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('contract'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  contract = view.contracts.find((c) => c.lot_no === lotNo);
  if (!contract) return replace($('contract'), banner('warning', t('con.none')));
  const d = contract.document;
  $('crumb-tender').hidden = false;
  $('crumb-tender-link').textContent = d.tender.code;
  $('crumb-tender-link').href = `/contracts.html?tender=${encodeURIComponent(tenderId)}`;
  render();
  await check();
  render();
  onLangChange(render);
}

main();
