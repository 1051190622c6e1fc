// Agency: create (POST /api/tenders) or edit a draft (PUT /api/tenders/{id}).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, put, withQuery, errorText, ApiError } from '../api.js';
import { t, getLang, onLangChange } from '../i18n.js';
import { serverNow, formatMoney, parseYuanToFen, fenToInput } from '../format.js';
import { h, clear, replace, param, loadingBlock, showBanner, busy } from '../ui.js';
import { schedule } from '../tenders.js';
import { LotsEditor, cstInput, clearFieldErrors, setFieldError, showFieldErrors } from '../form-kit.js';

const id = param('id');
const form = document.getElementById('tender-form');
const statusEl = document.getElementById('form-status');
const loadingEl = document.getElementById('form-loading');
const submitBtn = document.getElementById('tender-submit');
const $ = (sel) => document.getElementById(sel);

// R-OPEN-4: the decryption window is 5–240 minutes (server rule).
const DECRYPT_MIN = 5;
const DECRYPT_MAX = 240;

const els = {
  plan: $('plan'),
  title: $('title'),
  region: $('region'),
  purchaser: $('purchaser'),
  category: $('category'),
  method: $('method'),
  description: $('description'),
  clarify: $('clarify-deadline'),
  bid: $('bid-deadline'),
  decrypt: $('decrypt-window'),
  deposit: $('deposit'),
  cAgency: $('custodian-agency'),
  cPurchaser: $('custodian-purchaser'),
  cFinance: $('custodian-finance'),
  threshold: $('custodian-threshold'),
};

let me = null;
let regions = [];
let purchaserOrgs = [];
let plans = [];
let users = { agency: [], purchaser: [], finance: [] };
let lots = null;
let clarify = null;
let bid = null;
let tender = null;
let evalItems = null;

// ----------------------------------------------------- evaluation terms --
// Percentages are typed with up to 2 decimals and sent as basis points
// (1% = 100 bp); the outlier threshold is in hundredths of a point.

/** "30" / "12.5" / "7.25" → 3000 / 1250 / 725; null when empty; NaN when malformed. */
function pctToBp(raw) {
  const v = String(raw ?? '').trim().replace(/[％%]$/, '').trim();
  if (!v) return null;
  const m = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(v);
  if (!m) return NaN;
  return Number(m[1]) * 100 + Number((m[2] || '').padEnd(2, '0'));
}

/** 3000 → "30", 1250 → "12.5", 725 → "7.25". */
function bpToPct(bp) {
  if (bp === null || bp === undefined || bp === '') return '';
  const n = Number(bp);
  const whole = Math.floor(n / 100);
  const frac = String(n % 100).padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

// A goods tender's usual terms: price 30%, three scored items, small/micro 10%.
const DEFAULT_TERMS = {
  method: 'comprehensive',
  reserved_for_sme: false,
  sme_rate_bp: 1000,
  consortium_rate_bp: null,
  price_weight_bp: 3000,
  items: [
    { name: '技术方案', weight_bp: 4000, objective: false },
    { name: '售后服务', weight_bp: 2000, objective: false },
    { name: '类似业绩', weight_bp: 1000, objective: true },
  ],
  abnormal_low_fraction_bp: 8000,
  outlier_points: 2000,
};

class EvalItemsEditor {
  constructor(container, addBtn, sumEl, onChange) {
    this.container = container;
    this.sumEl = sumEl;
    this.onChange = onChange;
    addBtn.addEventListener('click', () => {
      const row = this.addRow({});
      row.querySelector('.eval-item-name').focus();
      this.onChange();
    });
  }

  addRow(item) {
    const name = h('input.input.eval-item-name', { type: 'text', maxlength: '100', autocomplete: 'off', value: item.name || '' });
    const weight = h('input.input.eval-item-weight', { type: 'text', inputmode: 'decimal', autocomplete: 'off', value: bpToPct(item.weight_bp) });
    const objective = h('input.eval-item-objective', { type: 'checkbox' });
    objective.checked = Boolean(item.objective);
    const remove = h('button.btn.btn-small.btn-ghost.eval-item-remove', { type: 'button' }, t('form.remove_lot'));
    // 评分细则: a band a line ("优 85-100 要求"), and for an objective item its evidence.
    const bands = h('textarea.input.eval-item-bands', { rows: 3, maxlength: 6000, placeholder: t('form.bands_placeholder') });
    bands.value = bandsText(item.bands);
    const evidence = h('input.input.eval-item-evidence', { type: 'text', maxlength: 500, autocomplete: 'off', placeholder: t('form.evidence_placeholder'), value: item.evidence || '' });
    const rubric = h('details.eval-item-rubric', { open: Array.isArray(item.bands) && item.bands.length ? true : null },
      h('summary', t('form.rubric')), h('p.field-hint', t('form.bands_help')), bands, evidence);
    const row = h('div.eval-item-row',
      h('div.field.eval-item-name-field', name),
      h('div.field.eval-item-weight-field', h('div.input-affix', weight, h('span.affix', { 'aria-hidden': 'true' }, '%'))),
      h('label.checkbox.eval-item-objective-field', objective, h('span', t('field.eval_objective'))),
      remove, rubric);
    remove.addEventListener('click', () => {
      row.remove();
      this.relabel();
      this.onChange();
    });
    this.container.append(row);
    this.relabel();
    return row;
  }

  relabel() {
    [...this.container.children].forEach((row, i) => {
      const n = i + 1;
      row.querySelector('.eval-item-name').setAttribute('aria-label', t('form.eval_item_name_label', { n }));
      row.querySelector('.eval-item-name').placeholder = t('form.eval_item_name_placeholder');
      row.querySelector('.eval-item-name').id = i === 0 ? 'eval-items-first' : '';
      row.querySelector('.eval-item-weight').setAttribute('aria-label', t('form.eval_item_weight_label', { n }));
      row.querySelector('.eval-item-objective-field span').textContent = t('field.eval_objective');
      const rm = row.querySelector('.eval-item-remove');
      rm.textContent = t('form.remove_lot');
      rm.setAttribute('aria-label', t('form.eval_item_remove_label', { n }));
    });
  }

  setItems(items) {
    clear(this.container);
    for (const it of items) this.addRow(it);
  }

  /**
   * [{name, weight_bp, objective, bands, evidence}] with weight_bp NaN/null where
   * malformed/empty and bands null where a line does not read as a band.
   */
  value() {
    return [...this.container.children].map((row) => ({
      name: row.querySelector('.eval-item-name').value.trim(),
      weight_bp: pctToBp(row.querySelector('.eval-item-weight').value),
      objective: row.querySelector('.eval-item-objective').checked,
      bands: parseBands(row.querySelector('.eval-item-bands').value),
      evidence: row.querySelector('.eval-item-evidence').value.trim(),
    }));
  }
}

/** Points "85" or "84.99" as hundredths, or NaN. */
function pointsToHundredths(raw) {
  return /^\d{1,3}(\.\d{1,2})?$/.test(raw) ? Math.round(Number(raw) * 100) : NaN;
}

/** A rubric's bands as the form shows them: "优 85-100 要求" a line. */
function bandsText(bands) {
  if (!Array.isArray(bands)) return '';
  const pts = (x) => String(Number(x) / 100);
  return bands.map((b) => `${b.label} ${pts(b.min)}-${pts(b.max)}${b.description ? ` ${b.description}` : ''}`).join('\n');
}

/** The bands typed, or null if a line does not read "档次 最低分-最高分 [要求]". */
function parseBands(text) {
  const out = [];
  for (const line of String(text).split('\n').map((l) => l.trim()).filter(Boolean)) {
    const m = /^(\S+)\s+([\d.]+)\s*[-–~～]\s*([\d.]+)\s*(.*)$/.exec(line);
    if (!m) return null;
    const min = pointsToHundredths(m[2]);
    const max = pointsToHundredths(m[3]);
    if (Number.isNaN(min) || Number.isNaN(max)) return null;
    out.push({ label: m[1], min, max, description: m[4] });
  }
  return out;
}

/** 符合性审查表 as typed: "名称：要求" a line. */
function checklistText(list) {
  return Array.isArray(list) ? list.map((c) => (c.description ? `${c.name}：${c.description}` : c.name)).join('\n') : '';
}

function parseChecklist(text) {
  return String(text).split('\n').map((l) => l.trim()).filter(Boolean).map((line) => {
    const i = line.search(/[：:]/);
    return i < 0 ? { name: line, description: '' } : { name: line.slice(0, i).trim(), description: line.slice(i + 1).trim() };
  });
}

/** The procurement methods' rules in force (GET /api/methods, docs/methods.md). */
let methodTable = null;

/** The evaluation methods the chosen procurement method allows (R-METH-2), or null. */
function allowedEvaluations() {
  const rule = methodTable && methodTable.methods.find((m) => m.method === els.method.value);
  return rule ? rule.evaluation.methods : null;
}

/** Offers only the evaluations the procurement method allows, switching to one if need be. */
function applyMethodRules() {
  const allowed = allowedEvaluations();
  const sel = $('eval-method');
  for (const o of sel.options) o.disabled = Boolean(allowed && !allowed.includes(o.value));
  if (allowed && allowed.length && !allowed.includes(sel.value)) {
    sel.value = allowed[0];
    updateEval();
  }
}

function isComprehensive() {
  return $('eval-method').value === 'comprehensive';
}

/** Shows the fields the chosen method and policy need, and the live weight sum. */
function updateEval() {
  const comp = isComprehensive();
  const reserved = $('eval-reserved').checked;
  $('eval-price-field').hidden = !comp;
  $('eval-items-box').hidden = !comp;
  $('eval-sme-field').hidden = reserved;
  $('eval-consortium-field').hidden = reserved;
  $('eval-method-help').textContent = t(comp ? 'form.eval_method_help_comprehensive' : 'form.eval_method_help_lowest');
  if (!comp) {
    clear($('eval-sum'));
    return;
  }
  const parts = [pctToBp($('eval-price-weight').value), ...evalItems.value().map((i) => i.weight_bp)];
  const bad = parts.some((p) => p === null || Number.isNaN(p));
  const sum = parts.reduce((a, p) => a + (Number.isFinite(p) ? p : 0), 0);
  const ok = !bad && sum === 10000;
  const sumEl = $('eval-sum');
  sumEl.dataset.sumBp = String(sum);
  sumEl.classList.toggle('is-error', !ok);
  replace(sumEl,
    h('span', t('form.eval_sum')),
    h('strong', `${bpToPct(sum)}%`),
    h('span.words', ok ? t('form.eval_sum_ok') : t('form.eval_sum_must')));
}

function fillEval(e) {
  const x = { ...DEFAULT_TERMS, ...(e || {}) };
  $('eval-method').value = x.method === 'lowest_evaluated_price' ? 'lowest_evaluated_price' : 'comprehensive';
  $('eval-reserved').checked = Boolean(x.reserved_for_sme);
  $('eval-sme-rate').value = bpToPct(x.sme_rate_bp ?? (x.reserved_for_sme ? DEFAULT_TERMS.sme_rate_bp : null));
  $('eval-consortium-rate').value = bpToPct(x.consortium_rate_bp);
  $('eval-price-weight').value = bpToPct(x.price_weight_bp || DEFAULT_TERMS.price_weight_bp);
  evalItems.setItems(Array.isArray(x.items) && x.items.length ? x.items : DEFAULT_TERMS.items);
  $('eval-abnormal').value = bpToPct(x.abnormal_low_fraction_bp ?? 8000);
  $('eval-outlier').value = bpToPct(x.outlier_points ?? 2000);
  $('eval-rounding').value = x.rounding === 'each_step' ? 'each_step' : 'once';
  $('eval-checklist').value = checklistText(x.checklist);
  // What the form does not show is kept as it was (a lawful two-supplier case).
  keptTerms = e && e.two_suppliers_case ? { two_suppliers_case: e.two_suppliers_case } : {};
  updateEval();
}

/** Terms the form keeps without showing them. */
let keptTerms = {};

/** The `evaluation` body, with client-side format checks through `fail`. */
function collectEval(fail) {
  const comp = isComprehensive();
  const reserved = $('eval-reserved').checked;
  const pct = (elId, key, { required = false, max = 10000 } = {}) => {
    const bp = pctToBp($(elId).value);
    if (bp === null) {
      if (required) fail(key, t('err.required'));
      return null;
    }
    if (Number.isNaN(bp) || bp > max) {
      fail(key, t('err.percent', { max: bpToPct(max) }));
      return null;
    }
    return bp;
  };
  const body = {
    method: comp ? 'comprehensive' : 'lowest_evaluated_price',
    reserved_for_sme: reserved,
    sme_rate_bp: reserved ? null : pct('eval-sme-rate', 'evaluation.sme_rate_bp', { required: true }),
    consortium_rate_bp: reserved ? null : pct('eval-consortium-rate', 'evaluation.consortium_rate_bp'),
    price_weight_bp: comp ? pct('eval-price-weight', 'evaluation.price_weight_bp', { required: true }) ?? 0 : 0,
    items: [],
    abnormal_low_fraction_bp: pct('eval-abnormal', 'evaluation.abnormal_low_fraction_bp') ?? 8000,
    outlier_points: pct('eval-outlier', 'evaluation.outlier_points') ?? 2000,
    rounding: comp && $('eval-rounding').value === 'each_step' ? 'each_step' : 'once',
  };
  if (comp) {
    const items = evalItems.value();
    if (items.some((i) => !i.name)) fail('evaluation.items', t('form.eval_item_name_required'));
    if (items.some((i) => i.weight_bp === null || Number.isNaN(i.weight_bp) || i.weight_bp > 10000)) {
      fail('evaluation.items', t('err.percent', { max: '100' }));
    }
    if (items.some((i) => i.bands === null)) fail('evaluation.items', t('form.bands_invalid'));
    // The rubric that does not read opens, marked, so the agency sees which.
    [...$('eval-items').children].forEach((row, i) => {
      const bad = items[i] && items[i].bands === null;
      row.querySelector('.eval-item-bands').toggleAttribute('aria-invalid', bad);
      if (bad) row.querySelector('.eval-item-rubric').open = true;
    });
    body.items = items.map((i) => ({
      name: i.name,
      weight_bp: Number.isFinite(i.weight_bp) ? i.weight_bp : 0,
      objective: i.objective,
      ...(i.bands && i.bands.length ? { bands: i.bands } : {}),
      ...(i.evidence ? { evidence: i.evidence } : {}),
    }));
  }
  const checklist = parseChecklist($('eval-checklist').value);
  if (checklist.some((c) => !c.name || c.name.length > 60)) fail('evaluation.checklist', t('form.checklist_invalid'));
  if (checklist.length) body.checklist = checklist;
  Object.assign(body, keptTerms);
  return body;
}

// Server keys that do not match a slot name one to one.
const ALIASES = { region: 'region_code', purchaser: 'purchaser_org_id', purchaser_org: 'purchaser_org_id' };

function regionLabel(r) {
  return getLang() === 'en' ? r.name_en || r.name_zh : r.name_zh;
}

function fillSelect(select, items, valueOf, textOf, keep) {
  const value = keep ?? select.value;
  const first = select.options[0];
  clear(select);
  select.append(first);
  for (const it of items) select.append(h('option', { value: valueOf(it) }, textOf(it)));
  select.value = value;
  if (select.value !== value) select.value = '';
}

function userText(u) {
  return u.display_name && u.username ? `${u.display_name}（${u.username}）` : u.display_name || u.username || u.id;
}

function fillRegions(keep) {
  fillSelect(els.region, regions, (r) => r.code, regionLabel, keep);
}

function fillPurchasers(keep) {
  // Units of the chosen region first, then the rest.
  const region = els.region.value;
  const sorted = [...purchaserOrgs].sort((a, b) =>
    (a.region_code === region ? 0 : 1) - (b.region_code === region ? 0 : 1) || String(a.name).localeCompare(String(b.name), 'zh-CN'));
  fillSelect(els.purchaser, sorted, (o) => o.id, (o) => o.name, keep);
}

// The server accepts an agency custodian of the agency's own organisation and a
// purchaser custodian of the chosen purchasing unit only.
function usersOfOrg(list, orgId) {
  if (!orgId) return list;
  return list.filter((u) => u.org_id === orgId);
}

function fillCustodians(keep = {}) {
  const agencyOrg = me && me.org ? me.org.id : null;
  fillSelect(els.cAgency, usersOfOrg(users.agency, agencyOrg), (u) => u.id, userText, keep.agency);
  fillSelect(els.cPurchaser, usersOfOrg(users.purchaser, els.purchaser.value), (u) => u.id, userText, keep.purchaser);
  fillSelect(els.cFinance, users.finance, (u) => u.id, userText, keep.finance);
  for (const s of [els.cAgency, els.cPurchaser, els.cFinance]) {
    s.options[0].textContent = s.options.length > 1 ? t('form.choose') : t('form.no_users');
  }
}

function updateThresholdHelp() {
  $('custodian-threshold-help').textContent = t('form.threshold_help', { n: els.threshold.value });
}

// ------------------------------------------------------------- validate --

function collect() {
  clearFieldErrors(form);
  let ok = true;
  const fail = (key, text) => {
    setFieldError(form, key, text);
    ok = false;
  };
  const title = els.title.value.trim();
  if (!title) fail('title', t('err.required'));
  if (!els.region.value) fail('region_code', t('err.required'));
  if (!els.purchaser.value) fail('purchaser_org_id', t('err.required'));
  if (!els.category.value) fail('category', t('err.required'));
  if (!els.method.value) fail('method', t('err.required'));

  const lv = lots.value();
  if (!lv.ok) ok = false;

  const clarifyMs = clarify.get();
  const bidMs = bid.get();
  if (clarifyMs === null) fail('clarify_deadline', t('err.datetime'));
  if (bidMs === null) fail('bid_deadline', t('err.datetime'));
  const now = serverNow();
  if (clarifyMs !== null && clarifyMs <= now) fail('clarify_deadline', t('err.in_future'));
  if (bidMs !== null && bidMs <= now) fail('bid_deadline', t('err.in_future'));
  if (clarifyMs !== null && bidMs !== null && clarifyMs >= bidMs) fail('clarify_deadline', t('err.clarify_before_bid'));

  const decryptRaw = els.decrypt.value.trim();
  const decrypt = /^\d+$/.test(decryptRaw) ? Number(decryptRaw) : NaN;
  if (!(decrypt >= DECRYPT_MIN && decrypt <= DECRYPT_MAX)) fail('decrypt_window_mins', t('err.integer_range', { min: DECRYPT_MIN, max: DECRYPT_MAX }));

  // R-DEP-1: none, or at most 2% of the lots' budgets (the server checks it again).
  let deposit = null;
  if (els.deposit.value.trim()) {
    const d = parseYuanToFen(els.deposit.value);
    const budget = lv.ok ? lv.lots.reduce((sum, l) => sum + l.budget_fen, 0) : null;
    if (!d.ok) fail('deposit_fen', t(d.error));
    else if (d.fen <= 0) fail('deposit_fen', t('err.amount_positive'));
    else if (budget !== null && d.fen * 50 > budget) fail('deposit_fen', t('deposit.too_high', { max: formatMoney(Math.floor(budget / 50)) }));
    else deposit = d.fen;
  }

  const custodians = [els.cAgency.value, els.cPurchaser.value, els.cFinance.value];
  custodians.forEach((v, i) => {
    if (!v) fail(`custodian_ids[${i}]`, t('err.required'));
  });
  if (custodians.every(Boolean) && new Set(custodians).size !== 3) fail('custodian_ids', t('err.custodians_distinct'));

  const body = {
    title,
    region_code: els.region.value,
    purchaser_org_id: els.purchaser.value,
    category: els.category.value,
    method: els.method.value,
    description: els.description.value.trim(),
    lots: lv.lots,
    clarify_deadline: clarifyMs,
    bid_deadline: bidMs,
    decrypt_window_mins: decrypt,
    reading_order: $('reading-order').value === 'draw' ? 'draw' : 'receipt',
    custodian_ids: custodians,
    custodian_threshold: Number(els.threshold.value),
    evaluation: collectEval(fail),
    plan_id: els.plan.value || null,
    deposit_fen: deposit,
  };
  return { ok, body };
}

/**
 * The server's evaluation messages say why only in their English half
 * ("评标办法不符合规定 / evaluation terms not allowed: price weight …"); in
 * Chinese the reason is kept after the Chinese text rather than dropped.
 */
function withEvalDetail(fields) {
  if (getLang() === 'en' || !fields) return fields;
  const out = {};
  for (const [k, msgs] of Object.entries(fields)) {
    out[k] = !k.startsWith('evaluation') ? msgs : [].concat(msgs).map((m) => {
      const [zhPart, enPart] = String(m).split(' / ');
      const colon = enPart ? enPart.indexOf(': ') : -1;
      return colon >= 0 ? `${zhPart}：${enPart.slice(colon + 2)}` : m;
    });
  }
  return out;
}

async function onSubmit(ev) {
  ev.preventDefault();
  clear(statusEl);
  const { ok, body } = collect();
  if (!ok) {
    showBanner(statusEl, 'error', t('form.has_errors'));
    const first = form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
    return;
  }
  const restore = busy(submitBtn, t('form.saving'));
  try {
    const saved = id ? await put(`/api/tenders/${encodeURIComponent(id)}`, body) : await post('/api/tenders', body);
    const newId = (saved && (saved.id || (saved.tender && saved.tender.id))) || id;
    location.assign(`/tender.html?id=${encodeURIComponent(newId)}${id ? '' : '&created=1'}`);
  } catch (e) {
    restore();
    if (e instanceof ApiError && e.code === 'VALIDATION') {
      const leftover = showFieldErrors(form, withEvalDetail(e.fields), ALIASES);
      showBanner(statusEl, 'error', t('form.has_errors'), { title: errorText(e), list: leftover });
    } else {
      if (e instanceof ApiError && e.code === 'DEPOSIT_TOO_HIGH') setFieldError(form, 'deposit_fen', errorText(e));
      showBanner(statusEl, 'error', errorText(e), { title: t('common.error_title') });
    }
  }
}

// ---------------------------------------------------------------- load --

function planText(p) {
  return `${p.code} ${p.title}（${p.org_name}，${t('form.plan_left')} ${formatMoney(p.left_fen)}）`;
}

/** The plans a tender may be made from: filed, with money left (and the tender's own). */
function fillPlans(keep) {
  const usable = plans.filter((p) => p.status === 'filed' && (p.left_fen > 0 || p.id === keep));
  fillSelect(els.plan, usable, (p) => p.id, planText, keep);
}

/** Choosing a plan fills what the plan fixes; the budget starts at what is left of it. */
function applyPlan() {
  const p = plans.find((x) => x.id === els.plan.value);
  if (!p) return;
  if (!els.title.value.trim()) els.title.value = p.title;
  fillRegions(p.region_code);
  fillPurchasers(p.org_id);
  els.category.value = p.category;
  els.method.value = p.method;
  fillCustodians({ agency: els.cAgency.value, finance: els.cFinance.value });
  const budgets = [...$('lots').querySelectorAll('.lot-budget')];
  if (budgets.every((b) => !b.value.trim())) lots.setLots([{ name: p.title, budget_fen: p.left_fen }]);
}

function fillFromTender(x) {
  fillPlans(x.plan_id || '');
  els.title.value = x.title || '';
  fillRegions(x.region_code || '');
  fillPurchasers(x.purchaser_org_id || '');
  els.category.value = x.category || '';
  els.method.value = x.method || '';
  els.description.value = x.description || '';
  lots.setLots(Array.isArray(x.lots) ? x.lots : []);
  const s = schedule(x);
  clarify.set(s.clarify_deadline);
  bid.set(s.bid_deadline);
  els.decrypt.value = s.decrypt_window_mins ?? 30;
  $('reading-order').value = x.reading_order === 'draw' ? 'draw' : 'receipt';
  els.deposit.value = x.deposit_fen != null ? fenToInput(x.deposit_fen) : '';
  // Custodians: ids in order [agency, purchaser, finance], or objects.
  const ids = Array.isArray(x.custodian_ids)
    ? x.custodian_ids
    : Array.isArray(x.custodians)
      ? x.custodians.map((c) => (typeof c === 'string' ? c : c.user_id || c.id))
      : [];
  const keep = {};
  for (const cid of ids) {
    if (users.agency.some((u) => u.id === cid)) keep.agency = cid;
    else if (users.purchaser.some((u) => u.id === cid)) keep.purchaser = cid;
    else if (users.finance.some((u) => u.id === cid)) keep.finance = cid;
  }
  fillCustodians(keep);
  if (x.custodian_threshold) els.threshold.value = String(x.custodian_threshold);
  updateThresholdHelp();
  fillEval(x.evaluation);
}

async function loadLists() {
  const [r, orgs, ua, up, uf, pl] = await Promise.all([
    get('/api/regions'),
    get(withQuery('/api/organisations', { kind: 'purchaser_unit' })),
    get(withQuery('/api/users', { role: 'agency' })),
    get(withQuery('/api/users', { role: 'purchaser' })),
    get(withQuery('/api/users', { role: 'finance' })),
    get('/api/plans'),
  ]);
  plans = Array.isArray(pl) ? pl : [];
  regions = Array.isArray(r) ? r : [];
  purchaserOrgs = Array.isArray(orgs) ? orgs : [];
  users = {
    agency: Array.isArray(ua) ? ua : [],
    purchaser: Array.isArray(up) ? up : [],
    finance: Array.isArray(uf) ? uf : [],
  };
}

function setHeading() {
  const key = id ? 'form.edit_title' : 'form.new_title';
  $('form-title').dataset.i18n = key;
  $('form-title').textContent = t(key);
  $('crumb-current').dataset.i18n = key;
  $('crumb-current').textContent = t(key);
  submitBtn.dataset.i18n = id ? 'form.save_edit' : 'form.save_new';
  submitBtn.textContent = t(submitBtn.dataset.i18n);
  setPageTitle(key);
  if (id) {
    $('form-cancel').href = `/tender.html?id=${encodeURIComponent(id)}`;
    if (tender) {
      $('crumb-tender').hidden = false;
      const link = $('crumb-tender-link');
      link.href = `/tender.html?id=${encodeURIComponent(id)}`;
      link.textContent = tender.code || tender.title || id;
    }
  }
}

async function load() {
  replace(loadingEl, loadingBlock());
  clear(statusEl);
  try {
    const [, x] = await Promise.all([loadLists(), id ? get(`/api/tenders/${encodeURIComponent(id)}`) : null]);
    tender = x && x.tender ? x.tender : x;
  } catch (e) {
    clear(loadingEl);
    showBanner(statusEl, 'error', errorText(e), {
      title: t('common.error_title'),
      action: h('button.btn.btn-small', { type: 'button', on: { click: load } }, t('common.retry')),
    });
    return;
  }
  clear(loadingEl);
  fillRegions();
  fillPurchasers();
  fillCustodians({ agency: me ? me.id : undefined });
  updateThresholdHelp();
  if (!tender) {
    prefillSchedule();
    fillEval(null);
    fillPlans(param('plan') || '');
    applyPlan();
  }
  if (tender) {
    fillFromTender(tender);
    if (tender.status && tender.status !== 'draft') {
      showBanner(statusEl, 'warning', t('form.not_draft'), {
        action: h('a.btn.btn-small', { href: `/tender.html?id=${encodeURIComponent(id)}` }, t('common.back')),
      });
      for (const el of form.elements) el.disabled = true;
      lots.disable(true);
    }
  }
  setHeading();
  form.hidden = false;
  if (!id) els.title.focus();
}

/**
 * Sensible defaults for a new project: bids close 20 full days from today at
 * 09:30 CST (公开招标's minimum period), clarifications close 15 days before.
 */
function prefillSchedule() {
  const day = 24 * 3600 * 1000;
  const cstMidnight = Math.floor((serverNow() + 8 * 3600 * 1000) / day) * day - 8 * 3600 * 1000;
  const bidMs = cstMidnight + 21 * day + (9 * 60 + 30) * 60 * 1000;
  if (bid.get() === null) bid.set(bidMs);
  if (clarify.get() === null) clarify.set(bidMs - 15 * day + (7 * 60 + 30) * 60 * 1000);
}

function initWidgets() {
  lots = new LotsEditor($('lots'), { addId: 'add-lot', prefix: 'lot' });
  clarify = cstInput(els.clarify, $('clarify-deadline-preview'));
  bid = cstInput(els.bid, $('bid-deadline-preview'));
  els.region.addEventListener('change', () => fillPurchasers());
  els.plan.addEventListener('change', () => {
    applyPlan();
    applyMethodRules();
  });
  els.method.addEventListener('change', applyMethodRules);
  els.purchaser.addEventListener('change', () => fillCustodians({
    agency: els.cAgency.value, purchaser: els.cPurchaser.value, finance: els.cFinance.value,
  }));
  els.threshold.addEventListener('change', updateThresholdHelp);
  evalItems = new EvalItemsEditor($('eval-items'), $('eval-add-item'), $('eval-sum'), updateEval);
  $('evaluation-section').addEventListener('input', updateEval);
  $('evaluation-section').addEventListener('change', updateEval);
  // Clear a field's error as soon as it is edited.
  form.addEventListener('input', (ev) => {
    const field = ev.target.closest('.field');
    if (ev.target.closest('.eval-item-row')) {
      $('eval-items-error').textContent = '';
      return;
    }
    if (!field || ev.target.closest('.lot-row')) return;
    for (const e of field.querySelectorAll('.field-error')) e.textContent = '';
    ev.target.removeAttribute('aria-invalid');
  });
  form.addEventListener('change', (ev) => {
    if (ev.target.tagName === 'SELECT') {
      ev.target.removeAttribute('aria-invalid');
      const field = ev.target.closest('.field');
      if (field) for (const e of field.querySelectorAll('.field-error')) e.textContent = '';
    }
  });
  form.addEventListener('submit', onSubmit);
}

onLangChange(() => {
  if (!lots) return;
  lots.relabel();
  clarify.refresh();
  bid.refresh();
  fillRegions();
  fillPlans(els.plan.value);
  fillCustodians({ agency: els.cAgency.value, purchaser: els.cPurchaser.value, finance: els.cFinance.value });
  updateThresholdHelp();
  evalItems.relabel();
  updateEval();
  setHeading();
});

async function main() {
  setPageTitle(id ? 'form.edit_title' : 'form.new_title');
  me = await initLayout({ auth: 'required', active: id ? '' : 'new_tender' });
  if (!me || me.role !== 'agency') {
    showBanner(statusEl, 'warning', t('form.agency_only'), {
      action: h('a.btn.btn-small', { href: '/dashboard.html' }, t('nav.dashboard')),
    });
    return;
  }
  initWidgets();
  methodTable = await get('/api/methods').catch(() => null);
  await load();
  applyMethodRules();
}

main();
