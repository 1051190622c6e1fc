// 在线投标: a supplier fills in the opening sheet (开标一览表), seals the bid in this
// browser (crypto/package.js sealBid, docs/bid-format.md) and uploads the KB1 container
// with the resumable protocol (start → PUT chunks at ?offset → complete {size, sha256}),
// then checks the platform's signed receipt (回执) here with WebCrypto.
//
// Documents are never held whole in memory: the sealer reads File slices one segment at
// a time, every sealed segment becomes a Blob part (the browser keeps large Blobs on
// disk), the container's SHA-256 is computed on the way, and the upload sends slices of
// that Blob, so a retry or a resume re-sends bytes without sealing again.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, refreshMe, errorText, ApiError } from '../api.js';
import { t, label, getLang, onLangChange, withColon } from '../i18n.js';
import { formatCST, formatMoney, amountInWords, parseYuanToFen, serverNow, noteServerDate, shortHash } from '../format.js';
import { h, clear, replace, param, loadingBlock, emptyBlock, errorBlock, banner, showBanner, countdown, startCountdowns, openDialog, toast, busy, lineIcon } from '../ui.js';
import { budgetTotal, schedule, purchaserName, agencyName } from '../tenders.js';
import { clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';
import { loadDeviceKeys, createDeviceKeys, registerDeviceKeys } from '../crypto/keys.js';
import { keyImportPanel } from '../keyimport.js';
import { sealBid, ENTERPRISE_SIZES } from '../crypto/package.js';
import { fromB64url, randomBytes, sha256Hex, toHex, utf8 } from '../crypto/bytes.js';
import { CryptoError } from '../crypto/errors.js';
import { canonicalJson } from '../crypto/json.js';
// The container hash is computed while sealing, segment by segment (WebCrypto's digest
// is one-shot): the vendored @noble/hashes, as package.js uses it.
import { sha256 as nobleSha256 } from '../../vendor/noble-hashes/sha2.js';

const tenderId = param('tender');
const $ = (id) => document.getElementById(id);

const els = {
  alert: $('bid-alert'),
  loading: $('bid-loading'),
  page: $('bid-page'),
  tenderTitle: $('bid-tender-title'),
  crumb: $('crumb-tender'),
  crumbLink: $('crumb-tender-link'),
  side: $('tender-side'),
  keysCard: $('keys-card'),
  keysBody: $('keys-body'),
  form: $('bid-form'),
  lot: $('lot'),
  price: $('total-price'),
  priceWords: $('price-words'),
  priceFigure: $('price-figure'),
  budgetWarning: $('price-budget-warning'),
  days: $('delivery-days'),
  months: $('warranty-months'),
  size: $('enterprise-size'),
  special: $('special-status'),
  notes: $('notes'),
  agentName: $('agent-name'),
  agentId: $('agent-id'),
  agentPhone: $('agent-phone'),
  contactName: $('contact-name'),
  contactPhone: $('contact-phone'),
  team: $('team'),
  files: $('documents'),
  filesList: $('documents-list'),
  filesTotal: $('documents-total'),
  status: $('submit-status'),
  submit: $('seal-submit'),
  resume: $('resume-upload'),
  progressBox: $('progress-box'),
  sealProgress: $('seal-progress'),
  sealText: $('seal-progress-text'),
  uploadProgress: $('upload-progress'),
  uploadText: $('upload-progress-text'),
  uploadNote: $('upload-note'),
  receiptCard: $('receipt-card'),
  receiptBody: $('receipt-body'),
  mineBody: $('mine-body'),
  mineRefresh: $('mine-refresh'),
};

const KiB = 1024;
const MiB = 1024 * KiB;
// Upload chunks adapt to the connection: about two seconds each, from 256 KiB to 8 MiB
// (the server takes at most 16 MiB a request).
const CHUNK_MIN = 256 * KiB;
const CHUNK_START = 1 * MiB;
const CHUNK_MAX = 8 * MiB;
const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000, 30000, 30000, 30000];
const MAX_CONTAINER = 8 * 1024 * MiB; // server limit (8 GiB), header and tags included
const DEVICE_ID_KEY = 'kb_device_id';
const SHARE_SPECIAL = ['prison', 'disability_welfare'];

let me = null;
let ann = null;
let myOrg = null;
/** {state, record, server, error}: see checkKeys. */
let keys = { state: 'checking' };
/** Files chosen for the package, in order. */
let docs = [];
let mine = null;
let mineError = null;
/** 'start' | 'seal' | 'upload' while a submission runs. */
let phase = null;
/** The sealed container of an upload not yet completed: resumable while this page lives. */
let pending = null;
/** {signed, local, verdict, error} of the receipt on show. */
let receiptView = null;
let certs = null;
let wasOpen = false;

class PageError extends Error {}

// ------------------------------------------------------------------ helpers --

function formatBytes(n) {
  const v = Number(n);
  if (!Number.isFinite(v) || v < 0) return '—';
  if (v < 1024) return `${v} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let x = v / 1024;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${x >= 100 ? x.toFixed(0) : x.toFixed(1)} ${units[i]}`;
}

function lots() {
  return ann && Array.isArray(ann.lots) ? ann.lots : [];
}

function lotName(lot) {
  const name = String(lot.name || '').trim();
  // Lot names usually start with 第N包 already.
  if (/^第\s*[0-9一二三四五六七八九十]+\s*包/.test(name) || /^lot\s*\d+/i.test(name)) return name;
  return `${t('bid.lot_n', { n: lot.lot_no })} ${name}`.trim();
}

function lotByNo(no) {
  return lots().find((l) => Number(l.lot_no) === Number(no)) || null;
}

function deadline() {
  return ann ? schedule(ann).bid_deadline : null;
}

/** Whether bids may be submitted or withdrawn now, by the server's clock. */
function isOpen() {
  const d = deadline();
  return Boolean(ann && ann.status === 'published' && ann.opening_key && d !== null && serverNow() < d);
}

/** [zh, en] → the current language. */
function pick(pair) {
  return getLang() === 'en' ? pair[1] : pair[0];
}

/** Human text for anything thrown here. */
function failureText(e) {
  if (e instanceof CryptoError) return pick(e.messages());
  if (e instanceof ApiError) {
    const fields = Object.values(e.fields || {}).flat().map(String);
    const base = errorText(e);
    return fields.length ? `${base}（${fields.join('；')}）` : base;
  }
  if (e instanceof PageError) return e.message;
  if (e && e.name === 'NotReadableError') return pick(new CryptoError('IO').messages());
  return (e && e.message) || String(e);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A stable random id for this browser (localStorage), sent only hashed: the platform can
 * tell bids sealed on the same device apart from others (R-COL-1) without learning more.
 */
async function deviceFingerprint() {
  let id = null;
  try {
    id = localStorage.getItem(DEVICE_ID_KEY);
    if (!/^[0-9a-f]{32}$/.test(id || '')) {
      id = toHex(randomBytes(16));
      localStorage.setItem(DEVICE_ID_KEY, id);
    }
  } catch (_) {
    id = null;
  }
  if (!id) return '';
  return `sha256:${await sha256Hex(utf8(`kaibiao device\n${id}`))}`;
}

// --------------------------------------------------------------- tender side --

function renderSide() {
  if (!ann) return;
  const s = schedule(ann);
  const open = isOpen();
  const total = budgetTotal(ann);
  replace(els.side,
    h('section.card.deadline-card', { class: open ? '' : 'is-closed', 'aria-labelledby': 'side-deadline-label' },
      h('div#side-deadline-label.side-label', open ? t('bid.deadline_label') : t('ann.closed_label')),
      open
        ? countdown(s.bid_deadline, { done: 'ann.closed_label', className: 'big-countdown' })
        : h('span.big-countdown.countdown.is-past', '—'),
      h('div.deadline-time', formatCST(s.bid_deadline)),
      h('div.small.muted', t('bid.clock_note')),
      h('div#server-clock.server-clock.small', serverClockText())),
    h('section.card.tender-brief', { 'aria-labelledby': 'brief-heading' },
      h('div.card-head', h('h2#brief-heading', t('bid.tender_card'))),
      h('dl.brief',
        h('div', h('dt', t('field.code')), h('dd.mono', ann.code || '—')),
        h('div', h('dt', t('field.purchaser')), h('dd', purchaserName(ann))),
        h('div', h('dt', t('field.agency')), h('dd', agencyName(ann))),
        h('div', h('dt', t('field.method')), h('dd', label('method', ann.method))),
        h('div', h('dt', t('field.budget_total')), h('dd.money', total !== null ? formatMoney(total) : '—'))),
      h('a.btn.btn-small.btn-block', { href: `/announcement.html?id=${encodeURIComponent(ann.id)}` }, t('bid.view_announcement'))));
  startCountdowns();
}

function serverClockText() {
  return `${withColon(t('bid.server_time'))}${formatCST(serverNow(), { seconds: true })}`;
}

/** Once a second: the platform clock, and closing the page when the deadline passes. */
function tick() {
  const clock = $('server-clock');
  if (clock) clock.textContent = serverClockText();
  const open = isOpen();
  if (wasOpen && !open) {
    renderSide();
    applyOpenState();
    renderMine();
  }
  wasOpen = open;
}

function applyOpenState() {
  const open = isOpen();
  if (!open) {
    const closedText = ann && ann.status === 'published' && !ann.opening_key
      ? t('bid.no_opening_key')
      : ann && ann.status !== 'published'
        ? t('bid.not_open', { status: label('status', ann.status) })
        : t('bid.closed');
    showBanner(els.alert, 'warning', closedText);
  }
  lockForm(Boolean(phase) || !open);
}

// ---------------------------------------------------------------- device keys --

async function checkKeys() {
  keys = { state: 'checking' };
  renderKeys();
  if (!window.indexedDB || !window.crypto || !crypto.subtle) {
    keys = { state: 'unsupported' };
    renderKeys();
    return;
  }
  try {
    let record = await loadDeviceKeys(me.id);
    if (record && !(record.signing.registeredAt && record.encryption.registeredAt)) {
      // A registration cut short (closed tab, network): finish it.
      keys = { state: 'registering' };
      renderKeys();
      record = await registerDeviceKeys(record);
    }
    const list = await get('/api/keys');
    const server = (Array.isArray(list) ? list : []).find((k) => k.purpose === 'encryption' && k.status === 'active') || null;
    let state;
    if (!record) state = server ? 'other-device' : 'none';
    else if (server && server.key_id === record.encryption.keyId) state = 'ready';
    else if (server) state = 'other-device';
    else state = 'inactive';
    keys = { state, record, server };
  } catch (e) {
    keys = { state: 'error', error: e };
  }
  renderKeys();
  applyOpenState();
}

function keyButton(id, text, primary, onClick) {
  return h(`button#${id}.btn`, { type: 'button', class: primary ? 'btn-primary' : '', on: { click: onClick } }, text);
}

function renderKeys() {
  els.keysCard.dataset.state = keys.state;
  const create = () => keyButton('create-keys', t('bid.create_keys'), true, (ev) => onCreateKeys(ev, false));
  const replaceBtn = () => keyButton('replace-keys', t('bid.replace_keys'), false, (ev) => onCreateKeys(ev, true));
  let body;
  switch (keys.state) {
    case 'checking':
      body = loadingBlock(t('bid.keys_checking'));
      break;
    case 'registering':
      body = loadingBlock(t('bid.keys_unregistered_text'));
      break;
    case 'unsupported':
      body = banner('error', t('bid.keys_unsupported'));
      break;
    case 'none':
      body = h('div.keys-state',
        h('div.keys-icon', { 'aria-hidden': 'true' }, keyIcon()),
        h('div.keys-text',
          h('strong', t('bid.keys_none_title')),
          h('p', t('bid.keys_none_text')),
          h('div.action-bar', create())));
      break;
    case 'other-device':
      body = h('div',
        banner('warning', t('bid.keys_other_text', { id: shortHash(keys.server.key_id, 16) }), { title: t('bid.keys_other_title') }),
        h('div.action-bar', replaceBtn()),
        // Keys kept in a key file (the CLI's) come into this browser here.
        keyImportPanel({ userId: me.id, replace: Boolean(keys.record), onImported: () => checkKeys() }));
      break;
    case 'inactive':
      body = h('div',
        banner('warning', t('bid.keys_inactive_text', { id: shortHash(keys.record.encryption.keyId, 16) }), { title: t('bid.keys_inactive_title') }),
        h('div.action-bar', replaceBtn()));
      break;
    case 'ready':
      body = h('div.keys-state.is-ready',
        h('div.keys-icon', { 'aria-hidden': 'true' }, keyIcon()),
        h('div.keys-text',
          h('strong#keys-ready', t('bid.keys_ready_title')),
          h('p', t('bid.keys_ready_text', {
            id: shortHash(keys.record.encryption.keyId, 16),
            at: formatCST(keys.record.encryption.registeredAt),
          })),
          h('p.small.muted', t('bid.keys_ready_warn'))));
      break;
    default:
      body = h('div',
        banner('error', t('bid.keys_error', { msg: failureText(keys.error) })),
        h('div.action-bar',
          h('button#keys-retry.btn', { type: 'button', on: { click: checkKeys } }, t('common.retry')),
          replaceBtn()));
  }
  replace(els.keysBody, body);
}

function keyIcon() {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '28');
  svg.setAttribute('height', '28');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', 'M7 14a4 4 0 1 1 3.9-5H21v3h-2v3h-3v-3h-5.1A4 4 0 0 1 7 14zm0-2.5a1.5 1.5 0 1 0 0-3 1.5 1.5 0 0 0 0 3z');
  p.setAttribute('fill', 'currentColor');
  svg.append(p);
  return svg;
}

async function onCreateKeys(ev, replaceKeys) {
  const btn = ev.currentTarget;
  if (replaceKeys) {
    const ok = await openDialog({
      title: t('bid.replace_title'),
      message: t('bid.replace_text'),
      okText: t('bid.replace_ok'),
      danger: true,
    });
    if (!ok) return;
  }
  const restore = busy(btn, t('bid.creating_keys'));
  try {
    const record = await createDeviceKeys(me.id, { replace: replaceKeys });
    await registerDeviceKeys(record);
    toast(t('bid.keys_created'));
    await checkKeys();
  } catch (e) {
    restore();
    keys = { state: 'error', error: e };
    renderKeys();
  }
}

// -------------------------------------------------------------- the form --

function fillLots() {
  const keep = els.lot.value || param('lot') || (lots().length === 1 ? String(lots()[0].lot_no) : '');
  clear(els.lot);
  els.lot.append(h('option', { value: '' }, t('form.choose')));
  for (const l of lots()) {
    els.lot.append(h('option', { value: String(l.lot_no) },
      t('bid.lot_option', { name: lotName(l), budget: formatMoney(l.budget_fen) })));
  }
  els.lot.value = keep;
  if (els.lot.value !== keep) els.lot.value = '';
}

function updatePrice() {
  const raw = els.price.value;
  const r = raw.trim() ? parseYuanToFen(raw) : null;
  els.priceWords.classList.toggle('is-error', Boolean(r && !r.ok));
  if (r && r.ok) {
    els.priceWords.textContent = amountInWords(r.fen);
    els.priceFigure.textContent = formatMoney(r.fen);
  } else {
    els.priceWords.textContent = r ? t(r.error === 'err.amount_required' ? 'bid.err_price_required' : r.error) : '';
    els.priceFigure.textContent = '';
  }
  const lot = lotByNo(els.lot.value);
  const over = Boolean(r && r.ok && lot && Number(lot.budget_fen) > 0 && r.fen > Number(lot.budget_fen));
  els.budgetWarning.hidden = !over;
  els.budgetWarning.textContent = over ? t('bid.price_over_budget', { budget: formatMoney(lot.budget_fen) }) : '';
}

function addFiles(list) {
  for (const f of list) {
    const dup = docs.some((d) => d.name === f.name && d.size === f.size && d.lastModified === f.lastModified);
    if (!dup) docs.push(f);
  }
  // Let the same file be chosen again after it was removed.
  els.files.value = '';
  renderDocs();
  const err = document.getElementById('documents-error');
  if (docs.length && err) err.textContent = '';
}

function renderDocs() {
  const locked = Boolean(phase);
  replace(els.filesList, docs.length
    ? docs.map((f, i) => h('li.doc-item',
      h('span.doc-icon', { 'aria-hidden': 'true' }, docIcon()),
      h('span.doc-name', { title: f.name }, f.name),
      h('span.doc-size', formatBytes(f.size)),
      h('button.btn.btn-ghost.btn-small.doc-remove', {
        type: 'button',
        disabled: locked,
        'aria-label': t('bid.remove_file_label', { name: f.name }),
        on: {
          click: () => {
            docs.splice(i, 1);
            renderDocs();
          },
        },
      }, t('bid.remove_file'))))
    : h('li.doc-empty.muted', t('bid.docs_empty')));
  const total = docs.reduce((a, f) => a + f.size, 0);
  els.filesTotal.textContent = docs.length ? t('bid.docs_total', { n: docs.length, size: formatBytes(total) }) : '';
}

function docIcon() {
  return lineIcon('M6 2h8l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm7 1.5V8h4.5M8 13h8M8 17h6');
}

function lockForm(on) {
  for (const el of els.form.querySelectorAll('input, select, textarea, button')) {
    if (el === els.resume) continue;
    el.disabled = on;
  }
  // The label styled as a button opens the file picker.
  els.form.querySelector('.file-pick').classList.toggle('is-disabled', on);
  renderDocs();
}

function intField(input, key, max) {
  const raw = input.value.trim();
  if (!/^\d+$/.test(raw) || Number(raw) > max) {
    setFieldError(els.form, key, t('err.integer_range', { min: 0, max }));
    return null;
  }
  return Number(raw);
}

// The personnel declaration (docs/bid-format.md): sealed as one more document, read by
// nobody before the opening and never read out.
const PERSONNEL_TYPE = 'application/vnd.kaibiao.personnel+json';
const MAX_TEAM = 50;

/** An identity number as typed is plausible: a resident number (GB 11643) with its
 *  MOD 11-2 check character, or another document's 6 to 32 letters and digits. */
function idNumberOk(raw) {
  const s = raw.replace(/\s+/g, '').toUpperCase();
  if (/^\d{17}[\dX]$/.test(s)) {
    const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const sum = w.reduce((a, x, i) => a + x * Number(s[i]), 0);
    return '10X98765432'[sum % 11] === s[17];
  }
  return /^[0-9A-Z]{6,32}$/.test(s) && !/^\d{18}$/.test(s);
}

/** The personnel section as a declaration, or null when it is empty; errors shown on
 *  the fields through `fail`. */
function readPersonnel(fail) {
  const person = (name, id, phone, role) => {
    const p = { name: name.trim() };
    if (id && id.trim()) p.id_number = id.replace(/\s+/g, '').toUpperCase();
    if (phone && phone.trim()) p.phone = phone.trim();
    if (role && role.trim()) p.role = role.trim();
    return p;
  };
  const out = {};
  const agentId = els.agentId.value.trim();
  if (agentId && !idNumberOk(agentId)) fail('agent_id', t('bid.err_id_number'));
  if (els.agentName.value.trim()) {
    out.agent = person(els.agentName.value, agentId, els.agentPhone.value);
  } else if (agentId || els.agentPhone.value.trim()) {
    fail('agent_id', t('bid.err_person_name'));
  }
  if (els.contactName.value.trim()) {
    out.contact = person(els.contactName.value, '', els.contactPhone.value);
  } else if (els.contactPhone.value.trim()) {
    fail('contact_phone', t('bid.err_contact_name'));
  }
  const lines = els.team.value.split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length > MAX_TEAM) fail('team', t('bid.err_team_size', { max: MAX_TEAM }));
  const team = [];
  lines.forEach((line, i) => {
    const [name = '', id = '', ...role] = line.split(/[,，、\t]/).map((x) => x.trim());
    if (!name || (id && !idNumberOk(id))) fail('team', t('bid.err_team_line', { n: i + 1 }));
    else team.push(person(name, id, '', role.join(' ')));
  });
  if (team.length) out.team = team;
  return Object.keys(out).length ? out : null;
}

/** The checked form: {lotNo, sheet, files, personnel}, or null with the errors shown. */
function readForm() {
  clearFieldErrors(els.form);
  let ok = true;
  const fail = (key, text) => {
    setFieldError(els.form, key, text);
    ok = false;
  };
  const lot = lotByNo(els.lot.value);
  if (!els.lot.value || !lot) fail('lot_no', t('bid.err_lot'));
  const price = parseYuanToFen(els.price.value);
  if (!price.ok) fail('total_price', t(price.error === 'err.amount_required' ? 'bid.err_price_required' : price.error));
  const days = intField(els.days, 'delivery_days', 36500);
  const months = intField(els.months, 'warranty_months', 1200);
  if (days === null || months === null) ok = false;
  const size = els.size.value;
  if (!ENTERPRISE_SIZES.includes(size)) fail('enterprise_size', t('bid.err_size'));
  const special = SHARE_SPECIAL.includes(els.special.value) ? els.special.value : null;
  if (!docs.length) fail('documents', t('bid.err_docs'));
  const total = docs.reduce((a, f) => a + f.size, 0);
  if (total > MAX_CONTAINER - 16 * MiB) fail('documents', t('bid.err_too_large'));
  const personnel = readPersonnel(fail);
  if (!ok) return null;
  return {
    lotNo: Number(lot.lot_no),
    lot,
    sheet: {
      total_price_fen: price.fen,
      total_price_words: amountInWords(price.fen),
      delivery_days: days,
      warranty_months: months,
      enterprise_size: size,
      special_status: special,
      notes: els.notes.value.trim(),
    },
    files: [...docs],
    personnel,
  };
}

// ------------------------------------------------------------ progress UI --

function step(name, state) {
  const el = $(`step-${name}`);
  if (el) el.dataset.state = state;
}

function setProgress(which, done, total) {
  const bar = which === 'seal' ? els.sealProgress : els.uploadProgress;
  const text = which === 'seal' ? els.sealText : els.uploadText;
  bar.max = Math.max(1, total);
  bar.value = Math.min(done, total);
  bar.dataset.done = String(done);
  bar.dataset.total = String(total);
  text.textContent = progressText(done, total);
}

function progressText(done, total) {
  const pct = total > 0 ? Math.floor((done / total) * 1000) / 10 : 0;
  return t('bid.bytes_progress', { done: formatBytes(done), total: formatBytes(total), pct: pct.toFixed(1) });
}

function refreshProgressTexts() {
  for (const [bar, text] of [[els.sealProgress, els.sealText], [els.uploadProgress, els.uploadText]]) {
    if (bar.dataset.total) text.textContent = progressText(Number(bar.dataset.done), Number(bar.dataset.total));
  }
}

function resetProgress() {
  els.progressBox.hidden = false;
  for (const s of ['start', 'seal', 'upload', 'complete']) step(s, 'todo');
  for (const bar of [els.sealProgress, els.uploadProgress]) {
    bar.max = 1;
    bar.value = 0;
    delete bar.dataset.done;
    delete bar.dataset.total;
  }
  els.uploadProgress.dataset.retries = '0';
  els.uploadProgress.dataset.resumes = '0';
  els.sealText.textContent = '';
  els.uploadText.textContent = '';
  setNote('', '');
}

function beforeUnload(ev) {
  if (!phase) return;
  ev.preventDefault();
  ev.returnValue = t('bid.leave_warning');
}

// ------------------------------------------------------------ submission --

async function onSubmit(ev) {
  ev.preventDefault();
  if (phase) return;
  clear(els.status);
  if (!isOpen()) {
    applyOpenState();
    return;
  }
  if (keys.state !== 'ready') {
    showBanner(els.status, 'warning', t('bid.keys_needed'));
    els.keysCard.scrollIntoView({ block: 'start', behavior: 'smooth' });
    return;
  }
  const v = readForm();
  if (!v) {
    showBanner(els.status, 'error', t('form.has_errors'));
    const first = els.form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    return;
  }
  const ok = await openDialog({
    title: t('bid.confirm_title'),
    message: t('bid.confirm_text', {
      lot: lotName(v.lot),
      price: formatMoney(v.sheet.total_price_fen),
      words: v.sheet.total_price_words,
      days: v.sheet.delivery_days,
      months: v.sheet.warranty_months,
      n: v.files.length,
    }),
    okText: t('bid.confirm_ok'),
  });
  if (!ok) return;
  await submit(v);
}

function setPhase(p) {
  phase = p;
  lockForm(Boolean(p) || !isOpen());
  els.resume.hidden = Boolean(p) || !pending;
}

async function submit(v) {
  const record = keys.record;
  // The receipt of an earlier submission would be mistaken for this one's.
  receiptView = null;
  renderReceipt();
  resetProgress();
  setPhase('start');
  try {
    // An earlier upload that failed and is being replaced by this one: let it go.
    await abandonPending();
    step('start', 'active');
    const start = await post(`/api/tenders/${encodeURIComponent(tenderId)}/bids`, {
      lot_no: v.lotNo,
      device_fingerprint: await deviceFingerprint(),
      documents_meta: v.files.map((f) => ({ name: f.name, size: f.size, type: f.type, lastModified: f.lastModified })),
    });
    pending = { bidId: start.bid_id, lotNo: start.lot_no, offset: 0, retries: 0, resumes: 0 };
    // Seal only to the key this browser holds, and to the key the notice published.
    if (start.bidder_key_id !== record.encryption.keyId) {
      throw new PageError(t('bid.err_key_changed', { server: shortHash(start.bidder_key_id), local: shortHash(record.encryption.keyId) }));
    }
    if (!ann.opening_key || start.tender_key !== ann.opening_key.public_key) throw new PageError(t('bid.err_tender_key'));
    step('start', 'done');

    setPhase('seal');
    step('seal', 'active');
    Object.assign(pending, await seal(start, v));
    step('seal', 'done');

    await finish(pending);
  } catch (e) {
    failure(e);
  } finally {
    setPhase(null);
  }
}

/** Seals into a Blob, hashing the container as it is made. */
async function seal(start, v) {
  const sealed = await sealBid({
    tenderId: start.tender_id,
    lotNo: start.lot_no,
    bidderOrgId: start.bidder_org_id,
    bidId: start.bid_id,
    bidderPublicKey: fromB64url(start.bidder_key),
    tenderPublicKey: fromB64url(start.tender_key),
    segmentSize: start.segment_size,
    openingSheet: v.sheet,
    documents: [
      ...v.files.map((file) => ({ file })),
      ...(v.personnel
        ? [{ file: new File([JSON.stringify(v.personnel)], 'personnel.json', { type: PERSONNEL_TYPE }) }]
        : []),
    ],
    output: 'chunks',
  });
  if (sealed.size > MAX_CONTAINER) throw new PageError(t('bid.err_too_large'));
  const hasher = nobleSha256.create();
  const parts = [];
  let done = 0;
  setProgress('seal', 0, sealed.size);
  for await (const chunk of sealed.chunks) {
    hasher.update(chunk);
    // Each piece becomes a Blob at once: the ciphertext lives in the browser's blob
    // storage (which spills to disk), not in the JS heap.
    parts.push(new Blob([chunk]));
    done += chunk.length;
    setProgress('seal', done, sealed.size);
  }
  if (done !== sealed.size) throw new CryptoError('IO', `sealed ${done} of ${sealed.size} bytes`);
  return { blob: new Blob(parts, { type: 'application/octet-stream' }), size: done, sha256: toHex(hasher.digest()) };
}

/** Uploads what the server lacks, completes, and shows the receipt. */
async function finish(p) {
  setPhase('upload');
  for (let round = 0; ; round++) {
    step('upload', 'active');
    await uploadRest(p);
    step('upload', 'done');
    step('complete', 'active');
    let view;
    try {
      view = await withRetry(() => post(`/api/bids/${encodeURIComponent(p.bidId)}/complete`, { size: p.size, sha256: p.sha256 }));
    } catch (e) {
      if (e instanceof ApiError && e.code === 'UPLOAD_INCOMPLETE' && round < 3 && Number.isSafeInteger(e.body && e.body.received)) {
        p.offset = e.body.received;
        continue;
      }
      throw e;
    }
    step('complete', 'done');
    pending = null;
    toast(t('bid.submitted_ok'));
    await showReceipt(view.receipt, { local: p });
    loadMine();
    return;
  }
}

async function csrfToken() {
  const session = await refreshMe({ quiet: true });
  return (session && session.csrf_token) || '';
}

/** One chunk: {ok, status, body}; throws only when the network fails. */
async function putChunk(bidId, offset, blob, csrf) {
  const sentAt = Date.now();
  const res = await fetch(`/api/bids/${encodeURIComponent(bidId)}/content?offset=${offset}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', accept: 'application/json', 'x-csrf-token': csrf },
    body: blob,
    credentials: 'same-origin',
    cache: 'no-store',
  });
  noteServerDate(res.headers.get('date'), sentAt, Date.now());
  let body = null;
  try {
    body = await res.json();
  } catch (_) {
    body = null;
  }
  return { ok: res.ok, status: res.status, body };
}

async function waitRetry(attempt) {
  const delay = RETRY_DELAYS_MS[Math.min(attempt, RETRY_DELAYS_MS.length) - 1];
  for (let left = Math.ceil(delay / 1000); left > 0; left--) {
    setNote('retry', t('bid.retrying', { s: left, n: attempt }));
    await sleep(Math.min(1000, delay));
  }
}

/** The line under the upload bar: a retry countdown, or where an upload resumed. */
function setNote(kind, text) {
  els.uploadNote.dataset.kind = kind;
  els.uploadNote.textContent = text;
}

function noteRetry(p) {
  p.retries += 1;
  els.uploadProgress.dataset.retries = String(p.retries);
}

/** PUTs Blob slices from p.offset to the end, retrying and resuming as needed. */
async function uploadRest(p) {
  let csrf = await csrfToken();
  let chunk = p.chunk || CHUNK_START;
  let failures = 0;
  let offsetAnswers = 0;
  let csrfRetried = false;
  setProgress('upload', p.offset, p.size);
  while (p.offset < p.size) {
    const end = Math.min(p.offset + chunk, p.size);
    const started = performance.now();
    let res;
    try {
      res = await putChunk(p.bidId, p.offset, p.blob.slice(p.offset, end), csrf);
    } catch (e) {
      // The bytes may or may not have arrived: retry at the same offset; if they did,
      // the server answers UPLOAD_OFFSET with how far it got.
      failures += 1;
      noteRetry(p);
      if (failures > RETRY_DELAYS_MS.length) throw new ApiError({ status: 0, code: 'NETWORK', message_en: e && e.message });
      await waitRetry(failures);
      continue;
    }
    const code = res.body && res.body.code;
    if (res.ok) {
      const received = res.body && Number.isSafeInteger(res.body.received) ? res.body.received : end;
      p.offset = received;
      failures = 0;
      offsetAnswers = 0;
      const secs = (performance.now() - started) / 1000;
      if (secs < 1 && chunk < CHUNK_MAX) chunk *= 2;
      else if (secs > 5 && chunk > CHUNK_MIN) chunk /= 2;
      p.chunk = chunk;
      if (els.uploadNote.dataset.kind === 'retry') setNote('', '');
      setProgress('upload', p.offset, p.size);
      continue;
    }
    if (code === 'UPLOAD_OFFSET' && Number.isSafeInteger(res.body.received) && res.body.received <= p.size && offsetAnswers < 20) {
      offsetAnswers += 1;
      p.offset = res.body.received;
      p.resumes += 1;
      els.uploadProgress.dataset.resumes = String(p.resumes);
      setNote('resumed', t('bid.resumed', { at: formatBytes(p.offset) }));
      setProgress('upload', p.offset, p.size);
      continue;
    }
    if (code === 'CSRF_FAILED' && !csrfRetried) {
      csrfRetried = true;
      csrf = await csrfToken();
      continue;
    }
    if (res.status >= 500 || res.status === 408 || res.status === 429) {
      failures += 1;
      noteRetry(p);
      if (failures <= RETRY_DELAYS_MS.length) {
        await waitRetry(failures);
        continue;
      }
    }
    const body = res.body && typeof res.body === 'object' ? res.body : {};
    throw new ApiError({ status: res.status, ...body, body });
  }
}

/** Runs an API call, retrying network failures and server errors with backoff. */
async function withRetry(fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const transient = e instanceof ApiError && (e.code === 'NETWORK' || e.status >= 500);
      if (!transient || attempt > RETRY_DELAYS_MS.length) throw e;
      await waitRetry(attempt);
    }
  }
}

/** Refusals after which the same upload cannot go on. */
function isFinal(e) {
  if (!(e instanceof ApiError)) return true;
  return e.code === 'DEADLINE_PASSED' || e.code === 'HEADER_MISMATCH' || e.code === 'ILLEGAL_TRANSITION' ||
    e.code === 'NOT_FOUND' || e.code === 'VALIDATION' || String(e.code).startsWith('CONTAINER_');
}

function failure(e) {
  const uploading = phase === 'upload' && pending && pending.blob;
  for (const s of ['start', 'seal', 'upload', 'complete']) {
    const el = $(`step-${s}`);
    if (el && el.dataset.state === 'active') el.dataset.state = 'error';
  }
  if (els.uploadNote.dataset.kind === 'retry') setNote('', '');
  if (uploading && !isFinal(e)) {
    const msg = failureText(e).replace(/[。．.！!\s]+$/, '');
    showBanner(els.status, 'error', t('bid.upload_failed', { msg }), { title: t('bid.failed_title') });
    return;
  }
  // Anything else ends this attempt; an unfinished upload is let go.
  const left = abandonPending();
  if (e instanceof ApiError && e.code === 'VALIDATION') {
    const leftover = showFieldErrors(els.form, e.fields);
    showBanner(els.status, 'error', errorText(e), { title: t('bid.failed_title'), list: leftover });
  } else if (e instanceof ApiError && e.code === 'DEPOSIT_MISSING') {
    showBanner(els.status, 'error', errorText(e), {
      title: t('bid.failed_title'),
      action: h('a#to-deposit.btn.btn-small', { href: `/deposits.html?tender=${encodeURIComponent(tenderId)}` }, t('deposit.record_link')),
    });
  } else {
    showBanner(els.status, 'error', failureText(e), { title: t('bid.failed_title') });
  }
  if (e instanceof ApiError && e.code === 'ENCRYPTION_KEY_REQUIRED') checkKeys();
  if (e instanceof ApiError && e.code === 'DEADLINE_PASSED') reloadAnnouncement();
  left.then(loadMine);
}

async function onResume() {
  if (!pending || phase) return;
  clear(els.status);
  const p = pending;
  setPhase('upload');
  try {
    const st = await get(`/api/bids/${encodeURIComponent(p.bidId)}`);
    if (st.status === 'submitted' && st.receipt) {
      pending = null;
      step('upload', 'done');
      step('complete', 'done');
      await showReceipt(st.receipt, { local: p });
      loadMine();
      return;
    }
    if (st.status !== 'uploading') throw new ApiError({ status: 409, code: 'ILLEGAL_TRANSITION', message: label('bidstatus', st.status), message_en: label('bidstatus', st.status) });
    p.offset = Number(st.received) || 0;
    await finish(p);
  } catch (e) {
    failure(e);
  } finally {
    setPhase(null);
  }
}

async function abandonPending() {
  if (!pending) return;
  const old = pending;
  pending = null;
  try {
    await post(`/api/bids/${encodeURIComponent(old.bidId)}/withdraw`, {});
  } catch (_) {
    /* it stays listed under my bids */
  }
}

// ---------------------------------------------------------------- receipt --

async function verifyReceipt(signed) {
  if (!certs) certs = await get('/api/pki/certificates');
  if (signed.signer_pem && certs.signer_pem && signed.signer_pem.trim() !== certs.signer_pem.trim()) return 'other-cert';
  const pub = fromB64url(certs.signer_public_key);
  const sig = fromB64url(signed.signature);
  if (!pub || !sig || sig.length !== 64) return 'invalid';
  const key = await crypto.subtle.importKey('raw', pub, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
  const ok = await crypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, sig, utf8(canonicalJson(signed.receipt)));
  return ok ? 'valid' : 'invalid';
}

async function showReceipt(signed, { local = null } = {}) {
  if (!signed || !signed.receipt) return;
  receiptView = { signed, local: local ? { bidId: local.bidId, size: local.size, sha256: local.sha256 } : null, verdict: null, error: null };
  const view = receiptView;
  renderReceipt();
  els.receiptCard.scrollIntoView({ block: 'start', behavior: 'smooth' });
  try {
    view.verdict = await verifyReceipt(signed);
  } catch (e) {
    view.verdict = 'error';
    view.error = e;
  }
  if (receiptView === view) renderReceipt();
}

function receiptFileName(r) {
  return `receipt-${r.tender_code || r.tender_id}-lot${r.lot_no}-${String(r.bid_id).slice(0, 8)}.json`;
}

let receiptUrl = null;

function renderReceipt() {
  if (receiptUrl) URL.revokeObjectURL(receiptUrl);
  receiptUrl = null;
  if (!receiptView) {
    els.receiptCard.hidden = true;
    clear(els.receiptBody);
    return;
  }
  const { signed, local, verdict, error } = receiptView;
  const r = signed.receipt;
  receiptUrl = URL.createObjectURL(new Blob([`${JSON.stringify(signed, null, 2)}\n`], { type: 'application/json' }));
  let check;
  if (verdict === null) check = loadingBlock(t('bid.verifying'));
  else if (verdict === 'valid') {
    check = h('div.receipt-check.is-valid',
      h('span.check-mark', { 'aria-hidden': 'true' }, '✓'),
      h('div', h('strong#receipt-valid', t('bid.receipt_valid')), h('p.small', t('bid.receipt_valid_text'))));
  } else if (verdict === 'other-cert') {
    check = banner('warning', t('bid.receipt_other_cert'));
  } else if (verdict === 'invalid') {
    check = h('div#receipt-invalid', banner('error', t('bid.receipt_invalid')));
  } else {
    check = banner('warning', t('bid.receipt_check_failed', { msg: failureText(error) }));
  }
  let localLine = null;
  if (local) {
    const same = local.sha256 === r.ciphertext_sha256 && local.size === r.size && local.bidId === r.bid_id;
    localLine = h('span#receipt-local', { class: same ? 'hash-ok' : 'hash-bad', dataset: { matches: String(same) } },
      same ? `✓ ${t('bid.receipt_matches')}` : `✗ ${t('bid.receipt_differs')}`);
  }
  const lot = lotByNo(r.lot_no);
  const row = (k, v, extra) => h('div.kv-item', { class: extra || '' }, h('dt', t(k)), h('dd', v));
  replace(els.receiptBody,
    h('div#receipt.receipt', { dataset: { bidId: r.bid_id, ciphertextSha256: r.ciphertext_sha256 } },
      h('p.card-note', t('bid.receipt_note')),
      check,
      h('dl.kv.receipt-kv',
        row('bid.r_bid_id', h('span.mono', r.bid_id), 'kv-wide'),
        row('bid.r_tender_code', h('span.mono', r.tender_code || '—')),
        row('bid.r_lot', lot ? lotName(lot) : t('bid.lot_n', { n: r.lot_no })),
        row('bid.r_size', `${formatBytes(r.size)}（${Number(r.size).toLocaleString('en-US')} B）`),
        // received_at is the signed instant; received_at_cst has minutes only.
        row('bid.r_received', Number.isFinite(Number(r.received_at)) ? formatCST(r.received_at, { seconds: true }) : r.received_at_cst),
        row('bid.r_sha', h('div', h('span.hash', r.ciphertext_sha256), localLine ? h('div', localLine) : null), 'kv-wide'),
        r.replaces ? row('bid.r_replaces', h('span.mono', r.replaces), 'kv-wide') : null,
        row('bid.r_signature', h('span.hash.signature', { title: signed.signature }, signed.signature), 'kv-wide')),
      h('div.action-bar',
        h('a#download-receipt.btn.btn-primary', { href: receiptUrl, download: receiptFileName(r), type: 'application/json' }, t('bid.download_receipt')))));
  els.receiptCard.hidden = false;
}

// ---------------------------------------------------------------- my bids --

async function loadMine() {
  try {
    const list = await get(`/api/tenders/${encodeURIComponent(tenderId)}/bids/mine`);
    mine = Array.isArray(list) ? list : [];
    mineError = null;
  } catch (e) {
    mineError = e;
  }
  renderMine();
}

function bidBadge(status) {
  const s = String(status || '').replace(/[^a-z_]/g, '');
  return h('span.badge.bid-badge', { class: `bid-badge-${s}` }, label('bidstatus', s));
}

function renderMine() {
  if (mineError) {
    replace(els.mineBody, errorBlock(errorText(mineError), loadMine));
    return;
  }
  if (mine === null) {
    replace(els.mineBody, loadingBlock());
    return;
  }
  if (!mine.length) {
    replace(els.mineBody, emptyBlock(t('bid.mine_empty')));
    return;
  }
  const open = isOpen();
  const rows = [...mine].sort((a, b) => (b.submitted_at || b.created_at) - (a.submitted_at || a.created_at));
  replace(els.mineBody, h('div.table-wrap',
    h('table#my-bids.table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('bid.col_lot')),
        h('th', { scope: 'col' }, t('bid.col_status')),
        h('th.num.hide-mobile', { scope: 'col' }, t('bid.col_size')),
        h('th', { scope: 'col' }, t('bid.col_time')),
        h('th.hide-mobile', { scope: 'col' }, t('bid.col_sha')),
        h('th', { scope: 'col' }, t('bid.col_actions')))),
      h('tbody', rows.map((b) => {
        const busyHere = phase && pending && pending.bidId === b.bid_id;
        const canWithdraw = open && !busyHere && (b.status === 'submitted' || b.status === 'uploading');
        const size = b.status === 'uploading' ? `${formatBytes(b.received)} …` : formatBytes(b.size);
        return h('tr.my-bid', { dataset: { status: b.status, bidId: b.bid_id } },
          h('td.nowrap', t('bid.lot_n', { n: b.lot_no })),
          h('td', bidBadge(b.status)),
          h('td.num.hide-mobile.nowrap', size),
          h('td.nowrap', formatCST(b.submitted_at || b.created_at)),
          h('td.hide-mobile', b.ciphertext_sha256 ? h('span.hash', { title: b.ciphertext_sha256 }, shortHash(b.ciphertext_sha256, 16)) : '—'),
          h('td.actions',
            h('div.row-actions',
              b.receipt ? h('button.btn.btn-small.show-receipt', { type: 'button', on: { click: () => showReceipt(b.receipt) } }, t('bid.show_receipt')) : null,
              canWithdraw
                ? h('button.btn.btn-small.btn-outline-danger.withdraw', { type: 'button', on: { click: (ev) => onWithdraw(ev, b) } },
                  b.status === 'uploading' ? t('bid.abandon') : t('bid.withdraw'))
                : null)));
      })))));
}

async function onWithdraw(ev, b) {
  const btn = ev.currentTarget;
  const uploading = b.status === 'uploading';
  const ok = await openDialog({
    title: uploading ? t('bid.abandon_title') : t('bid.withdraw_title'),
    message: uploading ? t('bid.abandon_text') : t('bid.withdraw_text'),
    okText: uploading ? t('bid.abandon') : t('bid.withdraw'),
    danger: true,
  });
  if (!ok) return;
  const restore = busy(btn);
  try {
    await post(`/api/bids/${encodeURIComponent(b.bid_id)}/withdraw`, {});
    if (pending && pending.bidId === b.bid_id) {
      pending = null;
      els.resume.hidden = true;
    }
    toast(t('bid.withdrawn_ok'));
    await loadMine();
  } catch (e) {
    restore();
    showBanner(els.alert, 'error', errorText(e), { title: t('common.error_title') });
  }
}

// ------------------------------------------------------------------ load --

async function reloadAnnouncement() {
  try {
    const a = await get(`/api/announcements/${encodeURIComponent(tenderId)}`);
    ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  } catch (_) {
    /* keep what we had */
  }
  renderSide();
  applyOpenState();
  renderMine();
}

async function loadOrg() {
  if (!me.org || !me.org.id) return;
  try {
    const list = await get('/api/organisations?kind=supplier');
    myOrg = (Array.isArray(list) ? list : []).find((o) => o.id === me.org.id) || null;
  } catch (_) {
    myOrg = null;
  }
  // The declaration defaults to the organisation's registration; the supplier may change it.
  if (myOrg && !els.size.value && ENTERPRISE_SIZES.includes(myOrg.enterprise_size)) els.size.value = myOrg.enterprise_size;
  if (myOrg && !els.special.value && SHARE_SPECIAL.includes(myOrg.special_status)) els.special.value = myOrg.special_status;
}

function renderTitle() {
  if (!ann) return;
  els.tenderTitle.textContent = ann.title || '';
  els.crumb.hidden = false;
  els.crumbLink.textContent = ann.code || ann.title || '';
  els.crumbLink.href = `/announcement.html?id=${encodeURIComponent(ann.id)}`;
  setPageTitle(() => `${t('bid.title')} · ${ann.title || ''}`);
}

function relabel() {
  if (!ann) return;
  renderTitle();
  renderSide();
  renderKeys();
  fillLots();
  updatePrice();
  renderDocs();
  refreshProgressTexts();
  if (receiptView) renderReceipt();
  renderMine();
  if (!isOpen()) applyOpenState();
}

function wire() {
  els.form.addEventListener('submit', onSubmit);
  els.resume.addEventListener('click', onResume);
  els.price.addEventListener('input', updatePrice);
  els.lot.addEventListener('change', updatePrice);
  els.files.addEventListener('change', () => addFiles([...(els.files.files || [])]));
  els.mineRefresh.addEventListener('click', loadMine);
  els.form.addEventListener('input', (ev) => {
    const field = ev.target.closest('.field');
    if (!field) return;
    for (const e of field.querySelectorAll('.field-error')) e.textContent = '';
    ev.target.removeAttribute('aria-invalid');
  });
  window.addEventListener('beforeunload', beforeUnload);
  onLangChange(relabel);
}

// A bid starts from the documents (获取采购文件): without them the page offers to obtain
// them here, or to read them first.
async function checkDocuments() {
  const path = `/api/tenders/${encodeURIComponent(tenderId)}/documents`;
  try {
    await get(`${path}/mine`);
    return;
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) return;
  }
  const button = h('button#bid-obtain.btn.btn-small.btn-primary', { type: 'button' }, t('docs.obtain'));
  button.addEventListener('click', async () => {
    const restore = busy(button, t('docs.obtaining'));
    try {
      await post(`${path}/obtain`, {});
      clear(els.alert);
      toast(t('bid.documents_obtained'));
    } catch (e) {
      restore();
      showBanner(els.alert, 'error', errorText(e));
    }
  });
  replace(els.alert, banner('warning', t('bid.documents_needed'), {
    action: h('span.action-bar', button,
      h('a.btn.btn-small', { href: `/documents.html?tender=${encodeURIComponent(tenderId)}` }, t('docs.link'))),
  }));
}

async function main() {
  setPageTitle('bid.title');
  me = await initLayout({ auth: 'required', active: 'announcements' });
  if (!tenderId) {
    replace(els.alert, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/index.html' }, t('common.back_home'))));
    return;
  }
  if (!me || me.role !== 'supplier') {
    showBanner(els.alert, 'warning', t('bid.supplier_only'));
    replace(els.loading, h('p', h('a.btn', { href: `/announcement.html?id=${encodeURIComponent(tenderId)}` }, t('bid.view_announcement'))));
    return;
  }
  replace(els.loading, loadingBlock());
  try {
    const a = await get(`/api/announcements/${encodeURIComponent(tenderId)}`);
    ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  } catch (e) {
    const notFound = e instanceof ApiError && e.status === 404;
    replace(els.loading, errorBlock(notFound ? t('common.not_found') : errorText(e), notFound ? null : main),
      h('p', h('a.btn', { href: '/index.html' }, t('common.back_home'))));
    return;
  }
  clear(els.loading);
  els.page.hidden = false;
  wire();
  renderTitle();
  renderSide();
  fillLots();
  renderDocs();
  updatePrice();
  wasOpen = isOpen();
  applyOpenState();
  setInterval(tick, 1000);
  await Promise.all([checkKeys(), loadOrg(), loadMine(), checkDocuments()]);
}

main();
