// Bid deposits (docs/deposits.md): a supplier records its transfer or electronic guarantee
// before the bid deadline and sees it; the tender's agency, purchaser and the supervisors
// see the deposits (the agency and purchaser only after the deadline, R-DOC-3) with each
// refund's due date, and the agency records the refunds.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatMoney, formatCST, fenToInput, parseYuanToFen, serverNow } from '../format.js';
import { h, replace, param, loadingBlock, emptyBlock, banner, busy, toast, openDialog } from '../ui.js';
import { clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';

const $ = (id) => document.getElementById(id);
const id = param('tender');
const HOUR = 3_600_000;

let me = null;
let ann = null;
let mine = null;
let list = null;
let listError = null;

function kv(items) {
  return h('dl.kv', items.filter(Boolean).map(([k, v]) => h('div.kv-item', h('dt', t(k)), h('dd', v ?? '—'))));
}

function open() {
  return ann && ann.status === 'published' && ann.bid_deadline > serverNow();
}

function renderTender() {
  $('crumb-tender').textContent = ann.code || ann.title;
  $('crumb-tender').href = `/announcement.html?id=${encodeURIComponent(ann.id)}`;
  replace($('deposit-tender'), kv([
    ['field.title', h('a', { href: `/announcement.html?id=${encodeURIComponent(ann.id)}` }, ann.title)],
    ['field.bid_deadline', formatCST(ann.bid_deadline)],
    ['deposit.amount_asked', ann.deposit_fen != null ? formatMoney(ann.deposit_fen) : t('deposit.none')],
  ]));
}

// ------------------------------------------------------------ supplier --

function record(d) {
  return h('div#deposit-record',
    kv([
      ['deposit.kind', label('deposit.kind', d.kind)],
      ['deposit.amount', formatMoney(d.amount_fen)],
      ...(d.kind === 'payment'
        ? [['deposit.payer_name', d.payer_name], ['deposit.bank', d.bank], ['deposit.account_no', h('span.mono', d.account_no)], ['deposit.transfer_ref', d.transfer_ref]]
        : [['deposit.issuer', d.issuer], ['deposit.guarantee_no', h('span.mono', d.guarantee_no)], ['deposit.valid_until', formatCST(d.valid_until)]]),
      ['deposit.refund', d.refunded_at ? t('deposit.refunded', { at: formatCST(d.refunded_at) }) : t('deposit.not_refunded')],
    ]),
    banner('success', t('deposit.recorded', { at: formatCST(d.recorded_at) }), {
      action: open() ? h('a.btn.btn-small', { href: `/bid.html?tender=${encodeURIComponent(ann.id)}` }, t('deposit.to_bid')) : null,
    }));
}

function field(fid, key, control, hint) {
  control.id = fid;
  control.setAttribute('aria-describedby', `${fid}-error`);
  return h('div.field',
    h('label.field-label', { for: fid }, h('span', t(key))),
    control,
    hint ? h('p.field-hint', hint) : null,
    h(`p#${fid}-error.field-error`, { dataset: { field: control.name }, 'aria-live': 'polite' }));
}

const input = (name, attrs = {}) => h('input.input', { name, autocomplete: 'off', ...attrs });

/** 24:00 China time of a `yyyy-mm-dd` date, in milliseconds, or null. */
function endOfDayCST(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value || '');
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) - 8 * HOUR + 24 * HOUR : null;
}

function depositForm() {
  const form = h('form#deposit-form.form-grid', { novalidate: true });
  const kind = h('select.select', { name: 'kind' },
    ['payment', 'guarantee'].map((k) => h('option', { value: k }, label('deposit.kind', k))));
  const payment = [
    field('deposit-payer', 'deposit.payer_name', input('payer_name', { maxlength: 100 })),
    field('deposit-bank', 'deposit.bank', input('bank', { maxlength: 100 })),
    field('deposit-account', 'deposit.account_no', input('account_no', { maxlength: 40, inputmode: 'numeric' })),
    field('deposit-ref', 'deposit.transfer_ref', input('transfer_ref', { maxlength: 100 })),
  ];
  const guarantee = [
    field('deposit-issuer', 'deposit.issuer', input('issuer', { maxlength: 100 })),
    field('deposit-number', 'deposit.guarantee_no', input('guarantee_no', { maxlength: 100 })),
    field('deposit-valid', 'deposit.valid_until', input('valid_until', { type: 'date' }), t('deposit.valid_until_hint')),
  ];
  const show = () => {
    payment.forEach((f) => { f.hidden = kind.value !== 'payment'; });
    guarantee.forEach((f) => { f.hidden = kind.value !== 'guarantee'; });
  };
  kind.addEventListener('change', show);
  const button = h('button#deposit-submit.btn.btn-primary', { type: 'submit' }, t('deposit.submit'));
  replace(form,
    field('deposit-kind', 'deposit.kind', kind),
    field('deposit-amount', 'deposit.amount', input('amount_fen', { inputmode: 'decimal', value: fenToInput(ann.deposit_fen) })),
    ...payment,
    ...guarantee,
    h('p.small.muted.field-wide', t('deposit.declared_note')),
    h('div.form-actions', button));
  show();
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const f = form.elements;
    const amount = parseYuanToFen(f.amount_fen.value);
    if (!amount.ok) return setFieldError(form, 'amount_fen', t(amount.error));
    const body = kind.value === 'payment'
      ? { kind: 'payment', amount_fen: amount.fen, payer_name: f.payer_name.value, bank: f.bank.value, account_no: f.account_no.value, transfer_ref: f.transfer_ref.value }
      : { kind: 'guarantee', amount_fen: amount.fen, issuer: f.issuer.value, guarantee_no: f.guarantee_no.value, valid_until: endOfDayCST(f.valid_until.value) };
    if (body.kind === 'guarantee' && body.valid_until === null) return setFieldError(form, 'valid_until', t('err.required'));
    const stop = busy(button, t('deposit.saving'));
    try {
      mine = await post(`/api/tenders/${encodeURIComponent(id)}/deposit`, body);
      toast(t('deposit.recorded', { at: formatCST(mine.recorded_at) }));
      renderMine();
    } catch (e) {
      stop();
      if (e instanceof ApiError && e.code === 'VALIDATION') {
        const rest = showFieldErrors(form, e.fields);
        if (rest.length) replace($('deposit-banner'), banner('error', rest.join('；')));
      } else {
        replace($('deposit-banner'), banner('error', errorText(e)));
      }
    }
  });
  return form;
}

function renderMine() {
  const box = $('deposit-mine');
  $('deposit-mine-card').hidden = false;
  if (mine) return replace(box, record(mine));
  if (ann.deposit_fen == null) return replace(box, banner('info', t('deposit.not_required')));
  if (!open()) return replace(box, banner('warning', t('deposit.closed')));
  replace(box, depositForm());
}

// ------------------------------------------------------------- members --

function details(d) {
  return d.kind === 'payment'
    ? h('div', `${d.payer_name} · ${d.bank}`, h('br'), h('span.mono', d.account_no), ` · ${d.transfer_ref}`,
      d.shared_account ? h('div.tag.tag-warning.shared-account', t('deposit.shared_account')) : null)
    : h('div', d.issuer, h('br'), h('span.mono', d.guarantee_no), ` · ${formatCST(d.valid_until)}`);
}

async function refund(d, button) {
  const reference = await openDialog({
    title: t('deposit.refund_title'),
    message: t('deposit.refund_message', { org: d.org_name, amount: formatMoney(d.amount_fen) }),
    okText: t('deposit.do_refund'),
    input: { label: t('deposit.refund_reference'), maxlength: 100 },
  });
  if (reference === null) return;
  const stop = busy(button);
  try {
    await post(`/api/tenders/${encodeURIComponent(id)}/deposits/${encodeURIComponent(d.org_id)}/refund`, { reference });
    toast(t('deposit.refund_done'));
    await loadList();
  } catch (e) {
    stop();
    replace($('deposit-banner'), banner('error', errorText(e)));
  }
}

function refundCell(d) {
  if (d.refunded_at) return h('span.refunded', t('deposit.refunded', { at: formatCST(d.refunded_at) }));
  if (me.role === 'agency' && d.refund_due_at) {
    const button = h('button.btn.btn-small.refund', { type: 'button' }, t('deposit.do_refund'));
    button.addEventListener('click', () => refund(d, button));
    return button;
  }
  return h('span.muted', t('deposit.not_refunded'));
}

function renderList() {
  const box = $('deposits');
  $('deposits-card').hidden = false;
  if (listError) return replace(box, listError);
  if (!list) return replace(box, loadingBlock());
  if (!list.length) return replace(box, emptyBlock(t('deposit.empty')));
  replace(box, h('div.table-wrap', h('table#deposits-table.table',
    h('thead', h('tr',
      h('th', t('deposit.supplier')), h('th', t('deposit.kind')), h('th.num', t('deposit.amount')),
      h('th', t('deposit.details')), h('th', t('deposit.recorded_at')), h('th', t('deposit.refund_due')),
      h('th', t('deposit.refund')))),
    h('tbody', list.map((d) => h('tr.deposit-row', { dataset: { org: d.org_id, overdue: String(d.overdue) } },
      h('td', d.org_name),
      h('td', label('deposit.kind', d.kind)),
      h('td.num', formatMoney(d.amount_fen)),
      h('td', details(d)),
      h('td', formatCST(d.recorded_at)),
      h('td', d.refund_due_at ? formatCST(d.refund_due_at) : h('span.muted', t('deposit.refund_pending')),
        d.overdue ? h('span.tag.tag-danger.overdue', t('deposit.overdue')) : null),
      h('td', refundCell(d))))))));
}

async function loadList() {
  try {
    list = await get(`/api/tenders/${encodeURIComponent(id)}/deposits`);
    listError = null;
  } catch (e) {
    listError = e instanceof ApiError && e.code === 'FORBIDDEN'
      ? banner('info', t('deposit.secret'))
      : banner('error', errorText(e));
  }
  renderList();
}

function render() {
  if (!ann) return;
  renderTender();
  if (me.role === 'supplier') renderMine();
  else renderList();
}

onLangChange(render);

async function main() {
  setPageTitle('deposit.title');
  replace($('deposit-tender'), loadingBlock());
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!me) return;
  if (!id) return replace($('deposit-tender'), banner('error', t('deposit.missing_id')));
  try {
    ann = await get(`/api/announcements/${encodeURIComponent(id)}`);
  } catch (e) {
    return replace($('deposit-tender'), banner('error', errorText(e)));
  }
  if (me.role === 'supplier') {
    mine = await get(`/api/tenders/${encodeURIComponent(id)}/deposit/mine`).catch(() => null);
    render();
  } else {
    render();
    await loadList();
  }
}

main();
