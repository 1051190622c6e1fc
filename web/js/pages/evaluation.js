// 评标室 (远程异地评标): one page for everyone in a tender's evaluation (docs/evaluation.md),
// adapting to who is looking. Experts answer the invitation, review compliance, score blind
// (the panel's scores open for a bid only once their own are in), revise or explain flagged
// scores, ask bidders for clarifications and sign the report with their own signing key
// (non-extractable in this browser, or imported from a key file). The agency asks for the
// draw, gives qualification verdicts, asks for clarifications and closes scoring; the
// finance supervisor gives the draw's nonce; the purchaser gives verdicts and confirms the
// winner; supervisors watch everything, read-only.
//
// State: GET /api/tenders/{id}/evaluation, a view made for whoever asks. The hub room
// `evaluation:<id>` sends the tender's ledger events, which carry ids, seats and hashes only:
// each one fetches the view again (once, with a little jitter, so a room full of watchers
// does not ask at the same instant). Commands go over the hub while it is live, else over
// POST /api/tenders/{id}/evaluation (room.js); each button is disabled while its command is out.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError, isSupervisorRole } from '../api.js';
import { t, label, noteText, onLangChange, pickMessage, getLang } from '../i18n.js';
import { formatCST, formatMoney, parseYuanToFen, shortHash } from '../format.js';
import { h, clear, replace, keepingFocus, param, loadingBlock, emptyBlock, errorBlock, banner, showBanner, openDialog, toast, countdown, startCountdowns, lineIcon } from '../ui.js';
import { LiveRoom } from '../room.js';
import { ChatPanel } from '../chat.js';
import { openReader } from '../reader.js';
import { keyImportPanel } from '../keyimport.js';
import { loadDeviceKeys, ensureDeviceKeys, sign } from '../crypto/keys.js';
import { canonicalJson } from '../crypto/json.js';
import { toB64url, utf8 } from '../crypto/bytes.js';

const tenderId = param('tender');
const $ = (id) => document.getElementById(id);
const els = {
  alert: $('eval-alert'),
  loading: $('eval-loading'),
  page: $('eval-page'),
  title: $('eval-tender-title'),
  crumb: $('crumb-tender'),
  crumbLink: $('crumb-tender-link'),
  conn: $('eval-conn'),
  phase: $('eval-phase'),
  actions: $('eval-actions'),
  bids: $('eval-bids'),
  report: $('eval-report'),
  panel: $('eval-panel'),
  presence: $('eval-presence'),
  feed: $('eval-feed'),
};

// The hub room, its presence and feed (room.js); each event fetches the view again.
const room = new LiveRoom('evaluation', tenderId, {
  slots: { conn: els.conn, presence: els.presence, feed: els.feed, media: $('eval-media') },
  presenceHeading: 'eval-presence-heading',
  feedHeading: 'eval-feed-heading',
  feedTitle: 'eval.feed',
  eventText,
  onEvent,
  onSubscribed: () => {
    refetch().then(renderTitle);
    chat.refresh();
  },
  onFailed: (error) => {
    if (v) showBanner(els.alert, 'warning', failText(error));
  },
});

// 互动区: the seated panel talks among themselves; supervisors read.
const TALKING = ['qualification', 'compliance', 'scoring', 'signing'];
const chat = new ChatPanel($('eval-chat'), {
  url: `/api/tenders/${encodeURIComponent(tenderId)}/evaluation/messages`,
  send: (cmd) => room.command(cmd),
  mode: () => {
    if (!v) return null;
    if (isSeated()) return TALKING.includes(v.phase) ? 'panel' : 'reader';
    return isSupervisor() ? 'reader' : null;
  },
});

const PHASES = ['drawing', 'seating', 'qualification', 'compliance', 'scoring', 'signing', 'reported', 'awarded'];
const CHANGE_KINDS = ['objective_mismatch', 'arithmetic', 'out_of_range', 'wrong_facts'];
const SPECIALTIES = ['it_hardware', 'software', 'medical_equipment', 'construction', 'education_equipment', 'property_services', 'environmental', 'vehicles', 'finance_audit', 'legal'];
const SCORE_RE = /^(100(\.0{1,2})?|\d{1,2}(\.\d{1,2})?)$/;

let me = null; // the logged-in user
let v = null; // the evaluation view
let vError = null;
let refetchTimer = null;
let keys = { state: 'checking', record: null };
let keyPanelEl = null;
let keyPanelReplace = false;
/** Commands out now, by key ("score:<bid>", "sign"...): their buttons are disabled. */
const inflight = new Set();
/** The last refusal per command key, shown beside its control until the next try. */
const failures = new Map();
/** Inputs kept across re-renders, so typing is never lost when the view is fetched again. */
const inputs = new Map();
/** Panel scores fetched from /evaluation/scores when the view leaves them out. */
const fetchedScores = new Map();

// ------------------------------------------------------------------ roles --

const myRole = () => (v && v.me && v.me.role) || null;
const isExpert = () => myRole() === 'expert';
const isSeated = () => isExpert() && v.me.status === 'accepted';
const isHost = () => myRole() === 'host' || (me && me.role === 'agency' && !myRole());
const isPurchaser = () => myRole() === 'purchaser';
const isFinance = () => Boolean((v && v.me && v.me.finance) || (me && me.role === 'finance'));
const isSupervisor = () => Boolean(me && isSupervisorRole(me.role));
const phase = () => (v ? v.phase : null);
const phaseAt = (p) => PHASES.indexOf(phase()) >= PHASES.indexOf(p);
const bids = () => (v && Array.isArray(v.bids) ? v.bids : []);
const items = () => (v && v.terms && Array.isArray(v.terms.items) ? v.terms.items : []);
/** The tender's compliance checklist (符合性审查表), empty without one. */
const checklist = () => (v && v.terms && Array.isArray(v.terms.checklist) ? v.terms.checklist : []);

function bidById(id) {
  return bids().find((b) => b.bid_id === id) || null;
}

/** A bidder as the report names it (a bid id or a name) → the bidder's name. */
function bidderLabel(x) {
  const b = bidById(x);
  return b ? b.bidder_name || shortHash(b.bid_id, 8) : String(x || '—');
}

function lotName(no) {
  return t('bid.lot_n', { n: no });
}

/** The seat this expert holds, only while seated (one who declined holds none). */
function mySeat() {
  return isExpert() && v && v.me && v.me.status === 'accepted' ? Number(v.me.seat) : NaN;
}

/**
 * Who holds a seat: the expert seated there, not one who declined it before a top-up
 * (both carry the seat's number).
 */
function seatHolder(seat) {
  const panel = v && v.panel ? v.panel : [];
  const at = panel.filter((x) => Number(x.seat) === Number(seat));
  return at.find((x) => x.status === 'accepted') || at.find((x) => x.status !== 'declined') || null;
}

/** The name beside a seat, where the view gives one (supervisors, oneself, after award). */
function seatOnly(seat) {
  const p = seatHolder(seat);
  return p && p.name ? h('div.small.muted.seat-name', p.name) : null;
}

function seatName(seat) {
  const p = seatHolder(seat);
  const n = t('eval.seat_n', { n: seat });
  return p && p.name ? `${n} · ${p.name}` : n;
}

/** "85.5" / 8550 (hundredths) / "85.50" → "85.50". */
function points(x) {
  if (x === null || x === undefined || x === '') return '—';
  if (typeof x === 'number') return (x / 100).toFixed(2);
  return String(x);
}

/** Basis points → "10%" / "2.5%". */
function rate(bp) {
  const n = Number(bp) / 100;
  return `${Number.isInteger(n) ? n : n.toFixed(2).replace(/0$/, '')}%`;
}

function failText(e) {
  if (e instanceof ApiError) {
    const fields = Object.values(e.fields || {}).flat().map(String);
    const base = e.code === 'NETWORK' ? t('hall.err.NETWORK') : errorText(e);
    return fields.length ? `${base}（${fields.join('；')}）` : base;
  }
  return (e && e.message) || String(e);
}

// --------------------------------------------------------------- commands --

/**
 * Runs `cmd` under `key`: one at a time per key (its buttons are disabled meanwhile), the
 * refusal kept for the key's error slot, the view fetched again after.
 */
async function run(key, cmd, { done, okText } = {}) {
  if (inflight.has(key)) return false;
  inflight.add(key);
  failures.delete(key);
  renderAll();
  let ok = false;
  try {
    await room.command(cmd);
    ok = true;
    if (done) done();
    if (okText) toast(okText);
  } catch (e) {
    failures.set(key, e);
  } finally {
    inflight.delete(key);
  }
  await refetch();
  return ok;
}

/** The refusal of `key`'s last command, as a banner, or null. */
function failure(key) {
  const e = failures.get(key);
  if (!e) return null;
  return h('div.command-error', { dataset: { key, code: e.code || 'ERROR' } }, banner('error', failText(e)));
}

/** A command button: disabled, with a busy text, while its command is out. */
function cmdButton(key, text, onClick, { cls = 'btn-primary', id, disabled = false } = {}) {
  const busy = inflight.has(key);
  return h(`button.btn.${cls.split(/\s+/).join('.')}`, {
    type: 'button',
    id,
    disabled: busy || disabled,
    'aria-busy': busy ? 'true' : null,
    dataset: { cmd: key },
    on: { click: onClick },
  }, busy ? t('eval.sending') : text);
}

/** An input kept by `key` across re-renders. */
function keep(key, make) {
  let el = inputs.get(key);
  if (!el) {
    el = make();
    inputs.set(key, el);
  }
  return el;
}

function textBox(key, { rows = 2, placeholder, maxlength = 2000 } = {}) {
  return keep(key, () => h('textarea.input', { rows, maxlength, placeholder, id: `in-${key.replace(/[^\w-]/g, '-')}`, dataset: { input: key } }));
}

function required(el) {
  const value = el.value.trim();
  if (!value) {
    el.setAttribute('aria-invalid', 'true');
    el.focus();
    return null;
  }
  el.removeAttribute('aria-invalid');
  return value;
}

// ------------------------------------------------------------------- state --

async function fetchView() {
  return get(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation`);
}

async function refetch() {
  clearTimeout(refetchTimer);
  refetchTimer = null;
  try {
    v = await fetchView();
    vError = null;
  } catch (e) {
    vError = e;
  }
  await fillSealedScores();
  await fillWarnings();
  await fillReads();
  renderAll();
}

/** The supervisors': the tender's collusion warnings still open, fetched with the view
 *  on each event of the room (decisions, kept in a chain of their own, are no event:
 *  they show at the next). None before the opening ends. */
let openWarnings = null;
async function fillWarnings() {
  if (!v || !isSupervisor()) return;
  try {
    const w = await get(`/api/tenders/${encodeURIComponent(tenderId)}/warnings`);
    openWarnings = w.warnings.filter((x) => x.status === 'open');
  } catch (_) {
    openWarnings = null; // WARNINGS_NOT_YET: the opening has not ended
  }
}

/** The supervisors': who opened which document in the reader, latest first. */
let reads = null;
async function fillReads() {
  if (!v || !isSupervisor()) return;
  try {
    reads = await get(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation/document-reads`);
  } catch (_) {
    reads = null;
  }
}

function renderReads() {
  const el = $('eval-reads');
  el.hidden = !reads;
  if (!reads) return;
  replace(el,
    h('div.card-head', h('h2#eval-reads-heading', t('reader.reads'))),
    reads.length
      ? h('ul#reads-list.shares-list', reads.slice(0, 50).map((r) => h('li',
        h('span.small.muted', formatCST(r.at, { seconds: true })), ' ',
        r.seat ? t('reader.reader_seat', { n: r.seat }) : label('role', r.role), ' · ', r.name)))
      : h('p.muted', t('reader.reads_none')));
}

function scheduleRefetch() {
  if (refetchTimer) return;
  refetchTimer = setTimeout(refetch, 100 + Math.floor(Math.random() * 400));
}

/** The panel's scores of a bid the expert has scored, when the view did not carry them. */
async function fillSealedScores() {
  if (!v || !isExpert()) return;
  for (const b of bids()) {
    if (!b.my_scores || Array.isArray(b.scores)) continue;
    try {
      const s = await get(`/api/tenders/${encodeURIComponent(tenderId)}/evaluation/scores?bid_id=${encodeURIComponent(b.bid_id)}`);
      fetchedScores.set(b.bid_id, Array.isArray(s) ? s : s && Array.isArray(s.scores) ? s.scores : []);
    } catch (_) {
      /* sealed or not yet: the view will say */
    }
  }
}

// No switch over e.kind here: every event refetches the view. Where a body is read (the
// feed's seat), its fields are those of its kind's struct in src/ledger/events.rs.
function onEvent(e) {
  if (e && e.kind === 'message_posted') chat.schedule();
  room.renderFeed();
  scheduleRefetch();
}

// ----------------------------------------------------------------- actions --

/** Takes the seat with the declaration of no conflict (回避承诺) signed in this browser. */
async function onAccept() {
  const key = 'accept';
  const d = v.me && v.me.declaration;
  const box = inputs.get('accept:declare');
  if (!d || !box || !box.checked) {
    failures.set(key, new Error(t('eval.declare_required')));
    renderAll();
    return;
  }
  const record = keys.record || (await loadDeviceKeys(me.id).catch(() => null));
  if (!record) {
    keys = { state: 'ready', record: null };
    renderAll();
    return;
  }
  let signature;
  try {
    // The server names the exact bytes: the canonical JSON of the declaration's digest,
    // the tender and this expert's pseudonym.
    signature = toB64url(await sign(record, utf8(d.example_payload)));
  } catch (e) {
    failures.set(key, e);
    renderAll();
    return;
  }
  run(key, { type: 'accept', declaration: { key_id: record.signing.keyId, signature } }, { okText: t('eval.accepted_ok') });
}

async function onDecline() {
  const reason = await openDialog({
    title: t('eval.decline_title'),
    message: t('eval.decline_text'),
    okText: t('eval.decline'),
    danger: true,
    input: { label: t('eval.reason') },
  });
  if (reason === null) return;
  run('decline', { type: 'decline', reason });
}

async function onRequestDraw() {
  const specialty = required(inputs.get('draw:specialty'));
  if (!specialty) return;
  if (!(await openDialog({ title: t('eval.request_draw'), message: t('eval.request_draw_confirm'), okText: t('eval.request_draw') }))) return;
  const cmd = { type: 'request_draw', specialty, complex: inputs.get('draw:complex').checked };
  const region = inputs.get('draw:region').value.trim();
  if (region) cmd.region = region;
  const size = inputs.get('draw:size').value.trim();
  if (size) cmd.committee_size = Number(size);
  run('request_draw', cmd, { okText: t('eval.draw_requested') });
}

async function onDraw() {
  const nonce = required(inputs.get('draw:nonce'));
  if (!nonce) return;
  if (!(await openDialog({ title: t('eval.draw'), message: t('eval.draw_confirm', { nonce }), okText: t('eval.draw') }))) return;
  run('draw', { type: 'draw', nonce }, { done: () => { inputs.get('draw:nonce').value = ''; } });
}

function verdict(kind, bidId, pass) {
  const box = inputs.get(`${kind}:${bidId}:reason`);
  const reason = box ? box.value.trim() : '';
  if (!pass && !reason) {
    box.setAttribute('aria-invalid', 'true');
    box.focus();
    failures.set(`${kind}:${bidId}`, new Error(t('eval.reason_required')));
    renderBids();
    return;
  }
  run(`${kind}:${bidId}`, { type: kind, bid_id: bidId, pass, reason }, { done: () => inputs.delete(`${kind}:${bidId}:reason`) });
}

/** 符合性审查表: a verdict on every criterion, a failure with its reason, sent as one review. */
function onChecklist(bidId) {
  const key = `review:${bidId}`;
  const checks = {};
  for (const c of checklist()) {
    const pick = inputs.get(`${key}:check:${c.name}`);
    const why = inputs.get(`${key}:check:${c.name}:reason`);
    const value = pick ? pick.value : '';
    const reason = why ? why.value.trim() : '';
    if (!value || (value === 'fail' && !reason)) {
      const el = value ? why : pick;
      if (el) {
        el.setAttribute('aria-invalid', 'true');
        el.focus();
      }
      failures.set(key, new Error(t(value ? 'eval.check_reason_required' : 'eval.check_missing', { name: c.name })));
      renderBids();
      return;
    }
    checks[c.name] = value === 'pass' ? { pass: true } : { pass: false, reason };
  }
  const pass = Object.values(checks).every((c) => c.pass);
  run(key, { type: 'review', bid_id: bidId, pass, reason: '', checks }, {
    done: () => checklist().forEach((c) => {
      inputs.delete(`${key}:check:${c.name}`);
      inputs.delete(`${key}:check:${c.name}:reason`);
    }),
  });
}

function onScore(bidId) {
  const out = {};
  // 评分细则: the band picked per item with a rubric; the server holds the score to it.
  const picked = {};
  let bad = null;
  for (const it of items()) {
    const el = inputs.get(`score:${bidId}:${it.name}`);
    const value = el ? el.value.trim() : '';
    const ok = SCORE_RE.test(value);
    if (el) el.toggleAttribute('aria-invalid', !ok);
    if (!ok && !bad) bad = el;
    out[it.name] = value;
    const band = inputs.get(`score:${bidId}:${it.name}:band`);
    if (band && band.value) picked[it.name] = band.value;
  }
  if (bad) {
    bad.focus();
    failures.set(`score:${bidId}`, new Error(t('eval.score_format')));
    renderBids();
    return;
  }
  run(`score:${bidId}`, { type: 'score', bid_id: bidId, items: out, bands: picked }, {
    okText: t('eval.scored_ok'),
    done: () => {
      for (const it of items()) {
        inputs.delete(`score:${bidId}:${it.name}`);
        inputs.delete(`score:${bidId}:${it.name}:band`);
      }
    },
  });
}

function onRevise(bidId, item, key) {
  const score = (inputs.get(`${key}:score`).value || '').trim();
  if (!SCORE_RE.test(score)) {
    inputs.get(`${key}:score`).setAttribute('aria-invalid', 'true');
    failures.set(key, new Error(t('eval.score_format')));
    renderBids();
    return;
  }
  const reason = required(inputs.get(`${key}:reason`));
  if (!reason) return;
  const itemName = item || inputs.get(`${key}:item`).value;
  const kind = inputs.get(`${key}:kind`).value;
  run(key, { type: 'revise', bid_id: bidId, item: itemName, score, kind, reason }, {
    okText: t('eval.revised_ok'),
    done: () => ['score', 'reason', 'item', 'kind'].forEach((k) => inputs.delete(`${key}:${k}`)),
  });
}

function onExplain(bidId, item, key) {
  const reason = required(inputs.get(`${key}:reason`));
  if (!reason) return;
  run(key, { type: 'explain', bid_id: bidId, item, reason }, { done: () => inputs.delete(`${key}:reason`) });
}

function onClarify(bidId) {
  const question = required(inputs.get(`clarify:${bidId}`));
  if (!question) return;
  run(`clarify:${bidId}`, { type: 'clarify', bid_id: bidId, question }, {
    okText: t('eval.clarify_sent'),
    done: () => inputs.delete(`clarify:${bidId}`),
  });
}

async function onFinish() {
  const ok = await openDialog({ title: t('eval.finish_title'), message: t('eval.finish_text'), okText: t('eval.finish') });
  if (ok) run('finish_scoring', { type: 'finish_scoring' }, { okText: t('eval.finished_ok') });
}

async function onConfirmWinner() {
  const ok = await openDialog({ title: t('eval.confirm_title'), message: t('eval.confirm_text'), okText: t('eval.confirm_winner') });
  if (ok) run('confirm_winner', { type: 'confirm_winner' }, { okText: t('eval.confirmed_ok') });
}

/** The canonical JSON signed for the report (docs/evaluation.md, Signing): exactly these
 * five fields, whatever else the view's `signing` carries. */
function signingPayload(signing, dissent) {
  return canonicalJson({
    dissent,
    expert_id: signing.expert_id,
    report_sha256: signing.report_sha256,
    tender_id: signing.tender_id,
    type: signing.type || 'evaluation_report_signature',
  });
}

async function onSign() {
  const key = 'sign';
  if (inflight.has(key)) return;
  if (!(await openDialog({ title: t('eval.sign'), message: t('eval.sign_confirm'), okText: t('eval.sign') }))) return;
  const record = keys.record || (await loadDeviceKeys(me.id).catch(() => null));
  if (!record) {
    keys = { state: 'ready', record: null };
    renderReport();
    return;
  }
  const dissent = (inputs.get('sign:dissent') ? inputs.get('sign:dissent').value : '').trim();
  const signing = v.report && v.report.signing;
  inflight.add(key);
  failures.delete(key);
  renderReport();
  let signature;
  try {
    signature = toB64url(await sign(record, utf8(signingPayload(signing, dissent))));
  } catch (e) {
    inflight.delete(key);
    failures.set(key, e);
    renderReport();
    return;
  }
  inflight.delete(key);
  const ok = await run(key, { type: 'sign', key_id: record.signing.keyId, signature, dissent }, {
    okText: t('eval.signed_ok'),
    done: () => inputs.delete('sign:dissent'),
  });
  // A key the platform does not know (replaced, revoked): offer to import the right one.
  if (!ok) {
    const code = failures.get(key) && failures.get(key).code;
    if (code === 'SIGNATURE_INVALID' || code === 'KEY_NOT_FOUND' || code === 'KEY_REVOKED') {
      keyPanelReplace = true;
      keyPanelEl = null;
      renderReport();
    }
  }
}

// ------------------------------------------------------------------ render --


function renderPhase() {
  const p = phase();
  const idx = p === 'awarded' ? PHASES.length : PHASES.indexOf(p);
  els.phase.dataset.phase = p || '';
  const pr = v.progress || null;
  let extra = null;
  if (pr && (p === 'compliance' || p === 'scoring')) {
    const done = p === 'compliance' ? pr.reviews_done : pr.scores_done;
    const total = p === 'compliance' ? pr.reviews_total : pr.scores_total;
    extra = h('div.reveal-progress',
      h('progress#eval-progress', { max: total || 1, value: done || 0 }),
      h('span#eval-progress-text.small', t(p === 'compliance' ? 'eval.reviews_progress' : 'eval.scores_progress', { done: done || 0, total: total || 0 })));
  }
  const due = p === 'reported' && v.confirm_due_at;
  replace(els.phase,
    h('h2#eval-phase-heading.visually-hidden', t('hall.phase')),
    h('div.phase-top',
      h('div.phase-now',
        h('span.side-label', t('hall.phase')),
        h('strong#phase-name.phase-name', { dataset: { phase: p || '' } }, p ? label('ephase', p) : t('eval.not_started'))),
      due
        ? h('div.phase-countdown',
          h('span.side-label', t('eval.confirm_due')),
          countdown(v.confirm_due_at, { className: 'big-countdown', done: 'eval.confirm_passed' }),
          h('span.small.muted', `${formatCST(v.confirm_due_at)} ${t('common.cst')}`))
        : null),
    p === 'failed'
      ? banner('warning', v.failed_reason ? pickMessage(v.failed_reason) : t('eval.failed_text'), { title: label('ephase', 'failed') })
      : h('ol.phase-steps.eval-steps', PHASES.map((x, i) => h('li.phase-step', {
        class: i < idx ? 'is-done' : i === idx ? 'is-current' : '',
        'aria-current': i === idx ? 'step' : null,
      }, h('span.step-dot', { 'aria-hidden': 'true' }, i < idx ? '✓' : String(i + 1)), h('span.step-name', label('ephase', x))))),
    extra);
  startCountdowns();
}

// ----- role cards

const CHOOSING = ['qualification', 'compliance', 'scoring'];

/** 评标组长: who it is, or the vote for it (a seated expert) and the draw (the agency). */
function chairBlock() {
  const p = phase();
  if (v.chair) {
    const mine = isSeated() && Number(v.chair.seat) === mySeat();
    return h('p#chair-chosen.chair-line', t(v.chair.drawn ? 'eval.chair_drawn' : 'eval.chair_elected', { n: v.chair.seat }),
      mine ? h('span.tag', t('eval.you')) : null);
  }
  if (!CHOOSING.includes(p)) return null;
  const tally = (v.chair_votes || []).map((x) => t('eval.chair_tally', { n: x.seat, votes: x.votes })).join('，');
  const parts = [h('p.small.muted', t('eval.chair_note'), tally ? ` ${tally}` : '')];
  if (isSeated()) {
    const seats = (v.panel || []).filter((x) => x.status === 'accepted').map((x) => Number(x.seat)).sort((a, b) => a - b);
    const pick = keep('chair:seat', () => h('select#chair-seat.input', seats.map((n) => h('option', { value: n }, t('eval.seat_n', { n })))));
    parts.push(h('div.action-bar', h('label.field-label', { for: 'chair-seat' }, t('eval.chair_vote_for')), pick,
      cmdButton('elect_chair', t('eval.chair_vote'), () => run('elect_chair', { type: 'elect_chair', seat: Number(pick.value) }), { id: 'elect-chair', cls: 'btn-outline' })),
    failure('elect_chair'));
  } else if (isHost()) {
    parts.push(h('div.action-bar', cmdButton('draw_chair', t('eval.chair_draw'), () => run('draw_chair', { type: 'draw_chair' }), { id: 'draw-chair', cls: 'btn-outline' })),
      failure('draw_chair'));
  }
  return h('div#chair-block.chair-block', h('h3.small-heading', t('eval.chair')), parts);
}

function expertCard() {
  const p = phase();
  const st = v.me.status;
  const body = [h('p.card-note', t('eval.seat_is', { n: v.me.seat || '—' }), ' · ', label('seat', st))];
  if (st === 'invited') {
    const d = v.me.declaration;
    const declare = keep('accept:declare', () => h('input#declare-check', { type: 'checkbox' }));
    body.push(h('p', t('eval.invite_text')),
      d ? h('section.declaration', { 'aria-labelledby': 'declaration-heading' },
        h('h3#declaration-heading.small-heading', t('eval.declaration')),
        h('blockquote#declaration-text.prewrap', { lang: 'zh-CN' }, d.statement),
        // The Chinese text is the one signed; the English screen adds a rendering of it.
        getLang() === 'en' && d.statement_en
          ? h('div#declaration-en', h('p.small.muted', t('eval.declaration_translation')),
            h('blockquote.prewrap', { lang: 'en' }, d.statement_en))
          : null,
        h('label.checkbox', declare, ' ', t('eval.declare_check')),
        h('p.small.muted', t('eval.declare_note'))) : null);
    if (keys.state === 'checking') {
      body.push(loadingBlock());
    } else if (!keys.record) {
      // The declaration is signed with the expert's signing key: made here or imported.
      body.push(banner('warning', t('eval.no_keys_declare'), { title: t('hall.no_keys_title') }),
        h('div.action-bar', h('button.btn.btn-primary#create-sign-key', { type: 'button', on: { click: onCreateKey } }, t('eval.create_key')),
          h('span.small.muted', t('eval.create_key_note'))),
        keyPanel());
    } else if (keys.how) {
      body.push(h('p#key-ready.hash-ok', `✓ ${t(keys.how === 'imported' ? 'eval.key_imported' : 'eval.key_created')}`));
    }
    body.push(h('div.action-bar',
      keys.record ? cmdButton('accept', t('eval.accept_declare'), onAccept, { id: 'accept-invite' }) : null,
      cmdButton('decline', t('eval.decline'), onDecline, { id: 'decline-invite', cls: 'btn-outline-danger' })),
    failure('accept'), failure('decline'), failure('sign'));
  } else if (st === 'declined') {
    body.push(h('p.muted', t('eval.declined_note')));
  } else if (p === 'seating' || p === 'qualification') {
    body.push(h('p.muted', t(`eval.expert_wait.${p}`)));
  } else if (p === 'compliance') {
    const mine = bids().filter((b) => b.reviews && b.reviews.mine).length;
    body.push(h('p#my-reviews.host-count', t('eval.my_reviews', { done: mine, total: bids().filter((b) => b.qualification && b.qualification.pass).length })));
  } else if (p === 'scoring') {
    const scorable = bids().filter((b) => b.compliant);
    const mine = scorable.filter((b) => b.my_scores).length;
    body.push(h('p#my-scores.host-count', t('eval.my_scores', { done: mine, total: scorable.length })),
      h('p.small.muted', t('eval.blind_note')));
    // The chair finishes the scoring for the panel.
    if (v.chair && Number(v.chair.seat) === mySeat()) {
      body.push(h('p.small.muted', t('eval.finish_note')),
        h('div.action-bar', cmdButton('finish_scoring', t('eval.finish'), onFinish, { id: 'finish-scoring' })),
        failure('finish_scoring'));
    }
  } else if (p === 'signing') {
    body.push(h('p', t('eval.sign_note_short')), h('a.btn.btn-primary', { href: '#eval-report' }, t('eval.go_sign')));
  }
  if (st === 'accepted') body.push(chairBlock());
  return h('section#expert-card.card.role-card', { 'aria-labelledby': 'expert-heading' },
    h('div.card-head', h('h2#expert-heading', t('eval.expert_card'))), body);
}

function drawForm() {
  // The pool's specialties (as the demo city's pool has them).
  const specialty = keep('draw:specialty', () => h('select#draw-specialty.input',
    h('option', { value: '' }, t('eval.choose')),
    SPECIALTIES.map((x) => h('option', { value: x }, label('spec', x)))));
  const region = keep('draw:region', () => h('input#draw-region.input', { inputmode: 'numeric', placeholder: '420200' }));
  const complex = keep('draw:complex', () => h('input#draw-complex', { type: 'checkbox' }));
  const size = keep('draw:size', () => h('input#draw-size.input', { type: 'number', min: 3, step: 2 }));
  return h('div#draw-form.eval-form',
    h('p.card-note', t('eval.draw_note')),
    h('div.form-grid.eval-grid',
      h('div.field', h('label.field-label', { for: 'draw-specialty' }, t('eval.specialty'), h('span.req', { 'aria-hidden': 'true' }, ' *')), specialty),
      h('div.field', h('label.field-label', { for: 'draw-region' }, t('eval.region')), region, h('p.field-hint.small.muted', t('eval.region_hint'))),
      h('div.field', h('label.field-label', { for: 'draw-size' }, t('eval.committee_size')), size, h('p.field-hint.small.muted', t('eval.committee_hint'))),
      h('div.field', h('label.checkbox', complex, ' ', t('eval.complex')))),
    h('div.action-bar', cmdButton('request_draw', t('eval.request_draw'), onRequestDraw, { id: 'request-draw' })),
    failure('request_draw'));
}

function hostCard() {
  const p = phase();
  const body = [];
  if (!p) {
    body.push(drawForm());
  } else if (p === 'drawing') {
    body.push(h('p.card-note', t('eval.wait_nonce')));
  } else if (p === 'seating') {
    const acc = (v.panel || []).filter((x) => x.status === 'accepted').length;
    body.push(h('p.host-count', t('eval.seated_count', { done: acc, total: (v.requirement && v.requirement.committee_size) || (v.panel || []).length })));
  } else if (p === 'qualification') {
    const done = bids().filter((b) => b.qualification).length;
    body.push(h('p.host-count', t('eval.qualified_count', { done, total: bids().length })), h('p.small.muted', t('eval.qualify_note')));
  } else if (p === 'compliance' && v.progress) {
    body.push(h('p.host-count', t('eval.reviews_progress', { done: v.progress.reviews_done, total: v.progress.reviews_total })));
  } else if (p === 'scoring') {
    const pr = v.progress || {};
    body.push(h('p.host-count', t('eval.scores_progress', { done: pr.scores_done || 0, total: pr.scores_total || 0 })));
    // The chair finishes the scoring; until the panel has one the agency is asked to draw.
    if (!v.chair) body.push(h('p#chair-needed.small', t('eval.chair_needed')));
  } else {
    body.push(h('p.card-note', label('ephase', p)));
  }
  if (p) body.push(chairBlock());
  return h('section#host-card.card.role-card', { 'aria-labelledby': 'host-heading' },
    h('div.card-head', h('h2#host-heading', t('eval.host_card'))), body);
}

function financeCard() {
  const nonce = keep('draw:nonce', () => h('input#draw-nonce.input', { autocomplete: 'off', maxlength: 200 }));
  const req = v.requirement || {};
  return h('section#finance-card.card.role-card', { 'aria-labelledby': 'finance-heading' },
    h('div.card-head', h('h2#finance-heading', t('eval.finance_card'))),
    h('p.card-note', t('eval.nonce_note')),
    h('dl.kv.eval-kv',
      kv(t('eval.specialty'), label('spec', req.specialty)),
      kv(t('eval.region'), req.region || t('eval.any_region')),
      kv(t('eval.committee_size'), req.committee_size || t('eval.default_size')),
      kv(t('eval.complex'), req.complex ? t('common.yes') : t('common.no'))),
    h('div.field', h('label.field-label', { for: 'draw-nonce' }, t('eval.nonce'), h('span.req', { 'aria-hidden': 'true' }, ' *')), nonce),
    h('div.action-bar', cmdButton('draw', t('eval.draw'), onDraw, { id: 'draw-submit' })),
    failure('draw'));
}

function purchaserCard() {
  const p = phase();
  const body = [];
  if (p === 'reported') {
    body.push(h('p', t('eval.confirm_note')),
      v.confirm_due_at ? h('p#confirm-due.small', t('eval.confirm_due_at', { at: formatCST(v.confirm_due_at) }), ' · ',
        countdown(v.confirm_due_at, { format: 'eval.left', done: 'eval.confirm_passed' })) : null,
      h('div.action-bar', cmdButton('confirm_winner', t('eval.confirm_winner'), onConfirmWinner, { id: 'confirm-winner' })),
      failure('confirm_winner'));
  } else if (p === 'qualification') {
    body.push(h('p.card-note', t('eval.qualify_note')));
  } else if (p === 'awarded') {
    body.push(h('p.hash-ok', `✓ ${t('eval.awarded_note')}`));
  } else {
    body.push(h('p.card-note', t('eval.purchaser_wait')));
  }
  return h('section#purchaser-card.card.role-card', { 'aria-labelledby': 'purchaser-heading' },
    h('div.card-head', h('h2#purchaser-heading', t('eval.purchaser_card'))), body);
}

/** The collusion warnings the supervisors confirmed, told to the committee (O87 art 37). */
function confirmedWarnings() {
  const list = (v && v.confirmed_warnings) || [];
  if (!list.length) return null;
  const names = new Map(((v && v.bids) || []).map((b) => [b.bid_id, b.bidder_name]));
  return banner('error', t('eval.warnings_confirmed'), {
    list: list.map((w) => `${t(`warn.kind.${w.kind}`)}：${w.bids.map((b) => names.get(b) || b).join('、')}（${w.reason}）`),
  });
}

function renderActions() {
  const cards = [];
  const warned = confirmedWarnings();
  if (warned) cards.push(h('div#eval-warnings', warned));
  if (isExpert()) cards.push(expertCard());
  if (isHost()) cards.push(hostCard());
  if (isFinance() && phase() === 'drawing') cards.push(financeCard());
  if (isPurchaser()) cards.push(purchaserCard());
  if (isSupervisor() && !(isFinance() && phase() === 'drawing')) cards.push(banner('info', t('eval.supervisor_note')));
  // The collusion warnings of the opened bids: the supervisors' only (docs/collusion.md).
  if (isSupervisor()) {
    const open = openWarnings || [];
    const names = new Map(bids().map((b) => [b.bid_id, b.bidder_name]));
    if (open.length) {
      cards.push(h('section#eval-open-warnings.card', { 'aria-labelledby': 'eval-open-warnings-heading' },
        h('div.card-head', h('h2#eval-open-warnings-heading', t('eval.open_warnings', { n: open.length }))),
        h('ul', open.slice(0, 8).map((w) => h('li', { dataset: { kind: w.kind } },
          `${w.rule} · ${t(`warn.kind.${w.kind}`)}：${w.bids.map((b) => names.get(b) || b).join('、')}`)))));
    }
    cards.push(h('p.action-bar', h('a#warnings-link.btn', { href: `/warnings.html?tender=${encodeURIComponent(tenderId)}` }, t('warn.link'))));
  }
  replace(els.actions, ...cards);
}

// ----- bids

function kv(k, val, wide = false) {
  return h('div.kv-item', { class: wide ? 'kv-wide' : '' }, h('dt', k), h('dd', val));
}

function qualificationBlock(b) {
  const q = b.qualification;
  const canQualify = (isHost() || isPurchaser()) && phase() === 'qualification' && !q;
  let body;
  if (q) {
    body = h('p.verdict', { class: q.pass ? 'hash-ok' : 'hash-bad', dataset: { pass: String(q.pass) } },
      q.pass ? `✓ ${t('eval.qualified')}` : `✗ ${t('eval.not_qualified')}`, q.reason ? `：${q.reason}` : '');
  } else if (canQualify) {
    body = verdictForm('qualify', b.bid_id);
  } else {
    body = h('p.muted.small', phaseAt('qualification') ? t('eval.pending') : t('eval.later'));
  }
  return h('div.eval-block.qualification', h('h4.block-title', t('eval.qualification')), body);
}

/** Pass / fail buttons with a reason (required to fail), for `qualify` and `review`. */
function verdictForm(kind, bidId) {
  const key = `${kind}:${bidId}`;
  const reason = textBox(`${key}:reason`, { rows: 2, placeholder: t('eval.reason_hint') });
  return h('div.verdict-form', { dataset: { kind, bid: bidId } },
    h('label.field-label', { for: reason.id }, t('eval.reason')), reason,
    h('div.action-bar',
      cmdButton(key, t('eval.pass'), () => verdict(kind, bidId, true), { cls: 'btn-primary verdict-pass' }),
      cmdButton(key, t('eval.fail'), () => verdict(kind, bidId, false), { cls: 'btn-outline-danger verdict-fail' })),
    failure(key));
}

/** The checklist as a form: per criterion its description, 符合 / 不符合, and the reason. */
function checklistForm(bidId) {
  const key = `review:${bidId}`;
  const rows = checklist().map((c, i) => {
    const pick = keep(`${key}:check:${c.name}`, () => h('select.input.check-pick', { id: `check-${bidId}-${i}`, dataset: { criterion: c.name } },
      h('option', { value: '' }, t('eval.check_choose')),
      h('option', { value: 'pass' }, t('eval.check_pass')),
      h('option', { value: 'fail' }, t('eval.check_fail'))));
    const why = textBox(`${key}:check:${c.name}:reason`, { rows: 1, maxlength: 500, placeholder: t('eval.check_reason_hint') });
    return h('div.check-row', { dataset: { criterion: c.name } },
      h('label.field-label', { for: pick.id }, c.name),
      c.description ? h('p.small.muted', c.description) : null,
      pick, why);
  });
  return h('div.verdict-form.checklist-form', { dataset: { kind: 'review', bid: bidId } },
    h('p.small', t('eval.check_intro')), rows,
    h('div.action-bar', cmdButton(key, t('eval.check_submit'), () => onChecklist(bidId), { cls: 'btn-primary checklist-submit' })),
    failure(key));
}

/** Per criterion: the panel's verdicts so far and, for an expert, their own. */
function checklistTally(r) {
  const mine = r.my_checks || {};
  return h('table.table.checklist-tally', h('thead', h('tr', h('th', t('eval.check_criterion')), h('th', t('eval.check_pass')), h('th', t('eval.check_fail')), isExpert() ? h('th', t('eval.my_review')) : null)),
    h('tbody', (r.criteria || []).map((c) => {
      const m = mine[c.name];
      return h('tr', { dataset: { criterion: c.name } }, h('td', c.name), h('td.num', String(c.pass)), h('td.num', String(c.fail)),
        isExpert() ? h('td', m ? [m.pass ? `✓ ${t('eval.check_pass')}` : `✗ ${t('eval.check_fail')}`, m.reason ? `（${m.reason}）` : ''] : '—') : null);
    })));
}

function complianceBlock(b) {
  const r = b.reviews || {};
  const parts = [];
  if (b.compliant === true || b.compliant === false) {
    parts.push(h('p.verdict', { class: b.compliant ? 'hash-ok' : 'hash-bad', dataset: { compliant: String(b.compliant) } },
      b.compliant ? `✓ ${t('eval.compliant')}` : `✗ ${t('eval.not_compliant')}`));
  }
  if (r.done !== undefined && phaseAt('compliance')) {
    parts.push(h('p.small.muted', t('eval.review_counts', { done: r.done || 0, pass: r.pass || 0, fail: r.fail || 0 })));
  }
  if (checklist().length && r.done && phaseAt('compliance')) parts.push(checklistTally(r));
  if (isExpert() && r.mine) {
    parts.push(h('p.small', { dataset: { mine: String(r.mine.pass) } }, t('eval.my_review'), '：', r.mine.pass ? t('eval.pass') : t('eval.fail'), r.mine.reason ? `（${r.mine.reason}）` : ''));
  } else if (isSeated() && phase() === 'compliance' && b.qualification && b.qualification.pass) {
    parts.push(checklist().length ? checklistForm(b.bid_id) : verdictForm('review', b.bid_id));
  }
  if (!parts.length) parts.push(h('p.muted.small', t('eval.later')));
  return h('div.eval-block.compliance', h('h4.block-title', t('eval.compliance')), parts);
}

/** The lowest evaluated price of the lot's compliant bids (R-EVAL-4), or the report's. */
function benchmarkFor(b) {
  const lot = (v.result || []).find((x) => Number(x.lot_no) === Number(b.lot_no));
  if (lot && lot.result && lot.result.benchmark_fen !== undefined) return lot.result.benchmark_fen;
  if (b.evaluated && b.evaluated.benchmark_fen !== undefined) return b.evaluated.benchmark_fen;
  const prices = bids().filter((x) => Number(x.lot_no) === Number(b.lot_no) && x.compliant && x.evaluated).map((x) => Number(x.evaluated.evaluated_fen));
  return prices.length ? Math.min(...prices) : null;
}

function priceBlock(b) {
  const e = b.evaluated;
  if (!e) return null;
  const lines = [h('li.derive-line', h('span.derive-label', t('eval.price_offered')), h('span.money', formatMoney(e.price_offered_fen)))];
  for (const c of e.corrections || []) {
    lines.push(h('li.derive-line.is-correction', h('span.derive-label', h('span.tag', c.code), ' ', c.note ? noteText(c.note) : label('correction', c.kind)),
      h('span.money', `${formatMoney(c.from_fen)} → ${formatMoney(c.to_fen)}`)));
  }
  for (const d of e.deductions || []) {
    lines.push(h('li.derive-line.is-deduction', { dataset: { rule: d.code } },
      h('span.derive-label', h('span.tag', d.code), ' ', d.kind ? t(`derive.deduction.${d.kind}`) : d.label, ' ', t('eval.deduction_rate', { rate: rate(d.rate_bp), base: formatMoney(d.base_fen) })),
      h('span.money', `− ${formatMoney(d.amount_fen)}`)));
  }
  if (!(e.deductions || []).length) lines.push(h('li.derive-line.muted', h('span.derive-label', t('eval.no_deduction'))));
  lines.push(h('li.derive-line.is-total', h('span.derive-label', t('eval.evaluated_price')), h('span.money', formatMoney(e.evaluated_fen))));
  const bench = benchmarkFor(b);
  if (bench !== null && b.compliant) {
    lines.push(h('li.derive-line.is-benchmark', h('span.derive-label', t('eval.benchmark')), h('span.money', formatMoney(bench))));
  }
  return h('div.eval-block.price-derivation', { dataset: { bid: b.bid_id } },
    h('h4.block-title', t('eval.derivation')),
    h('ol.derive-list', lines),
    e.formula ? h('p.derive-formula.mono.small', t('eval.evaluated_formula', { formula: e.formula })) : null,
    (e.notes || []).length ? h('ul.derive-notes.small.muted', e.notes.map(noteLine)) : null,
    b.abnormally_low ? banner('warning', t('eval.abnormally_low', {
      threshold: formatMoney(b.abnormally_low.threshold_fen),
      mean: formatMoney(b.abnormally_low.mean_of_others_fen),
    }), { title: t('eval.abnormally_low_title') }) : null);
}

/** One derivation note: its rule code as a reference, then the text in the reader's language. */
function noteLine(n) {
  return h('li.derive-note', n && n.code ? [h('span.tag', n.code), ' '] : null, noteText(n));
}

function itemLabel(it) {
  return [it.name, ' ', h('span.small.muted', `${rate(it.weight_bp)}`), it.objective ? h('span.tag.tag-objective', t('eval.objective')) : null];
}

function scoreForm(b) {
  const key = `score:${b.bid_id}`;
  const rows = items().map((it) => {
    const input = keep(`${key}:${it.name}`, () => h('input.input.score-input', {
      type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: '0–100',
      id: `score-${b.bid_id}-${items().indexOf(it)}`, dataset: { item: it.name },
    }));
    const bands = Array.isArray(it.bands) ? it.bands : [];
    if (!bands.length) {
      return h('div.score-row', { dataset: { item: it.name } },
        h('div', h('label.field-label', { for: input.id }, itemLabel(it)),
          it.evidence ? h('p.small.muted.item-evidence', `${t('eval.evidence')}：${it.evidence}`) : null),
        input);
    }
    // A rubric: pick the band, then a score within it.
    const range = (b) => `${points(b.min)}–${points(b.max)}`;
    const select = keep(`${key}:${it.name}:band`, () => {
      const el = h('select.input.band-select', { id: `band-${b.bid_id}-${items().indexOf(it)}`, dataset: { item: it.name } },
        h('option', { value: '' }, t('eval.band_pick')),
        bands.map((x) => h('option', { value: x.label }, `${x.label}（${range(x)}）`)));
      el.addEventListener('change', () => {
        const x = bands.find((y) => y.label === el.value);
        input.placeholder = x ? range(x) : '0–100';
      });
      return el;
    });
    return h('div.score-row.has-rubric', { dataset: { item: it.name } },
      h('label.field-label', { for: select.id }, itemLabel(it)),
      h('dl.rubric', bands.map((x) => [h('dt', `${x.label} ${range(x)}`), h('dd', x.description || '—')])),
      h('div.rubric-inputs', select, input));
  });
  return h('form.score-form', { dataset: { bid: b.bid_id }, on: { submit: (ev) => { ev.preventDefault(); onScore(b.bid_id); } } },
    h('p.small.muted', t('eval.score_hint')),
    rows,
    h('div.action-bar', h('button.btn.btn-primary.score-submit', {
      type: 'submit', disabled: inflight.has(key), dataset: { cmd: key },
    }, inflight.has(key) ? t('eval.sending') : t('eval.submit_scores'))),
    failure(key));
}

function panelScores(b) {
  const list = Array.isArray(b.scores) ? b.scores : fetchedScores.get(b.bid_id) || null;
  if (!list) return null;
  const its = items();
  const flagged = (seat, item) => (b.flags || []).find((f) => Number(f.seat) === Number(seat) && f.item === item);
  const mean = (name) => {
    const xs = list.map((s) => parseFloat(s.items && s.items[name])).filter((x) => Number.isFinite(x));
    return xs.length ? (Math.round((xs.reduce((a, c) => a + c, 0) / xs.length) * 100 + 1e-9) / 100).toFixed(2) : '—';
  };
  return h('div.table-wrap',
    h('table.table.scores-table', { dataset: { bid: b.bid_id } },
      h('caption.small.muted', t('eval.panel_scores')),
      h('thead', h('tr', h('th', { scope: 'col' }, t('eval.seat')), its.map((it) => h('th.num', { scope: 'col' }, it.name, it.objective ? h('span.tag.tag-objective', t('eval.objective')) : null)))),
      h('tbody', list.map((s) => h('tr.score-line', { class: Number(s.seat) === mySeat() ? 'is-mine' : '', dataset: { seat: s.seat } },
        h('th', { scope: 'row' }, t('eval.seat_n', { n: s.seat }), seatOnly(s.seat)),
        its.map((it) => {
          const f = flagged(s.seat, it.name);
          const reason = s.reasons && s.reasons[it.name];
          return h('td.num', { class: f ? `is-flagged flag-${f.kind}` : '', title: reason || null },
            points(s.items && s.items[it.name]),
            f ? h('span.flag-mark', { title: label('flag', f.kind) }, f.explained ? ' ✓' : ' ⚑') : null,
            reason ? h('div.small.muted.score-reason', reason) : null);
        })))),
      h('tfoot', h('tr', h('th', { scope: 'row' }, t('eval.mean')), its.map((it) => h('td.num', mean(it.name)))))));
}

function myFlags(b) {
  if (!isSeated()) return [];
  return (b.flags || []).filter((f) => (f.mine === true || (f.mine === undefined && Number(f.seat) === mySeat())) && !f.explained);
}

function reviseForm(b, item, kind, key) {
  const scoreEl = keep(`${key}:score`, () => h('input.input.score-input', { type: 'text', inputmode: 'decimal', id: `in-${key.replace(/[^\w-]/g, '-')}-score`, value: b.my_scores && item ? b.my_scores[item] || '' : '' }));
  const kindEl = keep(`${key}:kind`, () => h('select.input.revise-kind', { id: `in-${key.replace(/[^\w-]/g, '-')}-kind` },
    CHANGE_KINDS.map((k) => h('option', { value: k, selected: k === kind }, label('change', k)))));
  const reasonEl = textBox(`${key}:reason`, { rows: 2 });
  const itemEl = item ? null : keep(`${key}:item`, () => h('select.input.revise-item', { id: `in-${key.replace(/[^\w-]/g, '-')}-item` }, items().map((it) => h('option', { value: it.name }, it.name))));
  return h('div.revise-form', { dataset: { bid: b.bid_id, item: item || '' } },
    h('div.form-grid.eval-grid',
      itemEl ? h('div.field', h('label.field-label', { for: itemEl.id }, t('eval.item')), itemEl) : null,
      h('div.field', h('label.field-label', { for: scoreEl.id }, t('eval.new_score')), scoreEl),
      h('div.field', h('label.field-label', { for: kindEl.id }, t('eval.change_kind')), kindEl)),
    h('div.field', h('label.field-label', { for: reasonEl.id }, t('eval.reason'), h('span.req', { 'aria-hidden': 'true' }, ' *')), reasonEl),
    h('div.action-bar', cmdButton(key, t('eval.revise'), () => onRevise(b.bid_id, item, key), { cls: 'btn-primary revise-submit' })),
    failure(key));
}

function flagsBlock(b) {
  const mine = myFlags(b);
  if (!mine.length || phase() !== 'scoring') return null;
  return h('div.eval-flags', mine.map((f) => {
    const key = `${f.kind === 'outlier' ? 'explain' : 'revise'}:${b.bid_id}:${f.item}`;
    if (f.kind === 'outlier') {
      const reasonEl = textBox(`${key}:reason`, { rows: 2 });
      return h('div.flag-card', { dataset: { kind: f.kind, item: f.item } },
        banner('warning', t('eval.flag_outlier_text', { item: f.item, points: points(v.terms && v.terms.outlier_points) }), { title: t('eval.flag_outlier') }),
        h('label.field-label', { for: reasonEl.id }, t('eval.explain_label')), reasonEl,
        h('div.action-bar', cmdButton(key, t('eval.explain'), () => onExplain(b.bid_id, f.item, key), { cls: 'btn-primary explain-submit' })),
        failure(key));
    }
    return h('div.flag-card', { dataset: { kind: f.kind, item: f.item } },
      banner('warning', t('eval.flag_objective_text', { item: f.item }), { title: t('eval.flag_objective') }),
      reviseForm(b, f.item, 'objective_mismatch', key));
  }));
}

function lockIcon() {
  const svg = lineIcon('M7 11V8a5 5 0 0 1 10 0v3M6 11h12v9H6z', { size: 14 });
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('lock-icon');
  return svg;
}

function scoringBlock(b) {
  if (!phaseAt('scoring') || b.compliant === false) return null;
  const parts = [];
  if (isSeated() && b.compliant) {
    if (!b.my_scores && phase() === 'scoring') {
      parts.push(scoreForm(b));
    } else if (b.my_scores) {
      parts.push(h('p.small.hash-ok.my-scored', `✓ ${t('eval.you_scored')}`));
    }
  }
  const table = panelScores(b);
  if (table) parts.push(table);
  else if (isExpert() && !b.my_scores) parts.push(h('p.small.muted.sealed-note', lockIcon(), ' ', t('eval.scores_sealed')));
  parts.push(flagsBlock(b));
  if (isSeated() && b.my_scores && phase() === 'scoring') {
    const key = `revise:${b.bid_id}:any`;
    parts.push(h('details.revise-details', { open: inputs.has(`${key}:reason`) && inputs.get(`${key}:reason`).value ? true : null },
      h('summary', t('eval.revise_title')), h('p.small.muted', t('eval.revise_note')), reviseForm(b, null, 'arithmetic', key)));
  }
  if (!parts.filter(Boolean).length) return null;
  return h('div.eval-block.scoring', h('h4.block-title', t('eval.scoring')), parts);
}

function clarificationsBlock(b) {
  const list = Array.isArray(b.clarifications) ? b.clarifications : [];
  const canAsk = phase() === 'scoring' && (isHost() || isSeated()) && b.compliant;
  if (!list.length && !canAsk) return null;
  const parts = [];
  if (list.length) {
    parts.push(h('ol.clarification-list', list.map((c) => h('li.clarification', { dataset: { id: c.id, answered: String(Boolean(c.answer)) } },
      h('div.objection-head', h('span.tag', t('eval.question')), h('span.small.muted', formatCST(c.asked_at, { seconds: true }))),
      h('p.objection-text.prewrap', c.question),
      c.answer
        ? h('div.objection-answer', h('span.side-label', t('eval.answer')), h('p.prewrap.clarification-answer', c.answer),
          c.answered_at ? h('span.small.muted', formatCST(c.answered_at, { seconds: true })) : null)
        : h('p.small.muted', t('eval.answer_pending'))))));
  }
  if (canAsk) {
    const key = `clarify:${b.bid_id}`;
    const box = textBox(key, { rows: 2, placeholder: t('eval.clarify_hint') });
    parts.push(h('details.clarify-details', { open: box.value ? true : null },
      h('summary', t('eval.clarify')),
      h('label.field-label', { for: box.id }, t('eval.question')), box,
      h('div.action-bar', cmdButton(key, t('eval.clarify_send'), () => onClarify(b.bid_id), { cls: 'btn-primary clarify-submit' })),
      failure(key)));
  }
  return h('div.eval-block.clarifications', h('h4.block-title', t('eval.clarifications')), parts);
}

function sizeText(n) {
  const x = Number(n);
  if (!Number.isFinite(x)) return '';
  if (x < 1024) return `${x} B`;
  if (x < 1024 * 1024) return `${(x / 1024).toFixed(1)} KiB`;
  return `${(x / 1024 / 1024).toFixed(1)} MiB`;
}

/** The bid's documents as read out at the opening, each opened from the committee's route. */
function documentsBlock(b) {
  const docs = Array.isArray(b.documents) ? b.documents : [];
  if (!docs.length) return null;
  return h('div.bid-documents',
    h('span.side-label', t('eval.documents')),
    // Read in the page (an expert reads nothing else: the file stays on the server);
    // the others may also download it.
    h('ul.doc-links', docs.map((d) => h('li',
      h('button.link-button.doc-read', { type: 'button', dataset: { sha256: d.sha256 }, on: { click: () => openReader(tenderId, d) } },
        d.name || shortHash(d.sha256, 12)),
      d.size !== undefined ? h('span.small.muted', ` ${sizeText(d.size)}`) : null,
      isExpert() ? null : [' ', h('a.doc-link.small', {
        href: `/api/tenders/${encodeURIComponent(tenderId)}/evaluation/documents/${encodeURIComponent(d.sha256)}`,
        target: '_blank',
        rel: 'noopener',
        dataset: { sha256: d.sha256 },
      }, t('reader.download'))]))));
}

/** The price read out, "1234567.00" (yuan) or fen, as "￥1,234,567.00". */
function priceText(p) {
  if (p === null || p === undefined || p === '') return '—';
  if (typeof p === 'number') return formatMoney(p);
  const r = parseYuanToFen(p);
  return r.ok ? formatMoney(r.fen) : String(p);
}

function bidCard(b) {
  return h('article.card.eval-bid', {
    dataset: { bid: b.bid_id, compliant: b.compliant === null || b.compliant === undefined ? '' : String(b.compliant) },
    'aria-labelledby': `bid-h-${b.bid_id}`,
  },
  h('div.card-head.eval-bid-head',
    h('h3', { id: `bid-h-${b.bid_id}` }, b.position ? h('span.bid-pos', `${b.position}. `) : null, b.bidder_name || shortHash(b.bid_id, 8)),
    h('span.card-note', lotName(b.lot_no))),
  h('dl.kv.eval-kv',
    kv(t('bid.field_price'), h('span.money.price', priceText(b.price))),
    b.brand ? kv(t('eval.brand'), b.brand) : null),
  documentsBlock(b),
  h('div.eval-blocks',
    qualificationBlock(b),
    phaseAt('compliance') || (b.reviews && b.reviews.done) ? complianceBlock(b) : null,
    priceBlock(b),
    scoringBlock(b),
    clarificationsBlock(b)));
}

function renderBids() {
  const list = bids().slice().sort((a, b) => Number(a.lot_no) - Number(b.lot_no) || Number(a.position || 0) - Number(b.position || 0));
  replace(els.bids,
    h('h2#eval-bids-heading.section-heading', t('eval.bids')),
    list.length ? list.map(bidCard) : h('div.card', emptyBlock(phase() ? t('eval.no_bids') : t('eval.not_started'))));
}

// ----- report

function lotReport(lot) {
  const r = lot.result || {};
  const ranking = Array.isArray(r.ranking) ? r.ranking : [];
  const sheets = Array.isArray(r.bids) ? r.bids : [];
  return h('div.lot-report', { dataset: { lot: lot.lot_no } },
    h('h3.small-heading', lotName(lot.lot_no), r.method ? h('span.tag', label('emethod', r.method)) : null,
      r.benchmark_fen !== undefined ? h('span.small.muted', ` ${t('eval.benchmark')} ${formatMoney(r.benchmark_fen)}`) : null),
    h('div.table-wrap', h('table.table.ranking-table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('eval.rank')),
        h('th', { scope: 'col' }, t('hall.col_bidder')),
        h('th.num', { scope: 'col' }, t('eval.total')),
        h('th.num', { scope: 'col' }, t('eval.evaluated_price')))),
      h('tbody', ranking.map((x) => h('tr.rank-row', { dataset: { rank: x.rank } },
        h('td', String(x.rank), x.unresolved_tie ? h('span.tag', t('eval.tie')) : null),
        h('th', { scope: 'row' }, bidderLabel(x.bidder)),
        h('td.num', points(x.total)),
        h('td.num.money', formatMoney(x.evaluated_fen))))))),
    sheets.filter((s) => s.score).length
      ? h('details.score-sheets', h('summary', t('eval.score_sheets')),
        sheets.filter((s) => s.score).map((s) => h('div.score-sheet',
          h('strong', bidderLabel(s.bidder)),
          h('ul.small', s.score.items.map((it) => h('li', `${it.name === 'price' ? t('eval.item_price') : it.name}：${points(it.score)} × ${rate(it.weight_bp)} = ${points(it.points)}`))),
          s.score.price_formula ? h('p.mono.small.derive-formula', t('eval.price_formula', { formula: s.score.price_formula })) : null,
          s.score.formula ? h('p.mono.small.derive-formula', s.score.price_formula ? t('eval.total_formula', { formula: s.score.formula }) : s.score.formula) : null,
          s.score.rounding ? h('p.small.muted.rounding-note', t(`eval.rounding.${s.score.rounding}`)) : null)))
      : null,
    sheets.filter((s) => !s.compliant).length
      ? h('div.small.muted.excluded-bids', t('eval.excluded'), sheets.filter((s) => !s.compliant).map((s) => bidderLabel(s.bidder)).join('、'),
        sheets.filter((s) => s.invalid_reason).length
          ? h('ul.derive-notes', sheets.filter((s) => s.invalid_reason).map((s) => h('li.invalid-reason', bidderLabel(s.bidder), '：', noteText(s.invalid_reason))))
          : null)
      : null);
}

function signBlock() {
  const rep = v.report;
  const signed = Array.isArray(rep.signed) ? rep.signed : [];
  const mine = isExpert() && signed.find((s) => s.mine === true || (s.mine === undefined && Number(s.seat) === mySeat()));
  const parts = [
    h('ul#signatures.signature-list', (v.panel || []).filter((p) => p.status === 'accepted').map((p) => {
      const s = signed.find((x) => Number(x.seat) === Number(p.seat));
      return h('li', { dataset: { seat: p.seat, signed: String(Boolean(s)) } },
        h('span', { class: s ? 'hash-ok' : 'muted', 'aria-hidden': 'true' }, s ? '✓ ' : '○ '),
        seatName(p.seat), ' ',
        h('span.small.muted', s ? `${t('eval.signed_at', { at: formatCST(s.at, { seconds: true }) })}` : t('eval.not_signed')),
        s && s.dissent ? h('div.small.dissent', t('eval.dissent'), '：', s.dissent) : null);
    })),
  ];
  if (mine) {
    parts.push(h('p#my-signature.hash-ok', `✓ ${t('eval.you_signed')}`));
  } else if (isSeated() && phase() === 'signing') {
    const dissent = textBox('sign:dissent', { rows: 2, placeholder: t('eval.dissent_hint') });
    const block = [h('p.small', t('eval.sign_note'))];
    if (keys.state === 'checking') {
      block.push(loadingBlock());
    } else if (!keys.record) {
      block.push(banner('warning', t('eval.no_keys'), { title: t('hall.no_keys_title') }),
        // Made here, non-extractable, and registered: the key never leaves this browser.
        h('div.action-bar', h('button.btn.btn-primary#create-sign-key', { type: 'button', on: { click: onCreateKey } }, t('eval.create_key')),
          h('span.small.muted', t('eval.create_key_note'))),
        keyPanel());
    } else {
      if (keyPanelReplace) block.push(keyPanel());
      // What was just done stays said until the report is signed.
      if (keys.how) block.push(h('p#key-ready.hash-ok', `✓ ${t(keys.how === 'imported' ? 'eval.key_imported' : 'eval.key_created')}`));
      block.push(
        h('label.field-label', { for: dissent.id }, t('eval.dissent'), ' ', h('span.small.muted', t('common.optional'))), dissent,
        h('p.small.muted.mono', t('eval.sign_key', { id: shortHash(keys.record && keys.record.signing.keyId, 16) })),
        h('div.action-bar', cmdButton('sign', t('eval.sign'), onSign, { id: 'sign-report', cls: 'btn-primary btn-large' })));
    }
    block.push(failure('sign'));
    parts.push(h('div#sign-form.sign-form', block));
  }
  return h('div.eval-block.signing', h('h4.block-title', t('eval.signatures')), parts);
}

async function onCreateKey(ev) {
  const btn = ev.currentTarget;
  btn.disabled = true;
  btn.textContent = t('eval.creating_key');
  try {
    const record = await ensureDeviceKeys(me.id);
    keys = { state: 'ready', record, how: 'created' };
    failures.delete('sign');
    toast(t('eval.key_created'));
  } catch (e) {
    failures.set('sign', e);
  }
  renderAll();
}

function keyPanel() {
  if (!keyPanelEl) {
    keyPanelEl = keyImportPanel({
      userId: me.id,
      replace: keyPanelReplace,
      onImported: (r) => {
        keys = { state: 'ready', record: r, how: 'imported' };
        keyPanelEl = null;
        keyPanelReplace = false;
        failures.delete('sign');
        renderAll();
      },
    });
  }
  return keyPanelEl;
}

function renderReport() {
  const rep = v && v.report;
  const result = v && Array.isArray(v.result) ? v.result : [];
  els.report.hidden = !rep && !result.length;
  if (els.report.hidden) return;
  const winners = Array.isArray(v.winners) ? v.winners : rep && Array.isArray(rep.winners) ? rep.winners : [];
  replace(els.report,
    h('div.card-head', h('h2#eval-report-heading', t('eval.report')),
      rep && rep.sha256 ? h('span.small.muted.mono', { title: rep.sha256 }, `SHA-256 ${shortHash(rep.sha256, 16)}`) : null),
    winners.length
      ? h('div#winners', banner(phase() === 'awarded' ? 'success' : 'info',
        winners.map((w) => `${lotName(w.lot_no)}：${w.bidder_name || bidderLabel(w.bid_id)}`).join('；'),
        { title: phase() === 'awarded' ? t('eval.winners') : t('eval.candidates') }))
      : null,
    result.map(lotReport),
    rep ? signBlock() : null,
    rep || phaseAt('reported') ? h('p.small',
      h('a#report-page.btn.btn-small', { href: `/report.html?tender=${encodeURIComponent(tenderId)}` }, t('rep.page')), ' ',
      h('a#report-download', { href: `/api/tenders/${encodeURIComponent(tenderId)}/evaluation/report`, download: `evaluation-report-${tenderId}.json` }, t('eval.report_download'))) : null);
}

// ----- side column

/** "专业不符 29 人 · 与投标人有关联 1 人 · 谢绝 1 人": each reason apart. */
function drawCounts(draw) {
  const by = draw.excluded_by || {};
  const parts = Object.keys(by).sort().map((r) => t('eval.excluded_reason', { reason: label('exclusion', r), n: by[r] }));
  if (!Object.keys(by).length && draw.excluded) parts.push(t('eval.excluded_reason', { reason: t('eval.excluded_any'), n: draw.excluded }));
  if (draw.declined) parts.push(t('eval.declined_n', { n: draw.declined }));
  return parts.join(' · ');
}

function renderPanel() {
  const panel = (v.panel || []).slice().sort((a, b) => Number(a.seat) - Number(b.seat));
  const pr = v.progress || {};
  const draw = v.draw;
  replace(els.panel,
    h('div.card-head', h('h2#eval-panel-heading', t('eval.panel')), h('span.tag', String(panel.filter((p) => p.status === 'accepted').length))),
    panel.length
      ? h('ul#panel-list.panel-list', panel.map((p) => h('li.panel-seat', { dataset: { seat: p.seat, status: p.status } },
        h('span.seat-no', String(p.seat)),
        h('span.seat-main',
          h('span', p.name || t('eval.seat_n', { n: p.seat }), isExpert() && p.expert_id && p.expert_id === v.me.expert_id ? h('span.tag', t('eval.you')) : null,
            v.chair && p.status === 'accepted' && Number(v.chair.seat) === Number(p.seat) ? h('span.tag.chair-tag', t('eval.chair')) : null),
          // Supervisors reach a drawn expert who does not answer by their login.
          p.username ? h('span.small.mono.seat-login', t('eval.login_is', { login: p.username })) : null,
          h('span.small.muted', label('seat', p.status),
            phaseAt('compliance') && pr.reviews_total ? ` · ${t('eval.seat_reviews', { n: p.reviews_done || 0 })}` : '',
            phaseAt('scoring') && pr.scores_total ? ` · ${t('eval.seat_scores', { n: p.scores_done || 0 })}` : '')))))
      : h('p.muted.small', phase() ? t('eval.panel_empty') : t('eval.not_started')),
    draw && draw.seed ? h('p.small.muted.mono.draw-seed', { title: draw.seed }, `${t('eval.draw_seed')} ${shortHash(draw.seed, 16)}`) : null,
    draw && (draw.excluded || draw.declined) ? h('p.small.muted#draw-counts', drawCounts(draw)) : null);
}


function eventText(e) {
  // Body fields as in src/ledger/events.rs.
  const b = e.body || {};
  const base = label('ledger', e.kind);
  if (b.seat !== undefined && b.seat !== null) return `${base}（${t('eval.seat_n', { n: b.seat })}）`;
  return base;
}


function renderAll() {
  if (vError && !v) {
    const notFound = vError instanceof ApiError && vError.status === 404;
    const forbidden = vError instanceof ApiError && (vError.status === 403 || vError.code === 'NOT_ON_PANEL');
    if (notFound && me && me.role === 'agency') {
      // No evaluation yet: the agency asks for the panel from here.
      v = { phase: null, me: { role: 'host' }, bids: [], panel: [] };
    } else {
      replace(els.alert, forbidden ? banner('warning', t('eval.not_member'))
        : notFound ? banner('info', t('eval.not_started_text'))
          : errorBlock(failText(vError), refetch));
      els.page.hidden = true;
      return;
    }
  }
  if (!v) return;
  if (vError) showBanner(els.alert, 'warning', failText(vError));
  else clear(els.alert);
  els.page.hidden = false;
  keepingFocus(() => {
    renderPhase();
    renderActions();
    chat.render();
    renderReads();
    renderBids();
    renderReport();
    renderPanel();
    room.renderFeed();
    room.renderPresence();
  });
}

function renderTitle() {
  const x = v && v.tender;
  if (!x) return;
  els.title.textContent = `${x.code ? `${x.code} · ` : ''}${x.title || ''}`;
  els.crumb.hidden = false;
  els.crumbLink.textContent = x.code || x.title || '';
  els.crumbLink.href = `/tender.html?id=${encodeURIComponent(tenderId)}`;
  setPageTitle(() => `${t('eval.title')} · ${x.title || ''}`);
  // Negotiation and consultation negotiate in rounds of offers (rounds.html).
  const rounds = ['competitive_negotiation', 'competitive_consultation'].includes(x.method);
  replace(document.getElementById('eval-rounds-link'), rounds
    ? banner('info', t('rounds.link_hint'), { action: h('a#rounds-link.btn.btn-small', { href: `/rounds.html?tender=${encodeURIComponent(tenderId)}` }, t('rounds.link')) })
    : null);
}

// -------------------------------------------------------------------- main --

async function main() {
  setPageTitle('eval.title');
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!tenderId) {
    replace(els.alert, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  replace(els.loading, loadingBlock());
  await refetch();
  clear(els.loading);
  renderTitle();
  room.renderConn();
  try {
    keys = { state: 'ready', record: await loadDeviceKeys(me.id) };
  } catch (_) {
    keys = { state: 'unsupported', record: null };
  }
  if (v) renderAll();

  room.start();
  onLangChange(() => {
    renderTitle();
    room.renderConn();
    keyPanelEl = null;
    if (v) renderAll();
  });
}

main();
