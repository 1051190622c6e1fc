// Acceptance and payment of a tender's signed contracts (docs/fulfilment.md): the
// purchasing unit records each round of acceptance item by item with its evidence files
// and signs the report on its device; the supplier answers a failed round; once accepted,
// the supplier requests payment and the purchasing unit approves, rejects and records the
// payments. Another party's step shows up without a reload.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatCSTDate, formatDeadline, formatMoney, parseYuanToFen, serverNow, shortHash } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast, openDialog } from '../ui.js';
import { clearFieldErrors, showFieldErrors, readFile } from '../form-kit.js';
import { keyImportPanel } from '../keyimport.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { toB64url, utf8 } from '../crypto/bytes.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const base = `/api/tenders/${encodeURIComponent(tenderId)}`;
// Evidence travels in the command's JSON: 5 files, 1 MB in all (docs/fulfilment.md).
const MAX_FILES = 5;
const MAX_BYTES = 1 << 20;

let me = null;
let acc = null;
let pay = null;
let fin = null;
let banks = null;
let keys = null;
let keyPanelEl = null;

async function load() {
  [acc, pay, fin] = await Promise.all([get(`${base}/acceptance`), get(`${base}/payments`), get(`${base}/financing`)]);
  if (fin.may_apply.length && !banks) banks = await get('/api/banks');
}

async function refetch() {
  await load();
  renderAll();
}

/** Sends a command to `stage` (acceptance | payments); a form's field errors go to it. */
async function send(stage, cmd, button, form) {
  const done = busy(button);
  if (form) clearFieldErrors(form);
  try {
    await post(`${base}/${stage}`, cmd);
    toast(t('ful.saved'));
    await refetch();
    return true;
  } catch (e) {
    if (form && e instanceof ApiError && e.fields) showFieldErrors(form, e.fields);
    showBanner($('ful-alert'), 'error', errorText(e));
    return false;
  } finally {
    done();
  }
}

function keyPanel() {
  if (!keyPanelEl) {
    keyPanelEl = keyImportPanel({
      userId: me.id,
      onImported: (r) => {
        keys = r;
        keyPanelEl = null;
        renderAll();
      },
    });
  }
  return h('div.ful-keys', h('p.small.muted', t('ful.keys_needed')), keyPanelEl);
}

const kv = (dt, dd) => h('div.kv-item', h('dt', dt), h('dd', dd));
const field = (label, control, name) => h('div.field', { dataset: { field: name } },
  h('label.field-label', { for: control.id }, label), control,
  h(`p#${control.id}-error.field-error`, { dataset: { field: name }, 'aria-live': 'polite' }));
const markDirty = (form) => form.addEventListener('input', () => { form.dataset.dirty = '1'; });

// --------------------------------------------------------------- acceptance --

function roundBlock(c, r) {
  const d = r.document;
  const actions = [];
  if (r.my_payload) {
    if (keys) {
      const b = h(`button#ful-sign-${c.lot_no}.btn.btn-primary`, { type: 'button' }, t('ful.sign'));
      b.addEventListener('click', async () => send('acceptance', {
        type: 'sign', acceptance_id: r.id, key_id: keys.signing.keyId,
        signature: toB64url(await sign(keys, utf8(r.my_payload))),
      }, b));
      actions.push(b);
    } else {
      actions.push(keyPanel());
    }
  }
  const remedy = r.remedy ? h('div.ful-remedy',
    h('strong', t('ful.remedy')), ' ',
    r.remedy.reply ? [h('span.ful-remedy-reply', r.remedy.reply), ' · ', formatCST(r.remedy.replied_at)] : h('span.muted', t('ful.remedy_waiting')),
    r.remedy.closed_at ? [' · ', t('ful.remedy_closed', { at: formatCST(r.remedy.closed_at) })] : null) : null;
  return h('div.ful-round', { id: `ful-round-${c.lot_no}-${r.round}`, dataset: { status: r.status } },
    h('h4', t('ful.round', { n: r.round }), ' ', h(`span.badge.badge-${{ passed: 'awarded', failed: 'failed' }[r.status] || 'draft'}`, t(`ful.status.${r.status}`))),
    h('dl.kv',
      kv(t('ful.delivered_on'), d.delivered_on),
      kv(t('ful.recorded_at'), formatCST(r.recorded_at)),
      kv(t('ful.signed_at'), r.signed_at ? formatCST(r.signed_at) : '—'),
      kv('SHA-256', h('span.hash', { title: r.document_sha256 }, shortHash(r.document_sha256)))),
    h('ul.ful-items', d.items.map((i) => h('li', { dataset: { passed: String(i.passed) } },
      h('span', i.name), ' — ', i.passed ? t('ful.item_passed') : t('ful.item_failed'), i.note ? ` （${i.note}）` : ''))),
    h('p.ful-conclusion', h('strong', t('ful.conclusion')), ' ', d.conclusion),
    r.evidence.length ? h('p.ful-evidence', h('strong', t('ful.evidence')), ' ', r.evidence.map((e) =>
      h('a', { href: `/api/acceptances/${encodeURIComponent(r.id)}/evidence/${e.seq}`, target: '_blank', rel: 'noopener' }, e.name))) : null,
    signersLine(r),
    remedy,
    actions.length ? h('p.action-bar', actions) : null);
}

/** Who signs the report (the purchaser, then the panel) and who has. */
function signersLine(r) {
  if (!r.signers || !r.signers.length) return null;
  return h('p.ful-signers', h('strong', t('ful.signers')), ' ', r.signers.map((s, i) => h('span.ful-signer', { dataset: { signed: String(Boolean(s.signed_at)) } },
    i ? '；' : '', t(`ful.signer.${s.kind}`), ' ', s.name, ' ',
    s.signed_at ? t('ful.signer_signed', { at: formatCST(s.signed_at) }) : h('span.muted', t('ful.signer_waiting')))));
}

function recordForm(c) {
  const id = `ful-record-${c.lot_no}`;
  const items = (Array.isArray(c.items) && c.items.length ? c.items : [t('ful.item_default')]).map((name, i) => {
    const pass = h(`select#${id}-pass-${i}.input`, h('option', { value: 'true' }, t('ful.item_passed')), h('option', { value: 'false' }, t('ful.item_failed')));
    const note = h(`input#${id}-note-${i}.input`, { type: 'text', maxlength: 1000, placeholder: t('ful.note_hint') });
    return { name: String(name), pass, note, row: h('div.ful-item-row', h('span.ful-item-name', String(name)), pass, note) };
  });
  const delivered = h(`input#${id}-delivered.input`, { type: 'date', name: 'delivered_on', value: formatCSTDate(serverNow()), required: true });
  const conclusion = h(`textarea#${id}-conclusion.input`, { name: 'conclusion', rows: 3, maxlength: 5000, required: true });
  const files = h(`input#${id}-files.input`, { type: 'file', multiple: true, accept: '.pdf,image/png,image/jpeg' });
  // The panel (验收小组) by username, the last draft's members offered again.
  const last = c.rounds[c.rounds.length - 1];
  const named = last && last.status === 'draft' && Array.isArray(last.document.members) ? last.document.members.map((m) => m.name) : [];
  const members = h(`input#${id}-members.input`, { type: 'text', name: 'members', maxlength: 300, placeholder: t('ful.members_placeholder') });
  const submit = h(`button#${id}-submit.btn.btn-primary`, { type: 'submit' }, t('ful.record'));
  const form = h(`form#${id}.ful-form`, { novalidate: true },
    h('h4', c.rounds.some((r) => r.status === 'draft') ? t('ful.record_again') : t('ful.record_title')),
    field(t('ful.delivered_on'), delivered, 'delivered_on'),
    h('div.field', { dataset: { field: 'items' } }, h('span.field-label', t('ful.items')), items.map((i) => i.row),
      h(`p#${id}-items-error.field-error`, { dataset: { field: 'items' }, 'aria-live': 'polite' })),
    field(t('ful.conclusion'), conclusion, 'conclusion'),
    field(t('ful.evidence_files'), files, 'evidence'),
    h('p.small.muted', t('ful.evidence_hint')),
    field(t('ful.members'), members, 'members'),
    h('p.small.muted', c.acceptance_experts
      ? t('ful.members_required', { n: c.acceptance_experts })
      : t('ful.members_hint')),
    named.length ? h('p.small.muted', t('ful.members_last', { names: named.join('、') })) : null,
    h('p.action-bar', submit));
  markDirty(form);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = [...files.files];
    if (chosen.length > MAX_FILES || chosen.reduce((n, f) => n + f.size, 0) > MAX_BYTES) {
      showBanner($('ful-alert'), 'error', t('ful.evidence_too_big'));
      return;
    }
    const cmd = {
      type: 'record', contract_id: c.contract_id, delivered_on: delivered.value, conclusion: conclusion.value,
      items: items.map((i) => ({ name: i.name, passed: i.pass.value === 'true', note: i.note.value })),
      evidence: await Promise.all(chosen.map(readFile)),
      members: members.value.split(/[\s,，、;；]+/).filter(Boolean),
    };
    await send('acceptance', cmd, submit, form);
  });
  return form;
}

function remedyForm(c) {
  const last = c.rounds[c.rounds.length - 1];
  const id = `ful-remedy-${c.lot_no}`;
  const reply = h(`textarea#${id}-reply.input`, { name: 'reply', rows: 3, maxlength: 5000, required: true });
  const submit = h(`button#${id}-submit.btn.btn-primary`, { type: 'submit' }, t('ful.remedy_send'));
  const form = h(`form#${id}.ful-form`, { novalidate: true },
    h('h4', t('ful.remedy_title')), field(t('ful.remedy_reply'), reply, 'reply'), h('p.action-bar', submit));
  markDirty(form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    send('acceptance', { type: 'remedy', acceptance_id: last.id, reply: reply.value }, submit, form);
  });
  return form;
}

// ------------------------------------------------------------------ payment --

function requestRow(c, p, r) {
  const actions = [];
  if (p.purchaser && r.status === 'requested') {
    const approve = h(`button#ful-approve-${r.id}.btn.btn-primary.btn-small`, { type: 'button' }, t('ful.approve'));
    approve.addEventListener('click', () => send('payments', { type: 'approve', request_id: r.id }, approve));
    const reject = h(`button#ful-reject-${r.id}.btn.btn-small`, { type: 'button' }, t('ful.reject'));
    reject.addEventListener('click', async () => {
      const reason = await openDialog({ title: t('ful.reject'), input: { label: t('ful.reason') } });
      if (reason) send('payments', { type: 'reject', request_id: r.id, reason }, reject);
    });
    actions.push(approve, reject);
  }
  if (p.purchaser && r.status === 'approved') {
    const id = `ful-pay-${r.id}`;
    const day = h(`input#${id}-day.input`, { type: 'date', name: 'paid_on', value: formatCSTDate(serverNow()) });
    const ref = h(`input#${id}-ref.input`, { type: 'text', name: 'reference', maxlength: 100, placeholder: t('ful.reference') });
    // A financed contract is paid into the bank's financing account: filled in, and the
    // server refuses any other (PAYMENT_NOT_TO_FINANCING_ACCOUNT).
    const account = h(`input#${id}-account.input`, {
      type: 'text', name: 'account_no', inputmode: 'numeric', maxlength: 40,
      placeholder: t(p.pay_to ? 'ful.account_financing' : 'ful.account'),
      value: p.pay_to ? p.pay_to.account_no : '', 'aria-label': t('ful.account'),
    });
    const submit = h(`button#${id}-submit.btn.btn-primary.btn-small`, { type: 'submit' }, t('ful.pay'));
    const form = h(`form#${id}.ful-pay-form`, { novalidate: true }, day, ref, account, submit);
    markDirty(form);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send('payments', { type: 'pay', request_id: r.id, paid_on: day.value, reference: ref.value, account_no: account.value }, submit, form);
    });
    actions.push(form);
  }
  const paidTo = r.paid_account ? ` · ${t('ful.paid_into', { account: r.paid_account })}` : '';
  const detail = r.status === 'paid' ? `${r.paid_on} · ${r.reference}${paidTo}` : r.status === 'rejected' ? r.reason : r.note;
  return h('tr', { id: `ful-req-${r.id}`, dataset: { status: r.status } },
    h('td', formatMoney(r.amount_fen)),
    h('td', t(`ful.status.${r.status}`)),
    h('td', formatCST(r.requested_at)),
    h('td', detail || '—'),
    h('td', actions));
}

function requestForm(c, p) {
  const id = `ful-request-${c.lot_no}`;
  const amount = h(`input#${id}-amount.input`, { type: 'text', name: 'amount_fen', inputmode: 'decimal', placeholder: '0.00' });
  const note = h(`input#${id}-note.input`, { type: 'text', name: 'note', maxlength: 500 });
  const submit = h(`button#${id}-submit.btn.btn-primary`, { type: 'submit' }, t('ful.request'));
  const form = h(`form#${id}.ful-form`, { novalidate: true },
    h('h4', t('ful.request_title')),
    h(`p#${id}-requestable.small`, t(p.accepted_at ? 'ful.requestable' : 'ful.requestable_advance', { amount: formatMoney(p.requestable_fen) })),
    field(t('ful.amount'), amount, 'amount_fen'), field(t('ful.note'), note, 'note'), h('p.action-bar', submit));
  markDirty(form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const r = parseYuanToFen(amount.value);
    if (!r.ok) {
      showFieldErrors(form, { amount_fen: [t(r.error)] });
      return;
    }
    send('payments', { type: 'request', contract_id: c.contract_id, amount_fen: r.fen, note: note.value }, submit, form);
  });
  return form;
}

function paymentBlock(c) {
  const p = pay.contracts.find((x) => x.contract_id === c.contract_id);
  if (!p) return null;
  const due = p.due_at ? [formatDeadline(p.due_at), p.sme ? ` （${t('ful.sme_rule', { n: p.payment_days })}）` : ''] : t('ful.after_acceptance');
  return h('div.ful-payments', { id: `ful-payments-${c.lot_no}` },
    h('h3', t('ful.payments')),
    h('dl.kv',
      kv(t('ful.payable'), formatMoney(p.payable_fen)),
      kv(t('ful.paid'), h(`span#ful-paid-${c.lot_no}`, formatMoney(p.paid_fen))),
      kv(t('ful.due'), p.settled_at ? t('ful.settled', { at: formatCST(p.settled_at) }) : due),
      p.pay_to ? kv(t('ful.pay_to'), h(`span#ful-pay-to-${c.lot_no}`, `${p.pay_to.bank_name} · ${p.pay_to.account_name} · ${p.pay_to.account_no}`)) : null),
    p.requests.length ? h('table.table',
      h('thead', h('tr', [t('ful.amount'), t('ful.state'), t('ful.requested_at'), t('ful.detail'), ''].map((x) => h('th', x)))),
      h('tbody', p.requests.map((r) => requestRow(c, p, r)))) : h('p.muted', t('ful.no_requests')),
    p.may_request ? requestForm(c, p) : null);
}

// ---------------------------------------------------------------- financing --

function applyForm(c) {
  const id = `ful-finance-${c.lot_no}`;
  const bank = h(`select#${id}-bank.input`, { name: 'bank_org_id' }, (banks || []).map((b) => h('option', { value: b.id }, b.name)));
  const amount = h(`input#${id}-amount.input`, { type: 'text', name: 'amount_fen', inputmode: 'decimal', placeholder: '0.00' });
  const note = h(`input#${id}-note.input`, { type: 'text', name: 'note', maxlength: 500 });
  const submit = h(`button#${id}-submit.btn.btn-primary`, { type: 'submit' }, t('ful.finance_apply'));
  const form = h(`form#${id}.ful-form`, { novalidate: true },
    h('h4', t('ful.finance_title')), h('p.small.muted', t('ful.finance_hint')),
    field(t('ful.bank'), bank, 'bank_org_id'), field(t('ful.finance_amount'), amount, 'amount_fen'), field(t('ful.note'), note, 'note'),
    h('p.action-bar', submit));
  markDirty(form);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const r = parseYuanToFen(amount.value);
    if (!r.ok) {
      showFieldErrors(form, { amount_fen: [t(r.error)] });
      return;
    }
    send('financing', { type: 'apply', contract_id: c.contract_id, bank_org_id: bank.value, amount_fen: r.fen, note: note.value }, submit, form);
  });
  return form;
}

function financingBlock(c) {
  const apps = fin.applications.filter((a) => a.contract_id === c.contract_id);
  const may = fin.may_apply.includes(c.contract_id);
  if (!apps.length && !may) return null;
  return h('div.ful-financing', { id: `ful-financing-${c.lot_no}` },
    h('h3', t('ful.financing')),
    apps.map((a) => h('p.ful-application', { dataset: { status: a.status } },
      `${a.bank_name} · ${formatMoney(a.amount_fen)} · ${t(`ful.finance_status.${a.status}`)}`,
      a.status === 'approved' ? ` · ${t('ful.finance_granted', { amount: formatMoney(a.approved_fen) })}` : '',
      a.status === 'declined' && a.reason ? ` · ${a.reason}` : '')),
    may ? applyForm(c) : null);
}

function contractCard(c) {
  return h('section.card.ful-contract', { id: `ful-${c.lot_no}`, dataset: { accepted: String(Boolean(c.accepted_at)) } },
    h('div.card-head', h('h2', `${c.contract_no} · ${c.supplier.name}`)),
    h('dl.kv',
      kv(t('ful.amount_total'), formatMoney(c.amount_fen)),
      kv(t('ful.accepted_at'), c.accepted_at ? formatCST(c.accepted_at) : '—')),
    h('h3', t('ful.acceptance')),
    c.rounds.length ? c.rounds.map((r) => roundBlock(c, r)) : h('p.muted', t('ful.no_rounds')),
    c.may_record ? recordForm(c) : null,
    c.may_reply ? remedyForm(c) : null,
    financingBlock(c),
    paymentBlock(c));
}

function renderAll() {
  replace($('ful-list'), h('h2#ful-list-heading.visually-hidden', t('ful.title')),
    acc.contracts.some((c) => c.accepted_at)
      ? h('p.action-bar', h('a#ful-ratings-link.btn', { href: `/ratings.html?tender=${encodeURIComponent(tenderId)}` }, t('rat.link')))
      : null,
    acc.contracts.length ? h('div.stack', acc.contracts.map(contractCard)) : h('p.muted#ful-none', t('ful.none')));
}

/** Whether the user is in the middle of a form (a refresh would lose it). */
function editing() {
  const a = document.activeElement;
  return Boolean((a && a.closest('form, dialog')) || document.querySelector('form[data-dirty]'));
}

async function main() {
  setPageTitle('ful.title');
  me = await initLayout({ auth: 'optional', active: 'announcements' });
  if (!tenderId) return replace($('ful-alert'), errorBlock(t('common.missing_id')));
  replace($('ful-loading'), loadingBlock());
  let a = null;
  try {
    [a] = await Promise.all([get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null), load()]);
  } catch (e) {
    clear($('ful-loading'));
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('ful-alert'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  if (me && ['purchaser', 'expert', 'agency'].includes(me.role)) {
    try {
      keys = await loadDeviceKeys(me.id);
    } catch (_) {
      keys = null;
    }
  }
  clear($('ful-loading'));
  const ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  if (ann) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = ann.code || ann.title;
    $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('ful-page').hidden = false;
  if (!me) replace($('ful-keys'), banner('info', t('ful.sign_in')));
  renderAll();
  setInterval(() => {
    if (!editing()) refetch().catch(() => {});
  }, 10_000);
  onLangChange(() => {
    keyPanelEl = null;
    renderAll();
  });
}

main();
