// Finance's approvals (docs/plans.md, R-METH-1). The purchasing unit asks for its plan's
// method or its imported products with reasons and attachments; finance reads the
// reasons, attachments and suppliers' objections and approves or refuses with a reason.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatMoney, formatCST, serverNow } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, busy, toast, openDialog } from '../ui.js';
import { clearFieldErrors, showFieldErrors, readFile } from '../form-kit.js';

const $ = (id) => document.getElementById(id);
/** The server's limit on attachments, together (docs/api.md). */
const MAX_BYTES = 1 << 20;

let me = null;
let items = null;
let plans = [];

function field(id, key, control) {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  return h('div.field.field-wide',
    h('label.field-label', { for: id }, t(key)), control,
    h(`p#${id}-error.field-error`, { dataset: { field: control.name }, 'aria-live': 'polite' }));
}

function requestForm() {
  const form = $('request-form');
  // Plans that may need an approval: another method than open tendering, or imports.
  const candidates = plans.filter((p) => p.status === 'filed' && (p.method !== 'open_tendering' || p.imported));
  if (!candidates.length) return replace(form, emptyBlock(t('approvals.no_candidates')));
  const planSel = h('select.select', { name: 'plan' }, candidates.map((p) =>
    h('option', { value: p.id }, `${p.code} ${p.title}（${label('method', p.method)}${p.imported ? `，${t('plans.imported_tag')}` : ''}）`)));
  const kindSel = h('select.select', { name: 'kind' }, ['method', 'import'].map((k) => h('option', { value: k }, label('approvalkind', k))));
  const soleName = field('sole-name', 'approvals.sole_name', h('input.input', { name: 'sole_supplier_name', maxlength: 200, autocomplete: 'off' }));
  const soleCode = field('sole-code', 'approvals.sole_code', h('input.input', { name: 'sole_supplier_credit_code', maxlength: 18, autocomplete: 'off' }));
  const files = h('input.input', { type: 'file', name: 'attachments', multiple: true });
  const filesNote = h('p.field-hint', { 'aria-live': 'polite' }, t('approvals.attachments_hint'));
  const button = h('button#request-submit.btn.btn-primary', { type: 'submit' }, t('approvals.submit'));
  const sync = () => {
    const p = candidates.find((x) => x.id === planSel.value);
    const single = p && p.method === 'single_source' && kindSel.value === 'method';
    soleName.hidden = !single;
    soleCode.hidden = !single;
  };
  planSel.addEventListener('change', sync);
  kindSel.addEventListener('change', sync);
  files.addEventListener('change', () => {
    const total = [...files.files].reduce((s, f) => s + f.size, 0);
    filesNote.textContent = total > MAX_BYTES ? t('approvals.attachments_too_big') : t('approvals.attachments_hint');
  });
  replace(form,
    field('request-plan', 'approvals.plan', planSel),
    field('request-kind', 'approvals.kind', kindSel),
    field('request-reasons', 'approvals.reasons', h('textarea.input', { name: 'reasons', rows: 4, maxlength: 4000 })),
    soleName, soleCode,
    h('div.field.field-wide', h('label.field-label', { for: 'request-files' }, t('approvals.attachments')), Object.assign(files, { id: 'request-files' }), filesNote,
      h('p.field-error', { dataset: { field: 'attachments' }, 'aria-live': 'polite' })),
    h('div.form-actions', button));
  sync();
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    if ([...files.files].reduce((s, f) => s + f.size, 0) > MAX_BYTES) {
      filesNote.textContent = t('approvals.attachments_too_big');
      return;
    }
    const stop = busy(button, t('plans.saving'));
    try {
      const f = form.elements;
      const body = { kind: kindSel.value, reasons: f.reasons.value, attachments: await Promise.all([...files.files].map(readFile)) };
      if (!soleName.hidden) {
        body.sole_supplier_name = f.sole_supplier_name.value;
        body.sole_supplier_credit_code = f.sole_supplier_credit_code.value.trim().toUpperCase();
      }
      await post(`/api/plans/${encodeURIComponent(planSel.value)}/approvals`, body);
      toast(t('approvals.sent'));
      form.reset();
      sync();
      await load();
    } catch (e) {
      if (e instanceof ApiError && (e.code === 'VALIDATION' || e.code === 'INVALID_CREDIT_CODE')) {
        const fields = e.code === 'VALIDATION' ? e.fields : { sole_supplier_credit_code: [errorText(e)] };
        const rest = showFieldErrors(form, fields);
        if (rest.length) replace($('approvals-banner'), banner('error', rest.join('；')));
      } else {
        replace($('approvals-banner'), banner('error', errorText(e)));
      }
    } finally {
      stop();
    }
  };
}

function details(a) {
  return h('div.approval-details',
    h('p', h('strong', t('approvals.reasons')), ' ', a.reasons),
    a.sole_supplier_name ? h('p', h('strong', t('sole.supplier')), ' ', `${a.sole_supplier_name}（${a.sole_supplier_code}）`) : null,
    a.publicity_ends_at ? h('p', h('strong', t('sole.ends')), ' ', formatCST(a.publicity_ends_at)) : null,
    a.attachments.length
      ? h('ul.attachment-list', a.attachments.map((f) => h('li', h('a', {
        href: `/api/approvals/${encodeURIComponent(a.id)}/attachments/${f.seq}`, target: '_blank', rel: 'noopener',
      }, `${f.name}（${Math.ceil(f.size / 1024)} KB）`))))
      : null,
    a.objections.length
      ? h('div.objections', h('strong', t('approvals.objections', { n: a.objections.length })),
        h('ul', a.objections.map((o) => h('li.objection', h('span.muted.small', `${o.supplier_name || ''} ${formatCST(o.at)}`), h('div', o.text)))))
      : h('p.muted.small', t('approvals.no_objections')),
    a.decision_reason ? h('p', h('strong', t('approvals.decision_reason')), ' ', a.decision_reason) : null);
}

async function decide(a, approve) {
  const reason = await openDialog({
    title: t(approve ? 'approvals.approve' : 'approvals.refuse'),
    message: t('approvals.decide_note', { title: a.plan_title, kind: label('approvalkind', a.kind) }),
    okText: t(approve ? 'approvals.approve' : 'approvals.refuse'),
    danger: !approve,
    input: { label: t('approvals.decision_reason'), maxlength: 4000 },
  });
  if (!reason) return;
  try {
    await post(`/api/approvals/${encodeURIComponent(a.id)}/decision`, { approve, reason });
    toast(t('approvals.decided'));
  } catch (e) {
    replace($('approvals-banner'), banner('error', errorText(e)));
  }
  await load();
}

async function expand(row, a) {
  const next = row.nextElementSibling;
  if (next && next.classList.contains('approval-more')) return next.remove();
  const full = await get(`/api/approvals/${encodeURIComponent(a.id)}`);
  const actions = me.role === 'finance' && full.status === 'pending'
    ? h('div.form-actions',
      h('button.btn.btn-primary.approve-btn', { type: 'button', on: { click: () => decide(full, true) } }, t('approvals.approve')),
      h('button.btn.btn-danger.refuse-btn', { type: 'button', on: { click: () => decide(full, false) } }, t('approvals.refuse')))
    : null;
  row.after(h('tr.approval-more', h('td', { colSpan: 6 }, details(full), actions)));
}

function render() {
  const box = $('approvals');
  if (!items) return replace(box, loadingBlock());
  if (!items.length) return replace(box, emptyBlock(t('approvals.empty')));
  replace(box, h('div.table-wrap', h('table#approvals-table.table',
    h('thead', h('tr', ['approvals.plan', 'plans.unit', 'plans.amount', 'approvals.kind', 'approvals.requested', 'plans.status']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', items.map((a) => {
      const row = h('tr.approval-row', { dataset: { id: a.id, status: a.status } },
        h('td', h('button.link-button', { type: 'button', on: { click: () => expand(row, a) } }, a.plan_title)),
        h('td', a.org_name), h('td.num', formatMoney(a.amount_fen)),
        h('td', `${label('approvalkind', a.kind)}${a.kind === 'method' ? `（${label('method', a.method)}）` : ''}`),
        h('td', formatCST(a.requested_at)),
        h('td', h('span.tag', label('approvalstatus', a.status)),
          a.status === 'publicising' && a.publicity_ends_at > serverNow() ? h('div.small.muted', t('sole.until', { at: formatCST(a.publicity_ends_at) })) : null));
      return row;
    })))));
}

async function load() {
  try {
    [items, plans] = await Promise.all([get('/api/approvals'), me.role === 'purchaser' ? get('/api/plans') : []]);
  } catch (e) {
    return replace($('approvals'), errorBlock(errorText(e), load));
  }
  render();
  if (me.role === 'purchaser') requestForm();
}

async function main() {
  setPageTitle('approvals.title');
  me = await initLayout({ auth: 'required', active: 'plans' });
  if (!me) return;
  if (!['purchaser', 'agency', 'finance', 'oversight', 'admin'].includes(me.role)) {
    replace($('approvals-banner'), banner('warning', t('plans.forbidden')));
    return;
  }
  $('request-card').hidden = me.role !== 'purchaser';
  await load();
  onLangChange(render);
}

main();
