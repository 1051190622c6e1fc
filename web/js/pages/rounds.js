// Rounds of offers (docs/rounds.md), the live room `rounds:<tender id>`: the host begins
// the negotiation; the host or a panel member sends written notices to every supplier and
// opens rounds, the last the final offers; a supplier seals its offer on this device
// (crypto/package.js sealBid, the bid's keys) and, once the round has closed, releases the
// offer's key from this device; all offers of a round appear together when they are read.
// No supplier ever sees another's offer.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError, refreshMe, isSupervisorRole } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatCST, formatMoney, amountInWords, formatCountdown, parseYuanToFen, shortHash } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, openDialog, toast, busy } from '../ui.js';
import { LiveRoom } from '../room.js';
import { keyImportPanel } from '../keyimport.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { MAGIC, parseHeader, unsealKb } from '../crypto/kb1.js';
import { sealBid, ENTERPRISE_SIZES } from '../crypto/package.js';
import { canonicalJson } from '../crypto/json.js';
import { concat, fromB64url, toB64url, u32be, utf8, wipe } from '../crypto/bytes.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const MINUTE = 60_000;
const els = {
  alert: $('rounds-alert'),
  loading: $('rounds-loading'),
  page: $('rounds-page'),
  phase: $('rounds-phase'),
  actions: $('rounds-actions'),
  list: $('rounds-list'),
  notices: $('rounds-notices'),
  talk: $('rounds-talk'),
  result: $('rounds-result'),
  minutes: $('rounds-minutes'),
};

let me = null;
let st = null;
let tender = null;
let myOrg = null;
let keys = { state: 'checking', record: null };
/** The server's clock minus this browser's, from the view's `now`. */
let offset = 0;
const now = () => Date.now() + offset;
/** The offer being sealed: {step: sealing|uploading|done|error, done, total, error}. */
let sealing = null;
/** offer id → {step: unsealing|sending|done|error, error} */
const decrypts = new Map();
let refetchTimer = null;
// Widgets kept across re-renders, so typing is never lost.
let noticeForm = null;
let roundForm = null;
let offerForm = null;
let keyPanelEl = null;
let minutesForm = null;
let talkForm = null;
/** The supplier whose thread the tender's side is reading. */
let talkWith = null;

const room = new LiveRoom('rounds', tenderId, {
  slots: { conn: $('rounds-conn'), presence: $('rounds-presence'), feed: $('rounds-feed'), media: $('rounds-media') },
  presenceHeading: 'rounds-presence-heading',
  feedHeading: 'rounds-feed-heading',
  feedTitle: 'rounds.feed',
  eventText: (e) => t(`ledger.${e.kind}`),
  onEvent: () => {
    room.renderFeed();
    scheduleRefetch();
  },
  onSubscribed: () => refetch(),
  onFailed: (error) => showBanner(els.alert, 'warning', errorText(error)),
});

const conducts = () => Boolean(st && st.me && (st.me.is_host || st.me.on_panel));
const isSupplier = () => Boolean(st && st.me && st.me.supplier);
const openRound = () => (st ? st.rounds.find((r) => r.status !== 'revealed') : null);
const myOffer = (r) => (r ? r.offers.find((o) => st.me.supplier && o.org_id === st.me.supplier) : null);

async function fetchState() {
  const v = await get(`/api/tenders/${encodeURIComponent(tenderId)}/rounds`);
  offset = v.now - Date.now();
  return v;
}

async function refetch() {
  try {
    st = await fetchState();
    renderAll();
    autoDecrypt();
  } catch (e) {
    showBanner(els.alert, 'error', errorText(e));
  }
}

function scheduleRefetch() {
  clearTimeout(refetchTimer);
  refetchTimer = setTimeout(refetch, 150);
}

// ---------------------------------------------------------------- actions --

async function command(cmd, button) {
  const done = button ? busy(button) : () => {};
  try {
    const r = await room.command(cmd);
    await refetch();
    return r;
  } catch (e) {
    showBanner(els.alert, 'error', errorText(e));
    return null;
  } finally {
    done();
  }
}

function hostCard() {
  const items = [];
  if (st.phase === 'not_started' && st.me.is_host) {
    const b = h('button#rounds-begin.btn.btn-primary', { type: 'button' }, t('rounds.begin'));
    b.addEventListener('click', () => command({ type: 'begin' }, b));
    items.push(h('p.muted.small', t('rounds.begin_hint')), b);
  }
  if (st.phase === 'negotiating' || st.phase === 'round_open' || st.phase === 'decrypting') {
    if (!noticeForm) {
      const text = h('textarea', { name: 'text', rows: 3, maxlength: 5000, id: 'notice-text' });
      const submit = h('button#notice-submit.btn', { type: 'submit' }, t('rounds.notify'));
      noticeForm = h('form#notice-form.stack', h('label', { for: 'notice-text' }, t('rounds.notify_label')), text, submit);
      noticeForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        if (await command({ type: 'notify', text: text.value }, submit)) text.value = '';
      });
    }
    items.push(noticeForm);
  }
  if (st.phase === 'negotiating') {
    if (!roundForm) {
      const minutes = h('input', { name: 'minutes', type: 'number', min: 5, max: 10080, value: 30, id: 'round-minutes' });
      const final = h('input', { name: 'final', type: 'checkbox', id: 'round-final' });
      const submit = h('button#round-submit.btn.btn-primary', { type: 'submit' }, t('rounds.open'));
      roundForm = h('form#round-form.stack',
        h('label', { for: 'round-minutes' }, t('rounds.open_minutes')), minutes,
        h('label', final, ' ', t('rounds.open_final')), submit);
      roundForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const mins = Number(minutes.value);
        await command({ type: 'open_round', closes_at: now() + mins * MINUTE, final: final.checked }, submit);
      });
    }
    items.push(roundForm);
  }
  if (!items.length) return null;
  return h('section#rounds-host.card', { 'aria-labelledby': 'rounds-host-heading' },
    h('div.card-head', h('h2#rounds-host-heading', t('rounds.conduct'))), ...items);
}

function keyPanel() {
  if (!keyPanelEl) {
    keyPanelEl = keyImportPanel({
      userId: me.id,
      onImported: (r) => {
        keys = { state: 'ready', record: r };
        keyPanelEl = null;
        renderAll();
        autoDecrypt();
      },
    });
  }
  return keyPanelEl;
}

function readOffer(form) {
  const fd = new FormData(form);
  const r = parseYuanToFen(String(fd.get('price') || ''));
  if (!r.ok) throw new Error(`${t('rounds.price')}: ${t(r.error)}`);
  const fen = r.fen;
  const int = (k) => {
    const n = Number(fd.get(k));
    if (!Number.isInteger(n) || n < 0) throw new Error(t(`rounds.${k}`));
    return n;
  };
  return {
    total_price_fen: fen,
    total_price_words: amountInWords(fen),
    delivery_days: int('delivery_days'),
    warranty_months: int('warranty_months'),
    enterprise_size: String(fd.get('enterprise_size')),
    special_status: null,
    notes: String(fd.get('notes') || ''),
  };
}

function offerFormEl() {
  if (offerForm) return offerForm;
  const price = h('input', { name: 'price', id: 'offer-price', inputmode: 'decimal', required: true });
  const words = h('p#offer-words.small.muted');
  price.addEventListener('input', () => {
    const r = price.value.trim() ? parseYuanToFen(price.value) : null;
    words.textContent = r && r.ok ? t('rounds.price_words', { words: amountInWords(r.fen) }) : r ? t(r.error) : '';
  });
  const size = h('select', { name: 'enterprise_size', id: 'offer-size' },
    ENTERPRISE_SIZES.map((s) => h('option', { value: s }, label('size', s))));
  if (myOrg && ENTERPRISE_SIZES.includes(myOrg.enterprise_size)) size.value = myOrg.enterprise_size;
  const submit = h('button#offer-submit.btn.btn-primary', { type: 'submit' }, t('rounds.seal'));
  offerForm = h('form#offer-form.stack',
    h('label', { for: 'offer-price' }, t('rounds.price')), price, words,
    h('label', { for: 'offer-days' }, t('rounds.delivery_days')),
    h('input', { name: 'delivery_days', id: 'offer-days', type: 'number', min: 0, value: 30 }),
    h('label', { for: 'offer-warranty' }, t('rounds.warranty_months')),
    h('input', { name: 'warranty_months', id: 'offer-warranty', type: 'number', min: 0, value: 12 }),
    h('label', { for: 'offer-size' }, t('rounds.enterprise_size')), size,
    h('label', { for: 'offer-notes' }, t('rounds.notes')),
    h('textarea', { name: 'notes', id: 'offer-notes', rows: 2, maxlength: 2000 }),
    submit);
  offerForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    sendOffer(submit);
  });
  return offerForm;
}

/** Seals the offer on this device and sends it whole. */
async function sendOffer(button) {
  let sheet;
  try {
    sheet = readOffer(offerForm);
  } catch (e) {
    showBanner(els.alert, 'error', e.message);
    return;
  }
  const done = busy(button);
  sealing = { step: 'sealing', done: 0, total: 0 };
  renderActions();
  try {
    const slot = await get(`/api/tenders/${encodeURIComponent(tenderId)}/rounds/slot`);
    const record = keys.record;
    if (!record || record.encryption.keyId !== slot.bidder_key_id) throw new Error(t('rounds.keys_needed'));
    const sealed = await sealBid({
      tenderId: slot.tender_id,
      lotNo: slot.lot_no,
      bidderOrgId: slot.bidder_org_id,
      bidId: slot.bid_id,
      bidderPublicKey: fromB64url(slot.bidder_key),
      tenderPublicKey: fromB64url(slot.tender_key),
      segmentSize: slot.segment_size,
      openingSheet: sheet,
      documents: [],
      onProgress: (d, total) => {
        sealing = { step: 'sealing', done: d, total };
        renderProgress();
      },
    });
    sealing = { step: 'uploading', done: 0, total: sealed.size };
    renderProgress();
    const session = await refreshMe({ quiet: true });
    const res = await fetch(`/api/offers/${encodeURIComponent(slot.offer_id)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream', accept: 'application/json', 'x-csrf-token': (session && session.csrf_token) || '' },
      body: sealed.blob,
      credentials: 'same-origin',
      cache: 'no-store',
    });
    const body = await res.json().catch(() => null);
    if (!res.ok) throw new ApiError({ status: res.status, ...(body || {}) });
    sealing = { step: 'done', receipt: body && body.ciphertext_sha256 };
    offerForm = null;
    toast(t('rounds.sealed_ok'));
  } catch (e) {
    sealing = { step: 'error', error: e };
  } finally {
    done();
  }
  await refetch();
}

function renderProgress() {
  const slot = $('offer-progress');
  if (!slot || !sealing) return;
  const pct = sealing.total ? Math.floor((sealing.done / sealing.total) * 100) : 0;
  replace(slot, h('span', t(sealing.step === 'uploading' ? 'rounds.uploading' : 'rounds.sealing')),
    h('progress', { max: 100, value: pct }), ` ${pct}%`);
}

/** The container prefix of a header as the server gives it (JSON). */
function headerPrefix(header) {
  const bytes = utf8(canonicalJson(header));
  return concat(MAGIC, u32be(bytes.length), bytes);
}

/** Releases the key of this supplier's sealed offer once its round has closed. */
async function decryptOffer(offerId) {
  if (decrypts.has(offerId) && decrypts.get(offerId).step !== 'error') return;
  const d = { step: 'unsealing' };
  decrypts.set(offerId, d);
  renderActions();
  let kb = null;
  try {
    const record = keys.record;
    if (!record) throw new Error(t('rounds.keys_needed'));
    const v = await get(`/api/offers/${encodeURIComponent(offerId)}/header`);
    const { header } = await parseHeader(headerPrefix(v.header));
    if (header.bid_id !== offerId || header.tender_id !== tenderId) throw new Error('header');
    kb = await unsealKb(header, record.encryption);
    d.step = 'sending';
    renderActions();
    await room.command({ type: 'decrypt', offer_id: offerId, kb: toB64url(kb) });
    d.step = 'done';
  } catch (e) {
    if (e && e.code === 'ALREADY_DECRYPTED') d.step = 'done';
    else {
      d.step = 'error';
      d.error = e;
    }
  } finally {
    if (kb) wipe(kb);
  }
  await refetch();
}

/** A supplier whose offer waits for its key releases it as soon as the round closes. */
function autoDecrypt() {
  if (!st || !isSupplier() || !keys.record) return;
  const r = openRound();
  const o = myOffer(r);
  if (r && r.status === 'decrypting' && o && o.status === 'sealed' && !decrypts.has(o.offer_id)) decryptOffer(o.offer_id);
}

function supplierCard() {
  const r = openRound();
  const mine = myOffer(r);
  const items = [];
  if (keys.state !== 'ready' || !keys.record) items.push(banner('warning', t('rounds.keys_needed')), keyPanel());
  if (r && r.status === 'open' && st.me.offer_id) {
    items.push(offerFormEl(), h('div#offer-progress.small', { 'aria-live': 'polite' }));
  } else if (!r) {
    items.push(h('p.muted', t('rounds.no_round')));
  }
  if (mine && mine.status !== 'awaiting') {
    items.push(h('div#offer-status', banner(mine.status === 'invalid' ? 'error' : 'success',
      `${t(`rounds.offer.${mine.status}`)}${mine.sheet ? ` · ${formatMoney(mine.sheet.total_price_fen)}` : ''}`,
      { title: t(r.final ? 'rounds.round_final' : 'rounds.round', { n: r.round_no }) })),
    mine.ciphertext_sha256 ? h('p.small.muted.mono', t('rounds.receipt', { sha: shortHash(mine.ciphertext_sha256, 16) })) : null);
  }
  if (mine && r.status === 'decrypting' && mine.status === 'sealed') {
    const d = decrypts.get(mine.offer_id);
    const b = h('button#offer-decrypt.btn.btn-primary', { type: 'button' }, t('rounds.decrypt'));
    b.addEventListener('click', () => {
      decrypts.delete(mine.offer_id);
      decryptOffer(mine.offer_id);
    });
    items.push(d && d.step !== 'error' ? h('p', t('rounds.decrypting_mine')) : b);
    if (d && d.error) items.push(banner('error', errorText(d.error)));
  }
  if (sealing && sealing.step === 'error') items.push(banner('error', errorText(sealing.error)));
  const me2 = st.suppliers.find((s) => s.org_id === st.me.supplier);
  if (me2 && me2.status === 'in' && (st.phase === 'negotiating' || st.phase === 'round_open')) {
    const w = h('button#offer-withdraw.btn.btn-danger.btn-small', { type: 'button' }, t('rounds.withdraw'));
    w.addEventListener('click', async () => {
      if (await openDialog({ title: t('rounds.withdraw'), message: t('rounds.withdraw_confirm'), danger: true })) command({ type: 'withdraw' }, w);
    });
    items.push(h('p', w));
  }
  return h('section#rounds-supplier.card', { 'aria-labelledby': 'rounds-supplier-heading' },
    h('div.card-head', h('h2#rounds-supplier-heading', t('rounds.my_offer'))), ...items.filter(Boolean));
}

// ---------------------------------------------------------------- render --

function renderPhase() {
  const r = openRound();
  replace(els.phase,
    h('div.card-head', h('h2#rounds-phase-heading', t('rounds.phase')), h('span#rounds-phase-name.badge', t(`rounds.phase.${st.phase}`))),
    h('dl.kv',
      h('div.kv-item', h('dt', t('rounds.method')), h('dd', label('method', st.method))),
      r ? h('div.kv-item', h('dt', t(r.final ? 'rounds.round_final' : 'rounds.round', { n: r.round_no })), h('dd', t(`rounds.status.${r.status}`))) : null,
      r ? h('div.kv-item', h('dt', t('rounds.closes')), h('dd', formatCST(r.closes_at),
        r.status === 'open' ? h('span#rounds-countdown.small.muted', ` · ${t('rounds.closes_in', { left: formatCountdown(r.closes_at, undefined, now()) })}`) : null)) : null,
      r && r.decrypt_ends_at ? h('div.kv-item', h('dt', t('rounds.decrypt_ends')), h('dd', formatCST(r.decrypt_ends_at))) : null),
    h('p.small.muted', t(`rounds.no_final_offer.${st.no_final_offer}`)));
}

function renderActions() {
  if (!st) return;
  replace(els.actions, conducts() ? hostCard() : null, isSupplier() ? supplierCard() : null);
  renderProgress();
}

function offerRow(o) {
  return h('tr', { dataset: { offer: o.offer_id, status: o.status } },
    h('td', o.bidder_name),
    h('td', t(`rounds.offer.${o.status}`)),
    h('td.num', o.sheet ? formatMoney(o.sheet.total_price_fen) : '—'),
    h('td.small', o.sealed_at ? formatCST(o.sealed_at, { seconds: true }) : '—'));
}

function renderList() {
  const blocks = st.rounds.slice().reverse().map((r) => h(`div#round-${r.round_no}.round-block`, { dataset: { status: r.status } },
    h('h3', t(r.final ? 'rounds.round_final' : 'rounds.round', { n: r.round_no }), ' · ', t(`rounds.status.${r.status}`)),
    r.offers.length
      ? h('table.table', h('thead', h('tr', ['supplier', 'status', 'price', 'sealed_at'].map((c) => h('th', t(`rounds.col.${c}`))))),
        h('tbody', r.offers.map(offerRow)))
      : h('p.muted.small', t(r.status === 'revealed' ? 'rounds.no_offers' : 'rounds.hidden_until_close'))));
  replace(els.list, h('div.card-head', h('h2#rounds-list-heading', t('rounds.title'))),
    blocks.length ? blocks : h('p.muted', t('rounds.no_round')),
    st.suppliers.length && !isSupplier()
      ? h('div#rounds-suppliers', h('h3', t('rounds.suppliers')), h('ul', st.suppliers.map((s) => h('li', s.name, ' · ', t(`rounds.supplier.${s.status}`)))))
      : null);
}

function renderNotices() {
  replace(els.notices, h('div.card-head', h('h2#rounds-notices-heading', t('rounds.notices'))),
    st.notices.length
      ? h('ol#notice-list', st.notices.map((n) => h('li', h('strong', t('rounds.notice_no', { n: n.notice_no })), ' ',
        h('time.small.muted', formatCST(n.issued_at)), h('p.notice-text', { style: 'white-space: pre-wrap' }, n.text))))
      : h('p.muted.small', t('rounds.notices_empty')));
}

/**
 * The talk with each supplier apart (分别谈判): a supplier sees its own thread with the
 * panel; the host and the panel pick a supplier and write to it; the purchaser and the
 * supervisors read every thread.
 */
function renderTalk() {
  const live = ['negotiating', 'round_open', 'decrypting'].includes(st.phase);
  const supplier = isSupplier();
  const readsAll = !supplier;
  els.talk.hidden = !(live || st.messages.length) || (readsAll && !st.suppliers.length);
  if (els.talk.hidden) return;
  if (readsAll && !st.suppliers.some((s) => s.org_id === talkWith)) talkWith = st.suppliers[0].org_id;
  const thread = st.messages.filter((m) => (supplier ? true : m.org_id === talkWith));
  const items = [h('div.card-head', h('h2#rounds-talk-heading', t('rounds.talk'))),
    h('p.muted.small', t(supplier ? 'rounds.talk_hint_supplier' : 'rounds.talk_hint'))];
  if (readsAll) {
    const pick = h('select#talk-with', st.suppliers.map((s) => h('option', { value: s.org_id, selected: s.org_id === talkWith },
      s.status === 'in' ? s.name : `${s.name} (${t('rounds.supplier.withdrawn')})`)));
    pick.addEventListener('change', () => {
      talkWith = pick.value;
      renderTalk();
    });
    items.push(h('label', { for: 'talk-with' }, t('rounds.talk_with')), pick);
  }
  items.push(thread.length
    ? h('ol#talk-thread.talk-thread', thread.map((m) => h(`li.talk-${m.from}`,
      h('strong', t(`rounds.talk_from.${m.from}`)), ' ', h('time.small.muted', formatCST(m.sent_at)),
      h('p.talk-text', { style: 'white-space: pre-wrap' }, m.text))))
    : h('p.muted.small#talk-empty', t('rounds.talk_empty')));
  const mayWrite = live && (supplier
    ? st.suppliers.some((s) => s.org_id === st.me.supplier && s.status === 'in')
    : conducts() && st.suppliers.some((s) => s.org_id === talkWith && s.status === 'in'));
  if (mayWrite) {
    if (!talkForm) {
      const text = h('textarea', { name: 'text', rows: 2, maxlength: 2000, id: 'talk-text' });
      const submit = h('button#talk-submit.btn', { type: 'submit' }, t('rounds.talk_send'));
      talkForm = h('form#talk-form.stack', h('label', { for: 'talk-text' }, t('rounds.talk_label')), text, submit);
      talkForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const cmd = isSupplier() ? { type: 'talk', text: text.value } : { type: 'talk', to: talkWith, text: text.value };
        if (await command(cmd, submit)) text.value = '';
      });
    }
    items.push(talkForm);
  }
  replace(els.talk, ...items);
}

function renderResult() {
  els.result.hidden = !st.result;
  if (!st.result) return;
  replace(els.result, h('div.card-head', h('h2#rounds-result-heading', t('rounds.result'))),
    h('p.small.muted', t('rounds.result_hint')),
    h('table#rounds-final.table', h('thead', h('tr', ['supplier', 'price', 'basis'].map((c) => h('th', t(`rounds.col.${c}`))))),
      h('tbody', st.result.map((f) => h('tr', h('td', f.bidder_name),
        h('td.num', f.price_fen != null ? formatMoney(f.price_fen) : '—'), h('td', t(`rounds.basis.${f.basis}`)))))));
}

/** The record of the negotiation: written by the host or the panel, signed by the panel. */
function renderMinutes() {
  const m = st.minutes;
  const canWrite = conducts() && st.phase !== 'not_started' && !(m && m.signatures.length);
  els.minutes.hidden = !(m || canWrite);
  if (els.minutes.hidden) return;
  const items = [];
  if (m) {
    items.push(h('dl#minutes-record.kv',
      h('div.kv-item', h('dt', t('rounds.minutes_text')), h('dd', { style: 'white-space: pre-wrap' }, m.text)),
      h('div.kv-item', h('dt', t('rounds.minutes_reasoning')), h('dd', { style: 'white-space: pre-wrap' }, m.price_reasoning)),
      h('div.kv-item', h('dt', t('rounds.minutes_price')), h('dd', formatMoney(m.agreed_price_fen))),
      h('div.kv-item', h('dt', t('rounds.minutes_signed')), h('dd#minutes-signed',
        m.complete ? t('rounds.minutes_complete') : t('rounds.minutes_signed_n', { n: m.signatures.length }),
        ' ', m.signatures.map((s) => h('span.badge', t('rounds.seat', { n: s.seat })))))));
    if (m.my_payload) {
      const b = h('button#minutes-sign.btn.btn-primary', { type: 'button' }, t('rounds.minutes_sign'));
      b.addEventListener('click', async () => {
        const record = keys.record;
        if (!record) return showBanner(els.alert, 'warning', t('rounds.keys_needed'));
        const signature = toB64url(await sign(record, utf8(m.my_payload)));
        await command({ type: 'sign_minutes', key_id: record.signing.keyId, signature }, b);
      });
      items.push(h('p', b));
    }
  }
  if (canWrite) {
    if (!minutesForm) {
      const text = h('textarea', { name: 'text', id: 'minutes-text', rows: 4, maxlength: 20000 });
      const reasoning = h('textarea', { name: 'price_reasoning', id: 'minutes-reasoning', rows: 3, maxlength: 20000 });
      const price = h('input', { name: 'price', id: 'minutes-price', inputmode: 'decimal' });
      const submit = h('button#minutes-submit.btn', { type: 'submit' }, t('rounds.minutes_record'));
      minutesForm = h('form#minutes-form.stack',
        h('label', { for: 'minutes-text' }, t('rounds.minutes_text')), text,
        h('label', { for: 'minutes-reasoning' }, t('rounds.minutes_reasoning')), reasoning,
        h('label', { for: 'minutes-price' }, t('rounds.minutes_price')), price, submit);
      minutesForm.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        const r = parseYuanToFen(price.value);
        if (!r.ok) return showBanner(els.alert, 'error', `${t('rounds.minutes_price')}: ${t(r.error)}`);
        if (await command({ type: 'record_minutes', text: text.value, price_reasoning: reasoning.value, agreed_price_fen: r.fen }, submit)) {
          minutesForm = null;
          renderMinutes();
        }
      });
    }
    items.push(minutesForm);
  }
  replace(els.minutes, h('div.card-head', h('h2#rounds-minutes-heading', t('rounds.minutes'))), ...items);
}

function renderAll() {
  if (!st) return;
  renderMinutes();
  renderPhase();
  renderActions();
  renderList();
  renderNotices();
  renderTalk();
  renderResult();
  room.renderAll();
}

function renderTitle() {
  if (!tender) return;
  $('crumb-tender').hidden = false;
  $('crumb-tender-link').textContent = tender.code || tender.title;
  $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
}

function tick() {
  const c = $('rounds-countdown');
  const r = openRound();
  if (c && r) c.textContent = ` · ${t('rounds.closes_in', { left: formatCountdown(r.closes_at, undefined, now()) })}`;
  // The round's deadline passed on the server clock: its close comes within a second.
  if (r && r.status === 'open' && now() >= r.closes_at + 1500) {
    r.status = 'closing';
    scheduleRefetch();
  }
}

async function main() {
  setPageTitle('rounds.title');
  me = await initLayout({ auth: 'required', active: 'console' });
  if (!me) return;
  if (!tenderId) {
    replace(els.alert, errorBlock(t('common.missing_id')));
    return;
  }
  replace(els.loading, loadingBlock());
  try {
    const [a, s] = await Promise.all([
      get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null),
      fetchState(),
    ]);
    tender = a && a.announcement ? { ...a, ...a.announcement } : a;
    st = s;
  } catch (e) {
    clear(els.loading);
    const notMine = e instanceof ApiError && (e.status === 403 || e.status === 404);
    replace(els.alert, notMine ? banner('warning', t('rounds.not_member')) : errorBlock(errorText(e), () => location.reload()));
    return;
  }
  if (me.role === 'supplier' && me.org && me.org.id) {
    try {
      const list = await get('/api/organisations?kind=supplier');
      myOrg = (Array.isArray(list) ? list : []).find((o) => o.id === me.org.id) || null;
    } catch (_) {
      myOrg = null;
    }
  }
  try {
    keys = { state: 'ready', record: isSupervisorRole(me.role) ? null : await loadDeviceKeys(me.id) };
  } catch (_) {
    keys = { state: 'unsupported', record: null };
  }
  clear(els.loading);
  els.page.hidden = false;
  renderTitle();
  renderAll();
  autoDecrypt();
  room.start();
  setInterval(tick, 1000);
  onLangChange(() => {
    noticeForm = null;
    roundForm = null;
    offerForm = null;
    keyPanelEl = null;
    minutesForm = null;
    talkForm = null;
    renderAll();
  });
}

main();
