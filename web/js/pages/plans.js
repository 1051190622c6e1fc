// Budgets, plans and intentions (docs/plans.md). Finance records budget lines and watches
// execution; a purchasing unit files plans on its lines and publishes their intentions;
// agencies, oversight and admin read them (an agency creates a tender from a plan).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, withQuery, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatMoney, formatCST, parseYuanToFen, serverNow } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, busy, toast, openDialog } from '../ui.js';
import { clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';
import { METHODS, CATEGORIES } from '../tenders.js';

const $ = (id) => document.getElementById(id);
const FUNDING = ['general_budget', 'government_fund', 'state_capital', 'special_account', 'own_funds'];
const EXCEPTIONS = ['urgent', 'classified', 'small_scattered', 'batch_centralised'];

let me = null;
let lines = null;
let plans = null;
let execution = null;
let group = 'unit';
const thisYear = () => Number(formatCST(serverNow()).slice(0, 4));

// ---------------------------------------------------------------- forms --

function field(id, key, control, { wide = false, hint = null } = {}) {
  control.id = id;
  control.setAttribute('aria-describedby', `${id}-error`);
  return h(wide ? 'div.field.field-wide' : 'div.field',
    h('label.field-label', { for: id }, h('span', { dataset: { i18n: key } }, t(key))),
    control,
    hint ? h('p.field-hint', hint) : null,
    h(`p#${id}-error.field-error`, { dataset: { field: control.name }, 'aria-live': 'polite' }));
}

const input = (name, attrs = {}) => h('input.input', { name, autocomplete: 'off', ...attrs });
const select = (name, options) => h('select.select', { name }, options.map(([v, text]) => h('option', { value: v }, text)));

/** The yuan an input holds as fen, or a field error on it. */
function amount(form, name) {
  const r = parseYuanToFen(form.elements[name].value);
  if (!r.ok) setFieldError(form, 'amount_fen', t(r.error));
  return r.ok ? r.fen : null;
}

/** On submit: the amount checked in the page, then the body posted to `path`. */
function onSubmit(form, button, path, bodyOf, done) {
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const fen = amount(form, 'amount_fen');
    if (fen !== null) await submit(form, button, path, bodyOf(form.elements, fen), done);
  };
}

async function submit(form, button, path, body, done) {
  const stop = busy(button, t('plans.saving'));
  try {
    const v = await post(path, body);
    toast(t('plans.saved'));
    form.reset();
    await done(v);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'VALIDATION') {
      const rest = showFieldErrors(form, e.fields);
      if (rest.length) replace($('plans-banner'), banner('error', rest.join('；')));
    } else {
      replace($('plans-banner'), banner('error', errorText(e)));
    }
  } finally {
    stop();
  }
}

async function lineForm() {
  const form = $('line-form');
  const units = await get(withQuery('/api/organisations', { kind: 'purchaser_unit' }));
  const button = h('button#line-submit.btn.btn-primary', { type: 'submit' }, t('plans.record_line'));
  replace(form,
    field('line-org', 'plans.unit', select('org_id', units.map((u) => [u.id, u.name]))),
    field('line-year', 'plans.year', input('year', { type: 'number', min: 2000, max: 2100, value: thisYear() })),
    field('line-code', 'plans.line_code', input('code', { maxlength: 40 })),
    field('line-title', 'plans.line_title', input('title', { maxlength: 200 })),
    field('line-category', 'field.category', select('category', CATEGORIES.map((c) => [c, label('category', c)]))),
    field('line-funding', 'plans.funding', select('funding_source', FUNDING.map((f) => [f, label('funding', f)]))),
    field('line-amount', 'plans.amount_yuan', input('amount_fen', { inputmode: 'decimal' })),
    h('div.form-actions', button));
  onSubmit(form, button, '/api/budget-lines', (f, fen) => ({
    org_id: f.org_id.value, year: Number(f.year.value), code: f.code.value, title: f.title.value,
    category: f.category.value, funding_source: f.funding_source.value, amount_fen: fen,
  }), () => { form.elements.year.value = thisYear(); return load(); });
}

function planForm() {
  const form = $('plan-form');
  const open = (lines || []).filter((l) => l.left_fen > 0);
  if (!open.length) {
    replace(form, emptyBlock(t('plans.no_open_lines')));
    return;
  }
  const button = h('button#plan-submit.btn.btn-primary', { type: 'submit' }, t('plans.file_plan'));
  const exception = select('intention_exception', [['', t('plans.no_exception')], ...EXCEPTIONS.map((x) => [x, label('exception', x)])]);
  const reason = field('plan-reason', 'plans.exception_reason', h('textarea.input', { name: 'exception_reason', rows: 2, maxlength: 500 }), { wide: true });
  reason.hidden = true;
  exception.addEventListener('change', () => { reason.hidden = !exception.value; });
  replace(form,
    field('plan-line', 'plans.line', select('budget_line_id', open.map((l) =>
      [l.id, `${l.code} ${l.title}（${t('plans.left')} ${formatMoney(l.left_fen)}）`])), { wide: true }),
    field('plan-title', 'plans.plan_title', input('title', { maxlength: 200 }), { wide: true }),
    field('plan-method', 'field.method', select('method', METHODS.map((m) => [m, label('method', m)]))),
    field('plan-amount', 'plans.amount_yuan', input('amount_fen', { inputmode: 'decimal' })),
    field('plan-month', 'plans.expected_month', input('expected_month', { type: 'month' })),
    field('plan-imported', 'plans.imported', select('imported', [['false', t('plans.domestic_only')], ['true', t('plans.imported_yes')]])),
    field('plan-exception', 'plans.exception', exception, { hint: t('plans.exception_hint') }),
    reason,
    h('div.form-actions', button));
  onSubmit(form, button, '/api/plans', (f, fen) => ({
    budget_line_id: f.budget_line_id.value, title: f.title.value, method: f.method.value,
    amount_fen: fen, imported: f.imported.value === 'true', expected_month: f.expected_month.value,
    intention_exception: f.intention_exception.value || null, exception_reason: f.exception_reason.value,
  }), load);
}

// --------------------------------------------------------------- tables --

const money = (fen) => h('td.num', formatMoney(fen));

function renderLines() {
  if (!lines) return replace($('lines'), loadingBlock());
  if (!lines.length) return replace($('lines'), emptyBlock(t('plans.no_lines')));
  replace($('lines'), h('div.table-wrap', h('table#lines-table.table',
    h('thead', h('tr', ['plans.year', 'plans.unit', 'plans.line_code', 'plans.line_title', 'plans.funding', 'plans.amount', 'plans.planned', 'plans.left']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', lines.map((l) => h('tr', { dataset: { id: l.id } },
      h('td', String(l.year)), h('td', l.org_name), h('td.mono', l.code), h('td', l.title),
      h('td', label('funding', l.funding_source)), money(l.amount_fen), money(l.planned_fen), money(l.left_fen)))))));
}

function intentionCell(p) {
  if (p.intention) {
    const ready = p.publishable_from !== null && serverNow() >= p.publishable_from;
    return h('td', h('div', t('plans.intention_out', { at: formatCST(p.intention.published_at) })),
      h('div.small', { class: ready ? 'ok' : 'muted' }, ready ? t('plans.publishable') : t('plans.publishable_from', { at: formatCST(p.publishable_from) })));
  }
  if (p.intention_exception) return h('td', label('exception', p.intention_exception));
  return h('td.muted', t('plans.intention_none'));
}

function actions(p) {
  const out = [];
  if (me.role === 'purchaser' && p.status === 'filed' && !p.intention) {
    out.push(h('button.btn.btn-small.publish-intention', { type: 'button', on: { click: () => publishIntention(p) } }, t('plans.publish_intention')));
  }
  if (me.role === 'purchaser' && p.status === 'filed' && p.committed_fen === 0) {
    out.push(h('button.btn.btn-small.btn-quiet', { type: 'button', on: { click: () => cancelPlan(p) } }, t('plans.cancel_plan')));
  }
  if (me.role === 'agency' && p.status === 'filed' && p.left_fen > 0) {
    out.push(h('a.btn.btn-small', { href: `/tender-form.html?plan=${encodeURIComponent(p.id)}` }, t('plans.create_tender')));
  }
  return h('td.actions', out.length ? out : '—');
}

function renderPlans() {
  if (!plans) return replace($('plans'), loadingBlock());
  if (!plans.length) return replace($('plans'), emptyBlock(t('plans.no_plans')));
  replace($('plans'), h('div.table-wrap', h('table#plans-table.table',
    h('thead', h('tr', ['plans.code', 'plans.unit', 'plans.plan_title', 'field.method', 'plans.amount', 'plans.committed', 'plans.intention', 'plans.status', 'plans.actions']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', plans.map((p) => h('tr.plan-row', { dataset: { id: p.id, status: p.status } },
      h('td.mono.small', p.code), h('td', p.org_name),
      h('td', p.title, p.imported ? h('span.tag.tag-plain', t('plans.imported_tag')) : null),
      h('td', label('method', p.method)), money(p.amount_fen), money(p.committed_fen),
      intentionCell(p), h('td', label('planstatus', p.status)), actions(p)))))));
}

function renderExecution() {
  const box = $('execution');
  replace($('execution-group'), ['unit', 'region', 'category'].map((g) =>
    h('button.btn.btn-small', { type: 'button', 'aria-pressed': String(g === group), dataset: { group: g }, on: { click: () => { group = g; loadExecution(); } } }, t(`plans.by_${g}`))));
  if (!execution) return replace(box, loadingBlock());
  if (!execution.length) return replace(box, emptyBlock(t('plans.no_lines')));
  const sum = (k) => execution.reduce((s, r) => s + r[k], 0);
  const name = (r) => (group === 'category' ? label('category', r.name) : r.name);
  const rate = (a, b) => (b ? `${((a / b) * 100).toFixed(1)}%` : '—');
  replace(box, h('div.table-wrap', h('table#execution-table.table',
    h('thead', h('tr', [`plans.by_${group}`, 'plans.amount', 'plans.planned', 'plans.committed', 'plans.committed_rate']
      .map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', execution.map((r) => h('tr', { dataset: { key: r.key } },
      h('td', name(r)), money(r.budget_fen), money(r.planned_fen), money(r.committed_fen), h('td.num', rate(r.committed_fen, r.budget_fen))))),
    h('tfoot', h('tr', h('th', { scope: 'row' }, t('plans.total')), money(sum('budget_fen')), money(sum('planned_fen')), money(sum('committed_fen')),
      h('td.num', rate(sum('committed_fen'), sum('budget_fen'))))))));
}

// -------------------------------------------------------------- actions --

async function publishIntention(p) {
  const text = await openDialog({
    title: t('plans.publish_intention'),
    message: t('plans.publish_intention_note', { title: p.title, amount: formatMoney(p.amount_fen), month: p.expected_month }),
    okText: t('plans.publish_intention'),
    input: { label: t('plans.intention_description'), maxlength: 2000 },
  });
  if (!text) return;
  try {
    await post(`/api/plans/${encodeURIComponent(p.id)}/intention`, { description: text });
    toast(t('plans.intention_published'));
  } catch (e) {
    replace($('plans-banner'), banner('error', errorText(e)));
  }
  await load();
}

async function cancelPlan(p) {
  const ok = await openDialog({ title: t('plans.cancel_plan'), message: t('plans.cancel_note', { title: p.title }), danger: true });
  if (!ok) return;
  try {
    await post(`/api/plans/${encodeURIComponent(p.id)}/cancel`, {});
  } catch (e) {
    replace($('plans-banner'), banner('error', errorText(e)));
  }
  await load();
}

async function loadExecution() {
  execution = null;
  renderExecution();
  try {
    execution = await get(withQuery('/api/budget-execution', { group }));
    renderExecution();
  } catch (e) {
    replace($('execution'), errorBlock(errorText(e), loadExecution));
  }
}

async function load() {
  try {
    [lines, plans] = await Promise.all([get('/api/budget-lines'), get('/api/plans')]);
  } catch (e) {
    replace($('lines'), errorBlock(errorText(e), load));
    return;
  }
  renderLines();
  renderPlans();
  if (me.role === 'purchaser') planForm();
  if (me.role === 'finance') loadExecution();
}

function renderAll() {
  renderLines();
  renderPlans();
  if (execution) renderExecution();
}

async function main() {
  setPageTitle('plans.title');
  me = await initLayout({ auth: 'required', active: 'plans' });
  if (!me) return;
  if (!['purchaser', 'agency', 'finance', 'oversight', 'admin'].includes(me.role)) {
    replace($('plans-banner'), banner('warning', t('plans.forbidden')));
    return;
  }
  $('plan-form-card').hidden = me.role !== 'purchaser';
  $('line-form-card').hidden = me.role !== 'finance';
  $('execution-card').hidden = !['finance', 'oversight', 'admin'].includes(me.role);
  if (me.role === 'finance') await lineForm();
  await load();
  if (me.role !== 'finance' && !$('execution-card').hidden) loadExecution();
  onLangChange(renderAll);
}

main();
