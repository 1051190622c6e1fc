// A bank's financing cases (docs/financing.md): the applications addressed to the user's
// bank, each with its contract and the supplier's credit summary; approve with an amount
// and the financing account, or decline with a reason. Nothing else of the tender or of
// other suppliers is shown or fetched.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatMoney, parseYuanToFen, fenToInput, shortHash } from '../format.js';
import { h, clear, replace, loadingBlock, errorBlock, showBanner, busy, toast, openDialog } from '../ui.js';
import { clearFieldErrors, showFieldErrors } from '../form-kit.js';

const $ = (id) => document.getElementById(id);
let cases = [];

async function load() {
  cases = await get('/api/financing');
}

async function send(a, cmd, button, form) {
  const done = busy(button);
  if (form) clearFieldErrors(form);
  try {
    await post(`/api/tenders/${encodeURIComponent(a.tender_id)}/financing`, cmd);
    toast(t('fin.saved'));
    await load();
    renderAll();
  } catch (e) {
    if (form && e instanceof ApiError && e.fields) showFieldErrors(form, e.fields);
    showBanner($('fin-alert'), 'error', errorText(e));
  } finally {
    done();
  }
}

const kv = (dt, dd) => h('div.kv-item', h('dt', dt), h('dd', dd));
const field = (label, control, name) => h('div.field', { dataset: { field: name } },
  h('label.field-label', { for: control.id }, label), control,
  h(`p#${control.id}-error.field-error`, { dataset: { field: name }, 'aria-live': 'polite' }));

function decideForm(a, i) {
  const id = `fin-decide-${i}`;
  const amount = h(`input#${id}-amount.input`, { type: 'text', name: 'amount_fen', inputmode: 'decimal', value: fenToInput(a.amount_fen) });
  const name = h(`input#${id}-account-name.input`, { type: 'text', name: 'account_name', maxlength: 100 });
  const no = h(`input#${id}-account-no.input`, { type: 'text', name: 'account_no', inputmode: 'numeric', maxlength: 40 });
  const approve = h(`button#${id}-approve.btn.btn-primary`, { type: 'submit' }, t('fin.approve'));
  const decline = h(`button#${id}-decline.btn`, { type: 'button' }, t('fin.decline'));
  const form = h(`form#${id}.ful-form`, { novalidate: true },
    field(t('fin.amount'), amount, 'amount_fen'), field(t('fin.account_name'), name, 'account_name'), field(t('fin.account_no'), no, 'account_no'),
    h('p.action-bar', approve, decline));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const r = parseYuanToFen(amount.value);
    if (!r.ok) {
      showFieldErrors(form, { amount_fen: [t(r.error)] });
      return;
    }
    send(a, { type: 'approve', application_id: a.id, amount_fen: r.fen, account_name: name.value, account_no: no.value }, approve, form);
  });
  decline.addEventListener('click', async () => {
    const reason = await openDialog({ title: t('fin.decline'), input: { label: t('fin.reason') } });
    if (reason) send(a, { type: 'decline', application_id: a.id, reason }, decline);
  });
  return form;
}

function caseCard(k, i) {
  const a = k.application;
  const d = k.contract;
  const r = k.credit.ratings;
  const records = k.credit.records_in_force;
  return h('section.card.fin-case', { id: `fin-case-${i}`, dataset: { status: a.status } },
    h('div.card-head', h('h2', `${a.supplier_name} · ${d.contract_no}`)),
    h('dl.kv',
      kv(t('fin.status'), t(`ful.finance_status.${a.status}`)),
      kv(t('fin.asked'), formatMoney(a.amount_fen)),
      kv(t('fin.applied_at'), formatCST(a.applied_at)),
      kv(t('fin.note'), a.note || '—'),
      kv(t('fin.purchaser'), d.purchaser.name),
      kv(t('fin.payable'), formatMoney(k.payable_fen)),
      kv(t('fin.items'), Array.isArray(d.items) && d.items.length ? d.items.join('、') : '—'),
      kv(t('fin.payment_days'), t('fin.days', { n: d.terms.payment_days })),
      kv('SHA-256', h('span.hash', { title: k.contract_sha256 }, shortHash(k.contract_sha256)))),
    h('h3', t('fin.credit')),
    h('p', records.length ? h('span.fin-records', t('fin.records', { n: records.length })) : t('fin.no_records')),
    h('p', r ? t('fin.ratings', { n: r.count, s: (r.mean_centi / 100).toFixed(2) }) : t('fin.no_ratings')),
    a.status === 'applied' ? decideForm(a, i)
      : h('p.fin-decision', a.status === 'approved'
        ? t('fin.approved', { amount: formatMoney(a.approved_fen), at: formatCST(a.decided_at), account: `${a.account_name} ${a.account_no}` })
        : t('fin.declined', { at: formatCST(a.decided_at), reason: a.reason || '' })));
}

function renderAll() {
  replace($('fin-list'), h('h2#fin-list-heading.visually-hidden', t('fin.title')),
    cases.length ? h('div.stack', cases.map(caseCard)) : h('p.muted#fin-none', t('fin.none')));
}

async function main() {
  setPageTitle('fin.title');
  const me = await initLayout({ auth: 'required', active: 'financing' });
  if (!me) return;
  replace($('fin-loading'), loadingBlock());
  try {
    await load();
  } catch (e) {
    clear($('fin-loading'));
    return replace($('fin-alert'), errorBlock(errorText(e), () => location.reload()));
  }
  clear($('fin-loading'));
  $('fin-page').hidden = false;
  renderAll();
  onLangChange(renderAll);
}

main();
