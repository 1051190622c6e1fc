// 开标大厅 (不见面开标): one page for everyone in a tender's opening (docs/opening.md),
// adapting to who is looking. Bidders decrypt their own bid's half-key here (unsealed with
// this browser's non-extractable device key; only kb leaves, and only into the `decrypt`
// command), watch the reading-out (唱标) and confirm or object; the host (the tender's
// agency) starts the opening and answers objections; custodians unseal their share of the
// opening key here and hand it in; supervisors watch everything.
//
// State: GET /api/tenders/{id}/opening, kept current by the hub room `opening:<id>`:
// frequent events (a bidder decrypted, a bid read out, a share, an objection) are applied
// to the state in place; phase changes fetch the state again (once, with a little jitter
// so a hall full of watchers does not ask all at the same instant). After a dropped
// connection the hub resumes from the last seq (hub.js).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError, isSupervisorRole } from '../api.js';
import { t, label, getLang, onLangChange, pickMessage } from '../i18n.js';
import { formatCST, formatMoney, amountInWords, formatCountdown, shortHash } from '../format.js';
import { h, clear, replace, keepingFocus, param, loadingBlock, emptyBlock, errorBlock, banner, showBanner, openDialog, toast, busy } from '../ui.js';
import { LiveRoom } from '../room.js';
import { ChatPanel } from '../chat.js';
import { keyImportPanel } from '../keyimport.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { MAGIC, parseHeader, unsealKb } from '../crypto/kb1.js';
import { commitmentPoints, shareMatches, unsealShare } from '../crypto/share.js';
import { canonicalJson } from '../crypto/json.js';
import { CryptoError } from '../crypto/errors.js';
import { concat, fromB64url, toB64url, toHex, u32be, utf8, wipe } from '../crypto/bytes.js';

const tenderId = param('tender');
const $ = (id) => document.getElementById(id);
const els = {
  alert: $('hall-alert'),
  loading: $('hall-loading'),
  page: $('hall-page'),
  title: $('hall-tender-title'),
  crumb: $('crumb-tender'),
  crumbLink: $('crumb-tender-link'),
  conn: $('hall-conn'),
  phase: $('hall-phase'),
  actions: $('hall-actions'),
  reading: $('hall-reading'),
  bids: $('hall-bids'),
  objections: $('hall-objections'),
  record: $('hall-record'),
  presence: $('hall-presence'),
  feed: $('hall-feed'),
};

// The hub room, its presence and feed (room.js); events are applied to the state here.
const room = new LiveRoom('opening', tenderId, {
  slots: { conn: els.conn, presence: els.presence, feed: els.feed, media: $('hall-media') },
  presenceHeading: 'presence-heading',
  feedHeading: 'feed-heading',
  feedTitle: 'hall.feed',
  eventText,
  onEvent,
  onFrame,
  // (A reconnect may have missed messages: the channel is read again too.)
  onSubscribed: () => {
    refetch();
    chat.refresh();
  },
  onFailed: (error) => showBanner(els.alert, 'warning', failText(error)),
});

// 互动区: bidders ask the host from the deadline; supervisors and the others read.
const chat = new ChatPanel($('hall-chat'), {
  url: `/api/tenders/${encodeURIComponent(tenderId)}/opening/messages`,
  send: (cmd) => room.command(cmd),
  mode: () => {
    if (!st) return null;
    const over = ['closed', 'failed'].includes(phase());
    if (isHost() && !over) return 'host';
    if (isBidder() && !over) return phase() === 'published' ? 'bidder-closed' : 'bidder';
    return 'reader';
  },
});

const PHASES = ['sealed', 'decrypting', 'unsealing', 'revealing', 'confirming', 'closed'];
// Events that move the opening to another phase: the state is fetched again.
const TRANSITIONS = new Set(['opening_started', 'opening_failed', 'decryption_closed', 'tender_key_rebuilt', 'revealing_done', 'opening_closed', 'bids_sealed']);

let me = null;
let tender = null; // the announcement: title, code, lots
let st = null; // the opening state
let stError = null;
let progress = null; // the last {type:"progress"} frame
let overdue = null; // the last custodians_overdue body
let keys = { state: 'checking', record: null };
/** bid id → {step: fetching|unsealing|sending|done|error, error} */
const decrypts = new Map();
/** The custodian's share: {step: idle|checking|ready|sending|done|error|no-key|key-mismatch|mismatch, error} */
let shareState = { step: 'idle' };
let myShare = null;
let refetchTimer = null;
/** The server's clock minus this browser's, from the opening state's `now`. */
let hallOffset = 0;
const hallNow = () => Date.now() + hallOffset;
let confirmBusy = false;
let signInBusy = false;
// Widgets kept across re-renders, so typing is never lost.
const answerBoxes = new Map();
let objectForm = null;
let keyPanelEl = null;
/** A bidder's own bids' lots (GET .../bids/mine): before the start the state lists none. */
const myLots = new Map();
/** Clarifications the evaluation panel asked of this bidder (GET .../clarifications), or null. */
let clarifications = null;
const clarBoxes = new Map();
const clarBusy = new Set();
const clarErrors = new Map();
let clarTimer = null;

// ------------------------------------------------------------------ roles --

const isSupervisor = () => Boolean(me && isSupervisorRole(me.role));
const isHost = () => Boolean(st && st.me && st.me.is_host);
const myBidIds = () => (st && st.me && Array.isArray(st.me.bid_ids) ? st.me.bid_ids : []);
const isBidder = () => Boolean(me && me.role === 'supplier' && myBidIds().length);
const shareIndex = () => (st && st.me && st.me.share_index !== null && st.me.share_index !== undefined ? st.me.share_index : null);
const phase = () => (st ? st.phase : null);

function bidById(id) {
  return st && Array.isArray(st.bids) ? st.bids.find((b) => b.bid_id === id) : null;
}

function lotName(no) {
  const lot = tender && Array.isArray(tender.lots) ? tender.lots.find((l) => Number(l.lot_no) === Number(no)) : null;
  return lot && lot.name ? lot.name : t('bid.lot_n', { n: no });
}

function bidderName(b) {
  return (b && b.bidder && (b.bidder.name || b.bidder.display_name)) || '—';
}

function orgName(orgId) {
  const b = st && Array.isArray(st.bids) ? st.bids.find((x) => x.bidder && x.bidder.id === orgId) : null;
  return b ? bidderName(b) : shortHash(orgId, 8);
}

/** The text of a server or crypto error, with our own words for the opening's codes. */
function failText(e) {
  const code = e && e.code;
  if (code && t(`hall.err.${code}`) !== `hall.err.${code}`) return t(`hall.err.${code}`);
  if (e instanceof CryptoError) return pickMessage(...e.messages());
  if (e instanceof ApiError) {
    const fields = Object.values(e.fields || {}).flat().map(String);
    return fields.length ? `${errorText(e)}（${fields.join('；')}）` : errorText(e);
  }
  return (e && e.message) || String(e);
}

// --------------------------------------------------------------- commands --

// ------------------------------------------------------------------- state --

async function fetchState() {
  const sentAt = Date.now();
  const s = await get(`/api/tenders/${encodeURIComponent(tenderId)}/opening`);
  // The state carries the server's clock to the millisecond: the countdowns here run on
  // it, whatever this browser's clock says.
  if (s && Number.isFinite(s.now)) hallOffset = s.now - Math.round((sentAt + Date.now()) / 2);
  // Before the start there is no phase yet: the tender's status says where it is.
  if (s && !s.phase) s.phase = s.tender_status === 'sealed' ? 'sealed' : s.tender_status || 'published';
  if (s && s.custodians_overdue && s.phase === 'unsealing' && !overdue) {
    overdue = {
      missing: (s.shares || []).filter((x) => !x.submitted_at).map((x) => x.index),
      waiting_since: s.unsealing_since,
    };
  }
  if (s && s.phase !== 'unsealing') overdue = null;
  return s;
}

async function refetch() {
  clearTimeout(refetchTimer);
  refetchTimer = null;
  try {
    st = await fetchState();
    stError = null;
  } catch (e) {
    stError = e;
  }
  if (phase() !== 'revealing') progress = null;
  renderAll();
}

function scheduleRefetch() {
  if (refetchTimer) return;
  refetchTimer = setTimeout(refetch, 100 + Math.floor(Math.random() * 400));
}

/** Applies a ledger event to the state in place; returns whether a refetch is needed. */
function apply(e) {
  const b = e.body || {};
  if (TRANSITIONS.has(e.kind)) return true;
  if (!st) return false;
  // Each kind's body has the fields of its struct in src/ledger/events.rs (the reference;
  // docs/ledger.md "Event bodies").
  switch (e.kind) {
    case 'bidder_decrypted': {
      const bid = bidById(b.bid_id);
      if (bid) {
        bid.decrypt_status = 'decrypted';
        bid.decrypted_at = e.at;
      }
      break;
    }
    case 'share_submitted': {
      const s = (st.shares || []).find((x) => Number(x.index) === Number(b.index));
      if (s) s.submitted_at = e.at;
      break;
    }
    case 'custodians_overdue':
      overdue = b;
      break;
    case 'bid_read_out':
    case 'bid_invalid': {
      const bid = bidById(b.bid_id);
      if (bid) {
        bid.result = e.kind === 'bid_read_out' ? 'read_out' : 'invalid';
        if (b.sheet) bid.sheet = b.sheet;
        if (b.cause) bid.cause = b.cause;
        if (b.documents) bid.documents = b.documents;
      } else {
        return true;
      }
      break;
    }
    case 'signed_in': {
      st.sign_ins = st.sign_ins || [];
      const same = (x) => (b.role === 'bidder' ? x.role === 'bidder' && x.org_id === b.org_id : x.role === b.role && x.name === b.name);
      if (!st.sign_ins.some(same)) {
        st.sign_ins.push({ role: b.role, org_id: b.role === 'bidder' ? b.org_id : null, name: b.name, signed_in_at: e.at });
      }
      break;
    }
    case 'record_confirmed':
      for (const bid of st.bids || []) if (bid.bidder && bid.bidder.id === b.bidder_org_id) bid.confirmation = 'confirmed';
      break;
    case 'objection_raised': {
      st.objections = st.objections || [];
      if (!st.objections.some((o) => o.id === b.objection_id)) {
        st.objections.push({
          id: b.objection_id,
          bidder: { id: b.bidder_org_id, name: b.bidder_name || orgName(b.bidder_org_id) },
          kind: b.kind,
          text: b.text,
          raised_at: e.at,
          answer: null,
          answered_at: null,
        });
      }
      break;
    }
    case 'objection_answered': {
      const o = (st.objections || []).find((x) => x.id === b.objection_id);
      if (o) {
        o.answer = b.text;
        o.answered_at = e.at;
      } else {
        return true;
      }
      break;
    }
    default:
      break;
  }
  return false;
}

function onEvent(e) {
  if (e.kind === 'message_posted') chat.schedule();
  if (e.kind === 'clarification_requested' || e.kind === 'clarification_answered') {
    // Once for a burst of events (a replay after reconnecting).
    clearTimeout(clarTimer);
    clarTimer = setTimeout(fetchClarifications, 150);
  }
  if (e.kind === 'custodians_overdue') overdue = e.body || {};
  if (e.kind === 'share_submitted' || e.kind === 'tender_key_rebuilt') overdue = null;
  if (apply(e)) scheduleRefetch();
  if (e.kind === 'bid_read_out' || e.kind === 'bid_invalid') announce(e);
  renderAll();
}

function onFrame(msg) {
  // Supervisors see the bid register live: a sign-in before the deadline is in it.
  if (msg.type === 'bid_event' && msg.event && msg.event.kind === 'signed_in') {
    if (st && !apply(msg.event)) renderAll();
    return;
  }
  if (msg.type === 'progress') {
    progress = msg;
    renderPhase();
  }
}

/** Reads each bid out for screen readers as it arrives. */
function announce(e) {
  const b = e.body || {};
  const region = $('hall-announce');
  if (!region) return;
  if (e.kind === 'bid_read_out' && b.sheet) {
    region.textContent = t('hall.announce_read', {
      bidder: b.bidder_name || orgName(b.bidder_org_id),
      lot: lotName(b.lot_no),
      price: formatMoney(b.sheet.total_price_fen),
    });
  } else if (e.kind === 'bid_invalid') {
    region.textContent = t('hall.announce_invalid', { bidder: b.bidder_name || orgName(b.bidder_org_id) });
  }
}

// ----------------------------------------------------------------- decrypt --

/** The header of POST /api/bids/{id}/decryption as parseHeader's input: "KAIBIAO1" || u32be(N) || header. */
function headerPrefix(header) {
  let bytes;
  if (typeof header === 'string') {
    const raw = fromB64url(header);
    if (raw && raw.length >= MAGIC.length && MAGIC.every((x, i) => raw[i] === x)) return raw;
    bytes = raw && raw[0] === 0x7b ? raw : utf8(header);
  } else {
    // The header as a JSON object: its canonical JSON is the sealed header's bytes.
    bytes = utf8(canonicalJson(header));
  }
  return concat(MAGIC, u32be(bytes.length), bytes);
}

async function decrypt(bidId) {
  const d = { step: 'fetching', error: null };
  decrypts.set(bidId, d);
  renderActions();
  let kb = null;
  try {
    const record = keys.record || (await loadDeviceKeys(me.id));
    if (!record) throw new CryptoError('KB_UNSEAL_FAILED', 'no device keys');
    // Starting the decryption is recorded (R-OPEN-4); the answer is the bid's header.
    const view = await post(`/api/bids/${encodeURIComponent(bidId)}/decryption`, {});
    const { header } = await parseHeader(headerPrefix(view.header));
    if (header.bid_id !== bidId || header.tender_id !== tenderId) throw new CryptoError('HEADER_MISMATCH', 'bid or tender', { field: 'bid_id' });
    if (header.bidder_key !== record.encryption.keyId) {
      const e = new Error('other key');
      e.code = 'OTHER_KEY';
      e.keyId = header.bidder_key;
      throw e;
    }
    d.step = 'unsealing';
    renderActions();
    kb = await unsealKb(header, record.encryption);
    d.step = 'sending';
    renderActions();
    await room.command({ type: 'decrypt', bid_id: bidId, kb: toB64url(kb) });
    d.step = 'done';
    const bid = bidById(bidId);
    if (bid && bid.decrypt_status !== 'decrypted') {
      bid.decrypt_status = 'decrypted';
      bid.decrypted_at = hallNow();
    }
    toast(t('hall.decrypted_ok'));
  } catch (e) {
    if (e && e.code === 'ALREADY_DECRYPTED') {
      d.step = 'done';
    } else {
      d.step = 'error';
      d.error = e;
    }
  } finally {
    if (kb) wipe(kb);
  }
  renderAll();
}

// ------------------------------------------------------------------- share --

async function prepareShare() {
  shareState = { step: 'checking' };
  renderActions();
  try {
    myShare = await get(`/api/tenders/${encodeURIComponent(tenderId)}/my-share`);
    const record = keys.record || (await loadDeviceKeys(me.id));
    if (!record) {
      shareState = { step: 'no-key' };
    } else if (record.encryption.keyId !== myShare.custodian_key_id) {
      shareState = { step: 'key-mismatch' };
    } else {
      shareState = { step: 'ready' };
    }
  } catch (e) {
    shareState = { step: 'error', error: e };
  }
  renderActions();
}

async function submitShare() {
  if (!(await openDialog({ title: t('hall.share_submit'), message: t('hall.share_confirm'), okText: t('hall.share_submit') }))) return;
  shareState = { step: 'sending' };
  renderActions();
  let value = null;
  try {
    const record = keys.record || (await loadDeviceKeys(me.id));
    try {
      value = await unsealShare(myShare, record);
    } catch (_) {
      value = null;
    }
    if (!value || value.length !== 32) throw Object.assign(new Error('unseal'), { code: 'SHARE_UNSEAL_FAILED' });
    const { points, ok } = await commitmentPoints(myShare.opening_key);
    if (!ok || !shareMatches(value, myShare.index, points)) throw Object.assign(new Error('mismatch'), { code: 'SHARE_COMMITMENT_MISMATCH' });
    await room.command({ type: 'share', index: myShare.index, value: toHex(value) });
    shareState = { step: 'done' };
    toast(t('hall.share_ok'));
  } catch (e) {
    shareState = e && e.code === 'SHARE_ALREADY_SUBMITTED' ? { step: 'done' } : { step: 'error', error: e };
  } finally {
    if (value) wipe(value);
  }
  if (shareState.step === 'done') scheduleRefetch();
  renderAll();
}

// ------------------------------------------------------------ host actions --

async function onStart(ev) {
  const ok = await openDialog({ title: t('hall.start_title'), message: t('hall.start_text'), okText: t('hall.start') });
  if (!ok) return;
  const restore = busy(ev.target, t('hall.starting'));
  try {
    await room.command({ type: 'start' });
    await refetch();
  } catch (e) {
    showBanner(els.alert, 'error', failText(e));
  } finally {
    restore();
  }
}

async function onAnswer(o, box, button) {
  const text = box.value.trim();
  if (!text) {
    box.setAttribute('aria-invalid', 'true');
    box.focus();
    return;
  }
  const restore = busy(button, t('hall.answering'));
  try {
    await room.command({ type: 'answer', objection_id: o.id, text });
    box.value = '';
    o.answer = o.answer || text;
    answerBoxes.delete(o.id);
    renderObjections();
  } catch (e) {
    showBanner(els.alert, 'error', failText(e));
  } finally {
    restore();
  }
}

// ---------------------------------------------------------- clarifications --

/** The panel's clarification requests about this supplier's bids (docs/evaluation.md). */
async function fetchClarifications() {
  if (!me || me.role !== 'supplier') return;
  try {
    const list = await get(`/api/tenders/${encodeURIComponent(tenderId)}/clarifications`);
    clarifications = Array.isArray(list) ? list : list && Array.isArray(list.clarifications) ? list.clarifications : [];
  } catch (_) {
    // Before the evaluation there is nothing to ask: the panel stays hidden.
    return;
  }
  renderActions();
}

async function onAnswerClarification(c) {
  const box = clarBoxes.get(c.id);
  const text = box ? box.value.trim() : '';
  if (!text) {
    clarErrors.set(c.id, new Error(t('clar.empty')));
    if (box) box.setAttribute('aria-invalid', 'true');
    renderActions();
    if (box) box.focus();
    return;
  }
  if (clarBusy.has(c.id)) return;
  clarBusy.add(c.id);
  clarErrors.delete(c.id);
  renderActions();
  try {
    await post(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation`, { type: 'answer_clarification', clarification_id: c.id, text });
    c.answer = c.answer || text;
    c.answered_at = c.answered_at || hallNow();
    clarBoxes.delete(c.id);
    toast(t('clar.sent'));
  } catch (e) {
    if (e && e.code === 'ALREADY_ANSWERED') clarBoxes.delete(c.id);
    else clarErrors.set(c.id, e);
  } finally {
    clarBusy.delete(c.id);
  }
  await fetchClarifications();
  renderActions();
}

function clarificationCard() {
  const list = clarifications.slice().sort((a, b) => Number(a.asked_at) - Number(b.asked_at));
  return h('section#clarify-card.card.role-card', { 'aria-labelledby': 'clarify-heading' },
    h('div.card-head', h('h2#clarify-heading', t('clar.title'))),
    h('p.card-note', t('clar.note')),
    h('ol#clarification-list.objection-list', list.map((c) => {
      let answer;
      if (c.answer) {
        answer = h('div.objection-answer', h('span.side-label', t('clar.answered')), h('p.prewrap.clarification-answer', c.answer),
          c.answered_at ? h('span.small.muted', formatCST(c.answered_at, { seconds: true })) : null);
      } else {
        let box = clarBoxes.get(c.id);
        if (!box) {
          box = h('textarea.input.answer-box.clarification-box', { rows: 3, maxlength: 4000, id: `clar-${c.id}`, dataset: { clarification: c.id } });
          clarBoxes.set(c.id, box);
        }
        const busyNow = clarBusy.has(c.id);
        const err = clarErrors.get(c.id);
        answer = h('div.answer-form',
          h('label.field-label', { for: box.id }, t('clar.answer_label')), box,
          err ? h('div.clarification-error', { dataset: { code: err.code || 'ERROR' } }, banner('error', failText(err))) : null,
          h('div.action-bar', h('button.btn.btn-primary.clarification-submit', {
            type: 'button', disabled: busyNow, dataset: { clarification: c.id }, on: { click: () => onAnswerClarification(c) },
          }, busyNow ? t('hall.answering') : t('clar.submit'))));
      }
      const lot = c.bid_id && bidById(c.bid_id) ? lotName(bidById(c.bid_id).lot_no) : null;
      return h('li.objection.clarification', { dataset: { id: c.id, answered: String(Boolean(c.answer)) } },
        h('div.objection-head', h('span.tag', t('eval.question')), lot ? h('strong', lot) : null,
          h('span.small.muted', formatCST(c.asked_at, { seconds: true }))),
        h('p.objection-text.prewrap.clarification-question', c.question),
        answer);
    })));
}

// ---------------------------------------------------------- bidder actions --

/** 签到: this device's signing key signs the statement the server gave. */
async function onSignIn() {
  const mine = st.me.sign_in;
  signInBusy = true;
  renderActions();
  try {
    const record = keys.record;
    const signature = toB64url(await sign(record, utf8(mine.statement)));
    const ack = await room.command({ type: 'sign_in', key_id: record.signing.keyId, signature });
    mine.signed_in_at = ack.signed_in_at;
    toast(t('hall.signed_in_ok'));
  } catch (e) {
    if (e && e.code === 'ALREADY_SIGNED_IN') scheduleRefetch();
    else showBanner(els.alert, 'error', failText(e));
  } finally {
    signInBusy = false;
  }
  renderAll();
}

/** Who signed in as what: 投标人, 开标主持, or the supervisor's role. */
function signInRole(role) {
  if (role === 'bidder') return t('rec.sig_bidder');
  if (role === 'host') return t('hall.host');
  return label('role', role);
}

/**
 * The viewer's sign-in: when it opens, the button, or when it was done. A bidder signs in
 * until the start; the host and supervisors (到场) until the record is signed.
 */
function signInBlock() {
  const mine = st.me && st.me.sign_in;
  if (!mine) return null;
  const staff = !isBidder();
  const open = staff ? !['closed', 'failed'].includes(phase()) : ['published', 'sealed'].includes(phase());
  let body;
  if (mine.signed_in_at) {
    body = h('p#signed-in.hash-ok', `✓ ${t('hall.signed_in', { at: formatCST(mine.signed_in_at, { seconds: true }) })}`);
  } else if (!open) {
    body = h('p.muted', t(staff ? 'hall.attend_closed' : 'hall.sign_in_closed'));
  } else if (hallNow() < mine.opens_at) {
    body = h('p#sign-in-opens.muted', t('hall.sign_in_opens', { at: formatCST(mine.opens_at) }));
  } else if (staff && keys.state !== 'checking' && !keys.record) {
    // Staff need no key to host or watch: a note, not the import panel.
    body = h('p#attend-no-keys.muted', t('hall.attend_no_keys'));
  } else {
    // Without this device's keys the bidder's card shows how to import them.
    body = h('div.action-bar', h('button#sign-in.btn.btn-primary.btn-large', { type: 'button', disabled: signInBusy || !keys.record, on: { click: onSignIn } },
      signInBusy ? t('hall.signing_in') : t('hall.sign_in')));
  }
  return h('div#sign-in-block.sign-in', h('p.card-note', t(staff ? 'hall.attend_note' : 'hall.sign_in_note')), body);
}

async function onConfirm() {
  const ok = await openDialog({ title: t('hall.confirm_title'), message: t('hall.confirm_text'), okText: t('hall.confirm') });
  if (!ok) return;
  confirmBusy = true;
  renderActions();
  try {
    await room.command({ type: 'confirm' });
    for (const id of myBidIds()) {
      const b = bidById(id);
      if (b) b.confirmation = 'confirmed';
    }
    toast(t('hall.confirmed_ok'));
  } catch (e) {
    if (e && e.code === 'ALREADY_CONFIRMED') {
      for (const id of myBidIds()) {
        const b = bidById(id);
        if (b) b.confirmation = 'confirmed';
      }
    } else {
      showBanner(els.alert, 'error', failText(e));
    }
  } finally {
    confirmBusy = false;
  }
  renderAll();
}

function makeObjectForm() {
  const kind = h('select#object-kind.input',
    h('option', { value: 'question' }, t('hall.kind.question')),
    h('option', { value: 'recusal' }, t('hall.kind.recusal')));
  const text = h('textarea#object-text.input', { rows: 3, maxlength: 2000, 'aria-describedby': 'object-hint' });
  const submit = h('button#object-submit.btn', { type: 'submit' }, t('hall.object_submit'));
  const status = h('div.object-status', { 'aria-live': 'polite' });
  const form = h('form#object-form.object-form', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        const value = text.value.trim();
        if (!value) {
          text.setAttribute('aria-invalid', 'true');
          replace(status, banner('error', t('hall.object_empty')));
          text.focus();
          return;
        }
        text.removeAttribute('aria-invalid');
        const restore = busy(submit, t('hall.object_sending'));
        try {
          await room.command({ type: 'object', kind: kind.value, text: value });
          text.value = '';
          replace(status, banner('success', t('hall.object_sent')));
        } catch (e) {
          replace(status, banner('error', failText(e)));
        } finally {
          restore();
        }
      },
    },
  },
  h('div.field',
    h('label.field-label', { for: 'object-kind' }, t('hall.object_kind')),
    kind),
  h('div.field',
    h('label.field-label', { for: 'object-text' }, t('hall.object_text')),
    text,
    h('p#object-hint.field-hint.small.muted', t('hall.object_hint'))),
  h('div.action-bar', submit),
  status);
  return form;
}

// ------------------------------------------------------------------ render --

function deadlineFor(p) {
  if (!st) return null;
  if (p === 'published') return st.bid_deadline;
  if (p === 'decrypting') return st.decrypt_ends_at;
  if (p === 'confirming') return st.confirm_ends_at;
  return null;
}

function countdownText(target) {
  const left = formatCountdown(target, getLang(), hallNow());
  return left === null ? t('hall.window_over') : left;
}

function renderPhase() {
  const p = phase();
  // Closed: every step is done.
  const idx = p === 'closed' ? PHASES.length : PHASES.indexOf(p);
  const failed = p === 'failed';
  const target = deadlineFor(p);
  els.phase.dataset.phase = p || '';
  let extra = null;
  if (p === 'revealing' && progress && progress.total) {
    extra = h('div.reveal-progress',
      h('progress#reveal-progress', { max: progress.total, value: progress.done || 0 }),
      h('span.small', t('hall.reveal_progress', { done: progress.done || 0, total: progress.total })));
  } else if (p === 'unsealing' && st) {
    const got = (st.shares || []).filter((s) => s.submitted_at).length;
    extra = h('p.small', t('hall.shares_progress', { got, t: st.threshold }));
  }
  replace(els.phase,
    h('h2#phase-heading.visually-hidden', t('hall.phase')),
    h('div.phase-top',
      h('div.phase-now',
        h('span.side-label', t('hall.phase')),
        h('strong#phase-name.phase-name', { dataset: { phase: p || '' } }, label('phase', p))),
      target
        ? h('div.phase-countdown',
          h('span.side-label', t({ published: 'hall.deadline_in', decrypting: 'hall.decrypt_ends' }[p] || 'hall.confirm_ends')),
          h('span#phase-countdown.big-countdown', { dataset: { target: String(target) } }, countdownText(target)),
          h('span.small.muted', `${formatCST(target, { seconds: true })} ${t('common.cst')}`))
        : null),
    failed
      ? banner('warning', t('hall.failed_text'), { title: t('phase.failed') })
      : h('ol.phase-steps', PHASES.map((x, i) => h('li.phase-step', {
        class: i < idx ? 'is-done' : i === idx ? 'is-current' : '',
        'aria-current': i === idx ? 'step' : null,
      }, h('span.step-dot', { 'aria-hidden': 'true' }, i < idx ? '✓' : String(i + 1)), h('span.step-name', label('phase', x))))),
    extra,
    h('div#hall-announce.visually-hidden', { 'aria-live': 'polite' }));
}

function decryptStatusBadge(b) {
  const s = b.decrypt_status || 'pending';
  return h(`span.badge.dec-${s}`, { dataset: { decrypt: s } }, label('dec', s));
}

function decryptRow(bidId) {
  const b = bidById(bidId);
  const d = decrypts.get(bidId) || { step: b && b.decrypt_status === 'decrypted' ? 'done' : 'idle' };
  const done = (b && b.decrypt_status === 'decrypted') || d.step === 'done';
  const open = phase() === 'decrypting' && Number(st.decrypt_ends_at) > hallNow();
  const working = ['fetching', 'unsealing', 'sending'].includes(d.step);
  let status;
  if (done) status = h('span.hash-ok', `✓ ${t('hall.my_decrypted')}`);
  else if (working) {
    status = h('span.decrypt-steps', { role: 'status' },
      ['fetching', 'unsealing', 'sending'].map((s) => h('span.dstep', {
        class: s === d.step ? 'is-active' : ['fetching', 'unsealing', 'sending'].indexOf(s) < ['fetching', 'unsealing', 'sending'].indexOf(d.step) ? 'is-done' : '',
      }, t(`hall.dstep.${s}`))));
  } else if (d.step === 'error') {
    const e = d.error;
    const text = e && e.code === 'OTHER_KEY' ? t('hall.err.OTHER_KEY', { id: shortHash(e.keyId, 16) }) : failText(e);
    status = h('div.decrypt-error', { dataset: { code: (e && e.code) || 'ERROR' } }, banner('error', text));
  } else if (phase() === 'sealed') status = h('span.muted', t('hall.wait_start'));
  else if (!open && b && b.decrypt_status !== 'decrypted') status = h('span.hash-bad', t('hall.not_decrypted'));
  else status = h('span.muted', t('hall.not_yet'));
  return h('li.my-bid', { dataset: { bid: bidId, state: done ? 'done' : d.step } },
    h('div.my-bid-head',
      h('strong', b ? lotName(b.lot_no) : myLots.has(bidId) ? lotName(myLots.get(bidId)) : shortHash(bidId, 8)),
      h('span.mono.small.muted', shortHash(bidId, 13))),
    h('div.my-bid-status', status),
    !done && open && keys.record
      ? h('button.btn.btn-primary.btn-large.decrypt-btn', {
        type: 'button',
        disabled: working,
        dataset: { bid: bidId },
        on: { click: async () => {
          if (await openDialog({ title: t('hall.decrypt'), message: t('hall.decrypt_confirm'), okText: t('hall.decrypt') })) decrypt(bidId);
        } },
      }, working ? t('hall.decrypting') : d.step === 'error' ? t('hall.decrypt_again') : t('hall.decrypt'))
      : null);
}

/** The key-file import panel, kept across re-renders so typing is never lost. */
function keyPanel(replaceKeys) {
  if (!keyPanelEl || keyPanelEl.dataset.replace !== String(replaceKeys)) {
    keyPanelEl = keyImportPanel({
      userId: me.id,
      replace: replaceKeys,
      onImported: (r) => {
        keys = { state: 'ready', record: r };
        keyPanelEl = null;
        if (shareIndex() !== null && phase() === 'unsealing') prepareShare();
        renderAll();
      },
    });
    keyPanelEl.dataset.replace = String(replaceKeys);
  }
  return keyPanelEl;
}

function supplierCard() {
  const p = phase();
  const ids = myBidIds();
  const body = [];
  const noKeys = keys.state !== 'checking' && !keys.record;
  if (p === 'published' || p === 'sealed') body.push(signInBlock());
  if (p === 'published' && noKeys) body.push(banner('warning', t('hall.no_keys'), { title: t('hall.no_keys_title') }), keyPanel(false));
  if (p === 'sealed' || p === 'decrypting') {
    body.push(h('p.card-note', p === 'sealed' ? t('hall.supplier_wait') : t('hall.supplier_decrypt_note')));
    if (noKeys) {
      body.push(banner('warning', t('hall.no_keys'), { title: t('hall.no_keys_title') }), keyPanel(false));
    }
    body.push(h('ul#my-bids.my-bids', ids.map(decryptRow)));
  } else if (p === 'confirming') {
    const confirmed = ids.every((id) => {
      const b = bidById(id);
      return b && b.confirmation === 'confirmed';
    });
    body.push(h('p.card-note', t('hall.confirm_note')));
    body.push(confirmed
      ? h('p#confirmed.hash-ok', `✓ ${t('hall.confirmed')}`)
      : h('div.action-bar', h('button#confirm-record.btn.btn-primary.btn-large', { type: 'button', disabled: confirmBusy, on: { click: onConfirm } }, t('hall.confirm'))));
    if (!objectForm) objectForm = makeObjectForm();
    body.push(h('details.object-details', { open: true }, h('summary', t('hall.object_title')), objectForm));
  } else if (p === 'unsealing' || p === 'revealing') {
    body.push(h('ul#my-bids.my-bids', ids.map((id) => {
      const b = bidById(id);
      return h('li.my-bid', { dataset: { bid: id } },
        h('div.my-bid-head', h('strong', b ? lotName(b.lot_no) : ''), b ? decryptStatusBadge(b) : null));
    })));
    body.push(h('p.card-note', p === 'unsealing' ? t('hall.wait_unsealing') : t('hall.wait_revealing')));
  } else if (p === 'closed') {
    body.push(h('p.card-note', t('hall.closed_note')));
  } else if (p === 'failed') {
    body.push(h('p.card-note', t('hall.failed_text')));
  }
  return h('section#supplier-card.card.role-card', { 'aria-labelledby': 'supplier-heading' },
    h('div.card-head', h('h2#supplier-heading', t('hall.my_bid'))),
    body);
}

function hostCard() {
  const p = phase();
  const body = [];
  if (p !== 'closed' && p !== 'failed') body.push(signInBlock());
  if (p === 'sealed') {
    body.push(h('p.card-note', t('hall.host_start_note')),
      h('div.action-bar', h('button#start-opening.btn.btn-primary.btn-large', { type: 'button', on: { click: onStart } }, t('hall.start'))));
  } else if (p === 'decrypting') {
    const all = (st.bids || []).length;
    const done = (st.bids || []).filter((b) => b.decrypt_status === 'decrypted').length;
    body.push(h('p#host-decrypted.host-count', t('hall.decrypted_count', { done, all })));
  } else if (p === 'unsealing') {
    const got = (st.shares || []).filter((s) => s.submitted_at).length;
    body.push(h('p.host-count', t('hall.shares_progress', { got, t: st.threshold })));
  } else if (p === 'confirming') {
    const open = (st.objections || []).filter((o) => !o.answer).length;
    body.push(h('p.host-count', open ? t('hall.objections_open', { n: open }) : t('hall.objections_none_open')));
  } else {
    body.push(h('p.card-note', t(`hall.host_note.${p}`) !== `hall.host_note.${p}` ? t(`hall.host_note.${p}`) : label('phase', p)));
  }
  return h('section#host-card.card.role-card', { 'aria-labelledby': 'host-heading' },
    h('div.card-head', h('h2#host-heading', t('hall.host'))),
    body);
}

function custodianCard() {
  const p = phase();
  const idx = shareIndex();
  const mine = (st.shares || []).find((s) => Number(s.index) === Number(idx));
  const submitted = Boolean(mine && mine.submitted_at) || shareState.step === 'done';
  const body = [h('p.card-note', t('hall.custodian_note', { index: idx, t: st.threshold, n: (st.shares || []).length }))];
  if (submitted) {
    body.push(h('p#share-submitted.hash-ok', `✓ ${t('hall.share_submitted')}`));
  } else if (p !== 'unsealing') {
    body.push(h('p.muted', PHASES.indexOf(p) < PHASES.indexOf('unsealing') ? t('hall.share_wait') : t('hall.share_not_needed')));
  } else {
    const s = shareState.step;
    if (s === 'idle') {
      // Not while rendering: prepareShare renders again itself.
      shareState = { step: 'checking' };
      setTimeout(prepareShare, 0);
      body.push(loadingBlock(t('cust.checking')));
    } else if (s === 'checking') {
      body.push(loadingBlock(t('cust.checking')));
    } else if (s === 'no-key' || s === 'key-mismatch') {
      body.push(banner('warning', s === 'no-key'
        ? t('cust.nokey_text', { id: shortHash(myShare.custodian_key_id, 16) })
        : t('cust.mismatch_text', { id: shortHash(myShare.custodian_key_id, 16), local: shortHash(keys.record && keys.record.encryption.keyId, 16) }),
      { title: t('cust.nokey_title') }),
      keyPanel(s === 'key-mismatch'));
    } else if (s === 'ready' || s === 'error' || s === 'sending') {
      if (s === 'error') body.push(h('div#share-error', { dataset: { code: (shareState.error && shareState.error.code) || 'ERROR' } }, banner('error', failText(shareState.error))));
      body.push(h('div.action-bar',
        h('button#submit-share.btn.btn-primary.btn-large', { type: 'button', disabled: s === 'sending', on: { click: submitShare } },
          s === 'sending' ? t('hall.share_sending') : t('hall.share_submit'))));
    }
  }
  return h('section#custodian-card.card.role-card', { 'aria-labelledby': 'custodian-heading' },
    h('div.card-head', h('h2#custodian-heading', t('hall.custodian'))),
    body);
}

function supervisorCard() {
  if (!overdue) return null;
  const missing = Array.isArray(overdue.missing) ? overdue.missing : [];
  const names = missing.map((i) => {
    const s = (st.shares || []).find((x) => Number(x.index) === Number(i));
    return s && s.custodian ? `${s.custodian.display_name}（${t('cust.index')} ${i}）` : `${t('cust.index')} ${i}`;
  });
  return h('div#overdue-alert', banner('warning', t('hall.overdue_text', { since: formatCST(overdue.waiting_since, { seconds: true }) }), {
    title: t('hall.overdue_title'),
    list: names,
  }));
}

/** A supervisor's card: what it may do here, and its attendance (到场签到). */
function attendCard() {
  const p = phase();
  return h('section#attend-card.card.role-card', { 'aria-labelledby': 'attend-heading' },
    h('div.card-head', h('h2#attend-heading', t('hall.attend'))),
    h('p.card-note', t('hall.supervisor_note')),
    p !== 'closed' && p !== 'failed' ? signInBlock() : null);
}

/** The cards of what the user can do; called on its own too (a key checked, the
 *  sign-in opening), so it keeps a kept field's focus itself. */
function renderActions() {
  if (!st) return;
  keepingFocus(() => {
    const cards = [];
    if (isSupervisor() && overdue) cards.push(supervisorCard());
    if (isHost()) cards.push(hostCard());
    if (me && me.role === 'supplier' && clarifications && clarifications.length) cards.push(clarificationCard());
    if (isBidder()) cards.push(supplierCard());
    if (shareIndex() !== null) cards.push(custodianCard());
    if (isSupervisor() && !isHost()) cards.push(attendCard());
    replace(els.actions, ...cards);
  });
}

function sheetCells(s) {
  return [
    h('td.num', h('span.money.price', formatMoney(s.total_price_fen)), h('div.words', s.total_price_words || amountInWords(s.total_price_fen))),
    h('td.nowrap', `${s.delivery_days} ${t('bid.days')}`),
    h('td.nowrap', `${s.warranty_months} ${t('bid.months')}`),
    // Every field the sheet has, as the record keeps it: status, brand and notes too.
    h('td', label('size', s.enterprise_size),
      s.special_status ? h('div.small.special-status', label('special', s.special_status)) : null,
      s.brand ? h('div.small.muted.sheet-brand', `${t('hall.brand')}：${s.brand}`) : null,
      s.notes ? h('div.small.muted.prewrap.sheet-notes', s.notes) : null),
  ];
}

function renderReading() {
  const bids = (st.bids || []).filter((b) => b.result);
  const started = PHASES.indexOf(phase()) >= PHASES.indexOf('revealing');
  const mineSet = new Set(myBidIds());
  let body;
  if (!bids.length) {
    body = emptyBlock(started ? t('hall.reading_wait') : t('hall.reading_later'));
  } else {
    // In the order read (the reading-out is paced: one bid after another), the latest
    // marked, so a watcher sees each as it comes.
    // (The view lists bids in reading order.)
    const sorted = bids.slice().sort((a, b) => Number(a.lot_no) - Number(b.lot_no));
    const latest = bids[bids.length - 1];
    body = h('div.table-wrap',
      h('table#reading-table.table.reading-table',
        h('thead', h('tr',
          h('th', { scope: 'col' }, t('hall.col_bidder')),
          h('th', { scope: 'col' }, t('bid.col_lot')),
          h('th.num', { scope: 'col' }, t('bid.field_price')),
          h('th', { scope: 'col' }, t('bid.field_delivery')),
          h('th', { scope: 'col' }, t('bid.field_warranty')),
          h('th', { scope: 'col' }, t('hall.col_size')))),
        h('tbody', sorted.map((b) => h('tr.reading-row', {
          class: `${b.result === 'invalid' ? 'is-invalid' : ''} ${mineSet.has(b.bid_id) ? 'is-mine' : ''} ${started && phase() === 'revealing' && b === latest ? 'is-latest' : ''}`,
          dataset: { bid: b.bid_id, result: b.result },
        },
        h('th', { scope: 'row' }, bidderName(b)),
        h('td', lotName(b.lot_no)),
        b.result === 'read_out' && b.sheet
          ? sheetCells(b.sheet)
          : h('td.invalid-cause', { colSpan: 4 },
            h('strong', b.cause && b.cause.deemed ? label('deemed', b.cause.deemed) : t('hall.invalid')),
            ' ',
            b.cause ? pickMessage(b.cause.message, b.cause.message_en) || b.cause.code : ''))))));
  }
  const order = st.reading_order === 'draw' ? 'draw' : 'receipt';
  replace(els.reading,
    h('div.card-head', h('h2#reading-heading', t('hall.reading')), h('span.card-note', t('hall.reading_note'))),
    h('p#reading-order.small.muted', { dataset: { order } }, t(`hall.order_${order}`)),
    body,
    lotsSummary());
}

function lotsSummary() {
  const lots = st && Array.isArray(st.lots) ? st.lots : [];
  const failed = lots.filter((l) => l.status && l.status !== 'open' && l.status !== 'standing');
  if (!failed.length) return null;
  return h('ul.lot-outcomes', failed.map((l) => h('li', { dataset: { lot: l.lot_no, status: l.status } },
    h('strong', lotName(l.lot_no)), ' ', label('lotstatus', l.status), l.reason ? `：${pickMessage(l.reason)}` : '')));
}

function renderBids() {
  const bids = (st.bids || []).slice().sort((a, b) => Number(a.lot_no) - Number(b.lot_no));
  const showConfirm = PHASES.indexOf(phase()) >= PHASES.indexOf('confirming');
  replace(els.bids,
    h('div.card-head', h('h2#bids-heading', t('hall.bidders')), h('span.card-note', t('hall.bidders_note'))),
    bids.length
      ? h('div.table-wrap',
        h('table#decrypt-table.table',
          h('thead', h('tr',
            h('th', { scope: 'col' }, t('hall.col_bidder')),
            h('th', { scope: 'col' }, t('bid.col_lot')),
            h('th', { scope: 'col' }, t('hall.col_decrypt')),
            showConfirm ? h('th', { scope: 'col' }, t('hall.col_confirm')) : null)),
          h('tbody', bids.map((b) => h('tr.decrypt-row', { dataset: { bid: b.bid_id, decrypt: b.decrypt_status || 'pending' } },
            h('th', { scope: 'row' }, bidderName(b)),
            h('td', lotName(b.lot_no)),
            h('td', decryptStatusBadge(b), b.decrypted_at ? h('span.small.muted', ` ${formatCST(b.decrypted_at, { seconds: true })}`) : null),
            showConfirm ? h('td', b.confirmation ? label('confirmation', b.confirmation) : h('span.muted', t('hall.not_yet'))) : null)))))
      : emptyBlock(sealedCount() ? t('hall.sealed_bids', { n: sealedCount() }) : t('hall.no_bids')),
    sharesList(),
    signInList());
}

/** Who signed in (签到): what the server lets this member see; nothing before the deadline but to supervisors. */
function signInList() {
  const list = (st && Array.isArray(st.sign_ins) ? st.sign_ins : []).slice().sort((a, b) => Number(a.signed_in_at) - Number(b.signed_in_at));
  const before = phase() === 'published' || phase() === 'sealed';
  if (!list.length && !(before && (isHost() || isSupervisor()))) return null;
  return h('div.sign-ins',
    h('h3.small-heading', t('hall.sign_ins', { n: list.length })),
    list.length
      ? h('ul#sign-in-list.shares-list', list.map((x) => h('li', { dataset: { role: x.role, org: x.org_id || '' } },
        h('span.share-mark.hash-ok', { 'aria-hidden': 'true' }, '✓'),
        ` ${signInRole(x.role)} · ${x.name || orgName(x.org_id)} `,
        h('span.small.muted', formatCST(x.signed_in_at, { seconds: true })))))
      : h('p#sign-in-list.muted.small', t('hall.sign_ins_none')));
}

/** Bids sealed at the deadline (the ledger's bids_sealed), before the opening lists them. */
function sealedCount() {
  const sealed = room.feed.slice().reverse().find((e) => e.kind === 'bids_sealed');
  return sealed && sealed.body ? Number(sealed.body.count) || 0 : 0;
}

function sharesList() {
  const shares = st && Array.isArray(st.shares) ? st.shares : [];
  if (!shares.length) return null;
  return h('div.shares',
    h('h3.small-heading', t('hall.shares', { t: st.threshold, n: shares.length })),
    h('ul#shares-list.shares-list', shares.map((s) => h('li', { dataset: { index: s.index, submitted: String(Boolean(s.submitted_at)) } },
      h('span.share-mark', { class: s.submitted_at ? 'hash-ok' : 'muted', 'aria-hidden': 'true' }, s.submitted_at ? '✓' : '○'),
      ` ${t('cust.index')} ${s.index} · ${(s.custodian && s.custodian.display_name) || '—'} `,
      h('span.small.muted', s.submitted_at ? formatCST(s.submitted_at, { seconds: true }) : t('hall.share_pending'))))));
}

function renderObjections() {
  const list = (st.objections || []).slice().sort((a, b) => Number(a.raised_at) - Number(b.raised_at));
  const canAnswer = isHost() && phase() === 'confirming';
  els.objections.hidden = !list.length && PHASES.indexOf(phase()) < PHASES.indexOf('confirming');
  replace(els.objections,
    h('div.card-head', h('h2#objections-heading', t('hall.objections'))),
    list.length
      ? h('ol#objection-list.objection-list', list.map((o) => {
        let answer;
        if (o.answer) {
          answer = h('div.objection-answer', h('span.side-label', t('hall.answer')), h('p.prewrap', o.answer),
            o.answered_at ? h('span.small.muted', formatCST(o.answered_at, { seconds: true })) : null);
        } else if (canAnswer) {
          let box = answerBoxes.get(o.id);
          if (!box) {
            box = h('textarea.input.answer-box', { rows: 2, maxlength: 2000, id: `answer-${o.id}`, dataset: { objection: o.id } });
            answerBoxes.set(o.id, box);
          }
          const button = h('button.btn.btn-primary.btn-small.answer-submit', { type: 'button', dataset: { objection: o.id } }, t('hall.answer_submit'));
          button.addEventListener('click', () => onAnswer(o, box, button));
          answer = h('div.answer-form', h('label.field-label', { for: box.id }, t('hall.answer_label')), box, h('div.action-bar', button));
        } else {
          answer = h('p.small.muted', t('hall.answer_pending'));
        }
        return h('li.objection', { dataset: { id: o.id, answered: String(Boolean(o.answer)) } },
          h('div.objection-head',
            h('span.tag', label('hall.kind', o.kind)),
            h('strong', (o.bidder && o.bidder.name) || '—'),
            h('span.small.muted', formatCST(o.raised_at, { seconds: true }))),
          h('p.objection-text.prewrap', o.text),
          answer);
      }))
      : h('p.muted', t('hall.no_objections')));
}

function eventText(e) {
  const b = e.body || {};
  // Body fields as in src/ledger/events.rs.
  switch (e.kind) {
    case 'opening_started':
      return t('hall.ev.opening_started', { end: formatCST(b.decrypt_ends_at, { seconds: true }) });
    case 'bidder_decrypted':
      return t('hall.ev.bidder_decrypted', { bidder: orgName(b.bidder_org_id), lot: lotName(b.lot_no) });
    case 'decryption_closed':
      return t(`hall.ev.decryption_closed.${b.reason === 'all_decrypted' ? 'all' : 'window'}`, { n: Array.isArray(b.not_decrypted) ? b.not_decrypted.length : 0 });
    case 'share_submitted':
      return t('hall.ev.share_submitted', { index: b.index });
    case 'custodians_overdue':
      return t('hall.ev.custodians_overdue', { missing: (b.missing || []).join('、') });
    case 'bid_read_out':
      return t('hall.ev.bid_read_out', { bidder: b.bidder_name || orgName(b.bidder_org_id), lot: lotName(b.lot_no), price: b.sheet ? formatMoney(b.sheet.total_price_fen) : '' });
    case 'bid_invalid':
      return t('hall.ev.bid_invalid', { bidder: b.bidder_name || orgName(b.bidder_org_id), cause: b.cause ? pickMessage(b.cause.message, b.cause.message_en) || b.cause.code : '' });
    case 'signed_in':
      return t('hall.ev.signed_in', { who: b.name || orgName(b.org_id), role: signInRole(b.role) });
    case 'record_confirmed':
      return t('hall.ev.record_confirmed', { bidder: b.bidder_name || orgName(b.bidder_org_id) });
    case 'objection_raised':
      return t('hall.ev.objection_raised', { bidder: b.bidder_name || orgName(b.bidder_org_id), kind: label('hall.kind', b.kind) });
    case 'objection_answered':
      return t('hall.ev.objection_answered');
    default:
      return label('ledger', e.kind);
  }
}

function renderRecord() {
  const closed = phase() === 'closed';
  els.record.hidden = !closed;
  if (!closed) return;
  replace(els.record,
    h('div.card-head', h('h2#record-heading', t('hall.record'))),
    h('p.small', t('hall.record_note')),
    h('a#record-link.btn.btn-primary.btn-block', { href: `/record.html?tender=${encodeURIComponent(tenderId)}` }, t('hall.record_open')));
}

function renderAll() {
  if (stError && !st) {
    const notMine = stError instanceof ApiError && (stError.status === 403 || stError.status === 404);
    replace(els.alert, notMine ? banner('warning', t('hall.not_member')) : errorBlock(failText(stError), refetch));
    return;
  }
  if (!st) return;
  clear(els.alert);
  keepingFocus(() => {
    renderPhase();
    renderActions();
    renderReading();
    renderBids();
    renderObjections();
    chat.render();
    renderRecord();
    room.renderFeed();
    room.renderPresence();
  });
}

function renderTitle() {
  if (!tender) return;
  els.title.textContent = `${tender.code ? `${tender.code} · ` : ''}${tender.title || ''}`;
  els.crumb.hidden = false;
  els.crumbLink.textContent = tender.code || tender.title || '';
  els.crumbLink.href = me && me.role === 'supplier'
    ? `/announcement.html?id=${encodeURIComponent(tenderId)}`
    : `/tender.html?id=${encodeURIComponent(tenderId)}`;
  setPageTitle(() => `${t('hall.title')} · ${tender.title || ''}`);
}

/** Once a second: the countdown, and a re-render when the decryption window runs out. */
function tick() {
  // Sign-in opens on the server's clock: show the button then.
  const mine = st && st.me && st.me.sign_in;
  if (mine && $('sign-in-opens') && hallNow() >= mine.opens_at) renderActions();
  const el = $('phase-countdown');
  if (el) {
    const text = countdownText(Number(el.dataset.target));
    if (el.textContent !== text) el.textContent = text;
    const over = Number(el.dataset.target) <= hallNow();
    el.classList.toggle('is-past', over);
    if (over && !el.dataset.over) {
      el.dataset.over = '1';
      renderActions();
    }
  }
}

// -------------------------------------------------------------------- main --

async function main() {
  setPageTitle('hall.title');
  me = await initLayout({ auth: 'required', active: 'console' });
  if (!tenderId) {
    replace(els.alert, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
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
    replace(els.alert, notMine ? banner('warning', t('hall.not_member')) : errorBlock(failText(e), () => location.reload()),
      h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  clear(els.loading);
  els.page.hidden = false;
  renderTitle();
  // A supplier in a negotiation makes its offers in the rounds' room.
  get(`/api/tenders/${encodeURIComponent(tenderId)}/rounds`)
    .then((r) => {
      if (r.phase !== 'not_started') {
        replace($('hall-rounds-link'), banner('info', t('rounds.link_hint'), {
          action: h('a#rounds-link.btn.btn-small', { href: `/rounds.html?tender=${encodeURIComponent(tenderId)}` }, t('rounds.link')),
        }));
      }
    })
    .catch(() => {});
  room.renderConn();
  renderAll();
  if (me.role === 'supplier') {
    fetchClarifications();
    try {
      for (const b of await get(`/api/tenders/${encodeURIComponent(tenderId)}/bids/mine`)) myLots.set(b.bid_id, b.lot_no);
    } catch (_) {
      /* the lot names only */
    }
  }
  try {
    keys = { state: 'ready', record: await loadDeviceKeys(me.id) };
  } catch (_) {
    keys = { state: 'unsupported', record: null };
  }
  renderActions();

  room.start();
  setInterval(tick, 1000);
  onLangChange(() => {
    renderTitle();
    room.renderConn();
    objectForm = null;
    keyPanelEl = null;
    renderAll();
  });
}

main();
