// Manage one tender: details, state actions for the agency (edit, publish,
// amend 更正公告, cancel 终止), and the ledger (事件链).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatCST, formatMoney, amountInWords, serverNow } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, statusBadge, countdown, startCountdowns, openDialog, toast, busy } from '../ui.js';
import { budgetTotal, schedule, regionName, purchaserName, agencyName, lotsTable, timeline, amendmentsList, ledgerTable, ledgerEvents, cancelReasonFromLedger, evaluationCard, awardCard } from '../tenders.js';
import { LotsEditor, cstInput, clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';

const id = param('id');
const root = document.getElementById('tender');
const alertEl = document.getElementById('tender-alert');
const crumb = document.getElementById('crumb-current');

const USER_LIST_ROLES = ['admin', 'agency', 'finance', 'oversight'];

let me = null;
let tender = null;
let ledger = null;
let ledgerError = null;
let regions = [];
let userIndex = new Map();
let amendOpen = false;
let amendState = null; // keeps the amendment form's widgets across re-renders

// ------------------------------------------------------------- helpers --

function kv(items) {
  return h('dl.kv', items.filter(Boolean).map(([k, v, wide]) =>
    h('div.kv-item', { class: wide ? 'kv-wide' : '' }, h('dt', t(k)), h('dd', v ?? '—'))));
}

function custodianList(x) {
  let list = [];
  if (Array.isArray(x.custodians) && x.custodians.length) {
    list = x.custodians.map((c) => (typeof c === 'string' ? { id: c } : c));
  } else if (Array.isArray(x.custodian_ids)) {
    list = x.custodian_ids.map((cid) => ({ id: cid }));
  }
  return list.map((c) => {
    const cid = c.user_id || c.id;
    const u = userIndex.get(cid);
    const name = c.display_name || c.name || (u && (u.display_name || u.username)) || t('tender.unknown_user', { id: String(cid || '').slice(0, 8) });
    const role = c.role || (u && u.role);
    return { name, role };
  });
}

/** A ledger actor id → "display name", from the user list or the custodians. */
function actorName(uid) {
  const u = userIndex.get(uid);
  if (u) return u.display_name || u.username;
  if (me && me.id === uid) return me.display_name || me.username;
  const c = tender && Array.isArray(tender.custodians) ? tender.custodians.find((x) => x && x.user_id === uid) : null;
  return c ? c.display_name : null;
}

/** Whether the current user holds a share of this tender's opening key (made at publication). */
function isCustodian(x) {
  return Boolean(me && x.opening_key && Array.isArray(x.custodians) && x.custodians.some((c) => c && c.user_id === me.id));
}

function isAgency() {
  return me && me.role === 'agency';
}

/** The opening hall while bids are sealed or being opened; the signed record and the
 * evaluation room after. */
function hallLink(x) {
  const id = encodeURIComponent(x.id);
  if (x.status === 'sealed' || x.status === 'opening') {
    return h('a#hall-link.btn.btn-primary', { href: `/opening.html?tender=${id}` }, t('hall.enter'));
  }
  if (x.status === 'evaluating' || x.status === 'awarded') {
    return [
      h('a#eval-link.btn.btn-primary', { href: `/evaluation.html?tender=${id}` }, t('eval.enter')),
      h('a#record-link.btn', { href: `/record.html?tender=${id}` }, t('rec.title')),
      x.status === 'awarded' ? h('a#result-link.btn', { href: `/result.html?tender=${id}` }, t('res.link')) : null,
    ];
  }
  return null;
}

// ------------------------------------------------------------- actions --

function actionBar(x) {
  // The documents from the template (a preview with its warnings while drafting) and the
  // questions to answer: for every unit of the tender.
  const docs = h('a#documents-link.btn', { href: `/documents.html?tender=${encodeURIComponent(x.id)}` }, t('docs.link'));
  // A framework agreement's second stage (docs/framework.md), once there is one to run.
  const framework = x.method === 'framework_agreement' && ['awarded', 'evaluating'].includes(x.status)
    ? h('a#framework-link.btn', { href: `/framework.html?tender=${encodeURIComponent(x.id)}` }, t('fw.link'))
    : null;
  if (!isAgency()) return h('div.action-bar', docs, framework);
  const buttons = [docs, framework].filter(Boolean);
  if (x.status === 'draft') {
    buttons.push(h('a#edit.btn', { href: `/tender-form.html?id=${encodeURIComponent(x.id)}` }, t('tender.edit')));
    buttons.push(h('button#publish.btn.btn-primary', { type: 'button', on: { click: onPublish } }, t('tender.publish')));
  }
  if (x.status === 'published') {
    buttons.push(h('button#amend.btn', {
      type: 'button',
      'aria-expanded': String(amendOpen),
      'aria-controls': 'amend-panel',
      on: { click: toggleAmend },
    }, t('tender.amend')));
  }
  if (x.status === 'draft' || x.status === 'published') {
    buttons.push(h('button#cancel.btn.btn-outline-danger', { type: 'button', on: { click: onCancel } }, t('tender.cancel')));
  }
  return h('div.action-bar', buttons);
}

async function onPublish(ev) {
  const btn = ev.currentTarget;
  const ok = await openDialog({
    title: t('tender.publish_confirm_title'),
    message: t('tender.publish_confirm_text'),
    okText: t('tender.publish'),
  });
  if (!ok) return;
  const restore = busy(btn);
  try {
    await post(`/api/tenders/${encodeURIComponent(id)}/publish`, {});
    toast(t('tender.published_ok'));
    clear(alertEl);
    await reload();
  } catch (e) {
    restore();
    showBanner(alertEl, 'error', errorText(e), { title: t('common.error_title') });
  }
}

async function onCancel(ev) {
  const btn = ev.currentTarget;
  const reason = await openDialog({
    title: t('tender.cancel_title'),
    message: t('tender.cancel_text'),
    okText: t('tender.cancel_confirm'),
    danger: true,
    input: { label: t('tender.cancel_reason'), requiredText: t('err.reason_required') },
  });
  if (reason === null) return;
  const restore = busy(btn);
  try {
    await post(`/api/tenders/${encodeURIComponent(id)}/cancel`, { reason });
    toast(t('tender.cancel_ok'));
    clear(alertEl);
    amendOpen = false;
    await reload();
  } catch (e) {
    restore();
    showBanner(alertEl, 'error', errorText(e), { title: t('common.error_title') });
  }
}

// ------------------------------------------------------------ amendment --

function toggleAmend() {
  amendOpen = !amendOpen;
  if (!amendOpen) amendState = null;
  render();
  if (amendOpen) {
    const r = document.getElementById('amend-reason');
    if (r) {
      r.focus();
      r.scrollIntoView({ block: 'center', behavior: 'smooth' });
    }
  }
}

function amendField(idBase, key, labelKey, control, extra) {
  return h('div.field', { class: extra && extra.wide ? 'field-wide' : '' },
    h('label.field-label', { for: idBase }, t(labelKey), extra && extra.required ? h('span.req', { 'aria-hidden': 'true' }, ' *') : null),
    control,
    extra && extra.preview ? extra.preview : null,
    h('p.field-error', { id: `${idBase}-error`, dataset: { field: key }, 'aria-live': 'polite' }));
}

function buildAmendPanel(x) {
  if (amendState) return amendState.panel;
  const s = schedule(x);
  const reason = h('textarea#amend-reason.input', { rows: 3, maxlength: 2000, 'aria-describedby': 'amend-reason-error', 'aria-required': 'true' });
  const title = h('input#amend-title.input', { type: 'text', maxlength: 200, value: x.title || '' });
  const description = h('textarea#amend-description.input', { rows: 4, maxlength: 20000 });
  description.value = x.description || '';
  const clarifyIn = h('input#amend-clarify-deadline.input', { type: 'datetime-local', 'aria-describedby': 'amend-clarify-deadline-preview amend-clarify-deadline-error' });
  const clarifyPrev = h('p#amend-clarify-deadline-preview.field-hint');
  const bidIn = h('input#amend-bid-deadline.input', { type: 'datetime-local', 'aria-describedby': 'amend-bid-deadline-preview amend-bid-deadline-error' });
  const bidPrev = h('p#amend-bid-deadline-preview.field-hint');
  const decrypt = h('input#amend-decrypt-window.input', { type: 'number', min: 5, max: 240, step: 1, inputmode: 'numeric', value: String(s.decrypt_window_mins ?? 30) });
  const affects = h('input#amend-affects-bids', { type: 'checkbox', checked: true });
  const limitNote = h('div#amend-time-limit', { 'aria-live': 'polite' });
  const lotsToggle = h('input#amend-lots-toggle', { type: 'checkbox' });
  const lotsBox = h('div#amend-lots', { hidden: true });
  const status = h('div#amend-status');
  const submit = h('button#amend-submit.btn.btn-primary', { type: 'submit' }, t('tender.amend_submit'));

  const form = h('form#amend-form', { novalidate: true },
    status,
    h('div.form-grid',
      amendField('amend-reason', 'reason', 'tender.amend_reason', reason, { wide: true, required: true }),
      h('p.field-hint.field-wide', t('tender.amend_new_value')),
      amendField('amend-title', 'title', 'field.title', title, { wide: true }),
      amendField('amend-description', 'description', 'field.description', description, { wide: true }),
      amendField('amend-clarify-deadline', 'clarify_deadline', 'field.clarify_deadline', clarifyIn, { preview: clarifyPrev }),
      amendField('amend-bid-deadline', 'bid_deadline', 'field.bid_deadline', bidIn, { preview: bidPrev }),
      amendField('amend-decrypt-window', 'decrypt_window_mins', 'field.decrypt_window_mins', decrypt),
      h('div.field.field-wide',
        h('label.checkbox', { for: 'amend-lots-toggle' }, lotsToggle, h('span', t('tender.amend_lots_toggle'))),
        lotsBox),
      h('div.field.field-wide',
        h('label.checkbox', { for: 'amend-affects-bids' }, affects, h('span', t('tender.amend_affects_bids'))),
        limitNote)),
    h('div.form-actions',
      h('button.btn', { type: 'button', on: { click: toggleAmend } }, t('common.cancel')),
      submit));

  const clarify = cstInput(clarifyIn, clarifyPrev);
  const bid = cstInput(bidIn, bidPrev);
  clarify.set(s.clarify_deadline);
  bid.set(s.bid_deadline);
  // R-DOC-2: an amendment affecting bids comes the statutory period before the deadline,
  // or the deadline moves — the earliest lawful one is offered here.
  let limits = null;
  const showLimit = () => {
    clear(limitNote);
    if (!limits || !limits.enforced || !affects.checked || limits.amend_earliest_deadline == null) return;
    const earliest = limits.amend_earliest_deadline;
    const current = bid.get();
    if (current !== null && current >= earliest) {
      limitNote.append(h('p.field-hint', t('tender.amend_limit_ok', { rule: limits.amend_rule, at: formatCST(earliest) })));
      return;
    }
    // 09:30 of the earliest day, the usual hour of an opening.
    const offered = earliest + 570 * 60_000;
    limitNote.append(banner('warning', t('tender.amend_limit_move', { rule: limits.amend_rule, at: formatCST(earliest) }), {
      action: h('button#amend-move-deadline.btn.btn-small', {
        type: 'button',
        on: { click: () => { bid.set(offered); showLimit(); } },
      }, t('tender.amend_move_to', { at: formatCST(offered) })),
    }));
  };
  affects.addEventListener('change', showLimit);
  bidIn.addEventListener('change', showLimit);
  get(`/api/tenders/${encodeURIComponent(id)}/time-limits`)
    .then((l) => { limits = l; showLimit(); })
    .catch(() => {});
  let lotsEditor = null;
  lotsToggle.addEventListener('change', () => {
    lotsBox.hidden = !lotsToggle.checked;
    if (lotsToggle.checked && !lotsEditor) {
      lotsEditor = new LotsEditor(lotsBox, { lots: Array.isArray(x.lots) ? x.lots : [], addId: 'amend-add-lot', prefix: 'amend-lot' });
    }
  });
  form.addEventListener('input', (ev) => {
    const field = ev.target.closest('.field');
    if (!field || ev.target.closest('.lot-row')) return;
    for (const e of field.querySelectorAll(':scope > .field-error')) e.textContent = '';
    ev.target.removeAttribute('aria-invalid');
  });

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    clear(status);
    let ok = true;
    const fail = (k, text) => {
      setFieldError(form, k, text);
      ok = false;
    };
    const changes = {};
    const r = reason.value.trim();
    if (!r) fail('reason', t('err.reason_required'));
    const newTitle = title.value.trim();
    if (!newTitle) fail('title', t('err.required'));
    else if (newTitle !== (x.title || '')) changes.title = newTitle;
    const newDesc = description.value.trim();
    if (newDesc !== (x.description || '').trim()) changes.description = newDesc;
    const c = clarify.get();
    const b = bid.get();
    if (c === null) fail('clarify_deadline', t('err.datetime'));
    else if (c !== s.clarify_deadline) changes.clarify_deadline = c;
    if (b === null) fail('bid_deadline', t('err.datetime'));
    else if (b !== s.bid_deadline) {
      changes.bid_deadline = b;
      if (b <= serverNow()) fail('bid_deadline', t('err.in_future'));
    }
    if (c !== null && b !== null && c >= b) fail('clarify_deadline', t('err.clarify_before_bid'));
    const dRaw = decrypt.value.trim();
    const d = /^\d+$/.test(dRaw) ? Number(dRaw) : NaN;
    if (!(d >= 5 && d <= 240)) fail('decrypt_window_mins', t('err.integer_range', { min: 5, max: 240 }));
    else if (d !== s.decrypt_window_mins) changes.decrypt_window_mins = d;
    if (lotsToggle.checked && lotsEditor) {
      const lv = lotsEditor.value();
      if (!lv.ok) ok = false;
      else {
        const before = JSON.stringify((x.lots || []).map((l) => [l.name, Number(l.budget_fen)]));
        const after = JSON.stringify(lv.lots.map((l) => [l.name, l.budget_fen]));
        if (before !== after) changes.lots = lv.lots;
      }
    }
    if (!ok) {
      showBanner(status, 'error', t('form.has_errors'));
      const first = form.querySelector('[aria-invalid="true"]');
      if (first) first.focus();
      return;
    }
    if (!Object.keys(changes).length) {
      showBanner(status, 'warning', t('err.no_changes'));
      return;
    }
    const restore = busy(submit);
    try {
      await post(`/api/tenders/${encodeURIComponent(id)}/amendments`, { reason: r, changes, affects_bids: affects.checked });
      toast(t('tender.amend_ok'));
      amendOpen = false;
      amendState = null;
      await reload();
    } catch (e) {
      restore();
      if (e instanceof ApiError && e.code === 'VALIDATION') {
        const fields = {};
        for (const [k, v] of Object.entries(e.fields)) fields[k.replace(/^changes\./, '')] = v;
        const leftover = showFieldErrors(form, fields);
        showBanner(status, 'error', t('form.has_errors'), { title: errorText(e), list: leftover });
      } else {
        showBanner(status, 'error', errorText(e), { title: t('common.error_title') });
      }
    }
  });

  const panel = h('section#amend-panel.card.amend-panel', { 'aria-labelledby': 'amend-heading' },
    h('div.card-head', h('h2#amend-heading', t('tender.amend_title'))),
    h('p.card-note', t('tender.amend_help')),
    form);
  amendState = { panel };
  return panel;
}

// ---------------------------------------------------------------- view --

function ledgerCard() {
  const href = `/api/tenders/${encodeURIComponent(id)}/ledger`;
  let body;
  if (ledgerError) body = errorBlock(errorText(ledgerError), loadLedger);
  else if (!ledger) body = loadingBlock();
  else body = ledgerTable(ledger, { actorName });
  return h('section#ledger.card', { 'aria-labelledby': 'ledger-heading' },
    h('div.card-head',
      h('h2#ledger-heading', t('tender.ledger')),
      h('div.action-bar',
        h('button#ledger-refresh.btn.btn-small', { type: 'button', on: { click: loadLedger } }, t('common.refresh')),
        h('a.btn.btn-small', { href, download: `ledger-${(tender && tender.code) || id}.json` }, t('tender.ledger_download')))),
    h('p.card-note', t('tender.ledger_help'),
      ledger && ledger.head ? [' ', h('span.muted', `${t('ann.ledger_head')}: `), h('span.hash', { title: ledger.head }, String(ledger.head).slice(0, 16) + '…'), ' · ', t('ann.ledger_events', { n: ledgerEvents(ledger).length })] : null),
    body);
}

function sideCard(x) {
  const s = schedule(x);
  const total = budgetTotal(x);
  const open = x.status === 'published' && s.bid_deadline !== null && s.bid_deadline > serverNow();
  const custodians = custodianList(x);
  return h('aside.side-col',
    h('section.card.deadline-card', { 'aria-labelledby': 'side-heading' },
      h('div#side-heading.side-label', open ? t('ann.countdown_label') : t('field.bid_deadline')),
      open ? countdown(s.bid_deadline, { done: 'ann.closed_label', className: 'big-countdown' }) : null,
      h('div.deadline-time', formatCST(s.bid_deadline)),
      h('div.small.muted', t('common.cst_note')),
      h('div.budget-block',
        h('div.side-label', t('field.budget_total')),
        h('div.money.money-large', total !== null ? formatMoney(total) : '—'),
        total !== null ? h('div.words', { lang: 'zh-CN' }, amountInWords(total)) : null)),
    h('section.card', { 'aria-labelledby': 'tl-heading' },
      h('div.card-head', h('h2#tl-heading', t('tender.timeline'))),
      timeline(x)),
    custodians.length
      ? h('section.card', { 'aria-labelledby': 'cust-heading' },
        h('div.card-head', h('h2#cust-heading', t('field.custodians'))),
        h('ol.custodian-list', custodians.map((c) => h('li', c.name, c.role ? h('span.muted.small', ` · ${label('role', c.role)}`) : null))),
        h('p.small.muted', t('form.threshold_help', { n: x.custodian_threshold ?? 2 })))
      : null);
}

function render() {
  if (!tender) return;
  const x = tender;
  crumb.textContent = x.code || x.title || '';
  setPageTitle(() => x.title || t('tender.title'));
  const cancelReason = x.cancel_reason || x.cancelled_reason || (ledger ? cancelReasonFromLedger(ledger) : null);
  replace(root,
    h('header.page-head',
      h('div',
        h('div.status-line',
          statusBadge(x.status, { id: 'tender-status', dataset: { status: x.status } }),
          x.method ? h('span.tag', label('method', x.method)) : null,
          x.category ? h('span.tag.tag-plain', label('category', x.category)) : null,
          x.code ? h('span.mono.small.muted', x.code) : null),
        h('h1#tender-title.doc-title', x.title || '—')),
      h('div.page-actions',
        actionBar(x),
        hallLink(x),
        isCustodian(x) ? h('a#share-check.btn', { href: `/custodian.html?tender=${encodeURIComponent(x.id)}` }, t('tender.share_check')) : null,
        x.status !== 'draft' ? h('a.btn.btn-ghost', { href: `/announcement.html?id=${encodeURIComponent(x.id)}` }, t('tender.view_public')) : null)),
    x.status === 'cancelled' && cancelReason ? showBannerEl('warning', cancelReason, t('tender.reason_cancelled')) : null,
    amendOpen && x.status === 'published' ? buildAmendPanel(x) : null,
    publishLimit(x),
    h('div.layout-2col',
      h('div.main-col',
        awardCard(ledger),
        h('section.card', { 'aria-labelledby': 'info-heading' },
          h('div.card-head', h('h2#info-heading', t('ann.overview'))),
          kv([
            ['field.code', x.code],
            ['field.status', label('status', x.status)],
            ['field.region', regionName(x, regions)],
            ['field.category', label('category', x.category)],
            ['field.purchaser', purchaserName(x)],
            ['field.agency', agencyName(x)],
            ['field.method', label('method', x.method)],
            ['field.decrypt_window', x.decrypt_window_mins ? `${x.decrypt_window_mins} ${t('common.minutes')}` : '—'],
            ['deposit.amount_asked', x.deposit_fen != null
              ? h('span', formatMoney(x.deposit_fen), x.status !== 'draft'
                ? [' ', h('a#deposits-link.btn.btn-small', { href: `/deposits.html?tender=${encodeURIComponent(x.id)}` }, t('deposit.list_link'))]
                : null)
              : t('deposit.none')],
            ['field.created_at', formatCST(x.created_at)],
            ['field.published_at', formatCST(x.published_at)],
            ['field.description', x.description ? h('div.prewrap', x.description) : '—', true],
          ])),
        h('section.card', { 'aria-labelledby': 'lots-heading' },
          h('div.card-head', h('h2#lots-heading', t('ann.lots'))),
          lotsTable(x.lots)),
        evaluationCard(x, { noneHint: true }),
        Array.isArray(x.amendments) && x.amendments.length
          ? h('section#amendments.card', { 'aria-labelledby': 'amendments-heading' },
            h('div.card-head', h('h2#amendments-heading', t('tender.amendments'))),
            amendmentsList(x.amendments))
          : null,
        ledgerCard()),
      sideCard(x)));
  startCountdowns();
}

function showBannerEl(kind, text, title) {
  const slot = h('div');
  showBanner(slot, kind, text, { title });
  return slot.firstChild;
}

// ---------------------------------------------------------------- load --

async function loadLedger() {
  ledgerError = null;
  try {
    ledger = await get(`/api/tenders/${encodeURIComponent(id)}/ledger`);
  } catch (e) {
    ledgerError = e;
  }
  if (tender) render();
}

async function reload() {
  const x = await get(`/api/tenders/${encodeURIComponent(id)}`);
  tender = x && x.tender ? { ...x.tender, ...x } : x;
  render();
  await Promise.all([loadLedger(), loadLimits()]);
}

// A draft whose bid deadline is too early for the statutory periods (R-METH-2, R-DOC-1)
// says so, with the earliest lawful deadline, before the agency tries to publish it.
let limits = null;

async function loadLimits() {
  limits = null;
  if (!tender || tender.status !== 'draft' || !isAgency()) return;
  try {
    limits = await get(`/api/tenders/${encodeURIComponent(id)}/time-limits`);
  } catch (_) {
    return;
  }
  render();
  root.dataset.limits = publishLimit(tender) ? 'early' : 'lawful';
}

function publishLimit(x) {
  if (!limits || x.status !== 'draft' || !limits.enforced || limits.publish_earliest_deadline == null) return null;
  const s = schedule(x);
  if (s.bid_deadline === null || s.bid_deadline >= limits.publish_earliest_deadline) return null;
  return h('div#publish-limit', banner('warning', t('tender.publish_limit', {
    rule: limits.publish_rule, at: formatCST(limits.publish_earliest_deadline),
  })));
}

async function loadUsers() {
  // Names for custodians and ledger actors; roles that may not list users
  // see the names the tender itself carries.
  if (!me || !USER_LIST_ROLES.includes(me.role)) return;
  try {
    const list = await get('/api/users');
    userIndex = new Map((Array.isArray(list) ? list : []).map((u) => [u.id, u]));
    render();
  } catch (_) {
    /* names stay short ids */
  }
}

async function load() {
  replace(root, loadingBlock());
  try {
    const [x, r] = await Promise.all([
      get(`/api/tenders/${encodeURIComponent(id)}`),
      get('/api/regions').catch(() => []),
    ]);
    tender = x && x.tender ? { ...x.tender, ...x } : x;
    regions = Array.isArray(r) ? r : [];
  } catch (e) {
    const notFound = e instanceof ApiError && (e.status === 404 || e.status === 403);
    replace(root, errorBlock(notFound ? `${t('common.not_found')} ${errorText(e)}` : errorText(e), notFound ? null : load),
      h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  render();
  if (param('created')) {
    toast(t('tender.saved_ok'));
    history.replaceState(null, '', `/tender.html?id=${encodeURIComponent(id)}`);
  }
  await Promise.all([loadLedger(), loadUsers(), loadLimits()]);
}

// The amendment form keeps its typed values (and its labels) across a switch.
onLangChange(render);

async function main() {
  setPageTitle('tender.title');
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!id) {
    replace(root, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  await load();
}

main();
