// Form pieces shared by the tender form and the amendment panel: the lots
// editor (exact yuan → fen), China-Standard-Time datetime inputs with a
// readable preview, and the mapping of server field errors onto fields.

import { t, getLang, splitBilingual } from './i18n.js';
import { parseYuanToFen, amountInWords, formatMoney, fenToInput, formatCSTLong, parseCSTInputValue, toCSTInputValue } from './format.js';
import { h, clear } from './ui.js';

let uid = 0;

// ------------------------------------------------------------ lots editor --

export class LotsEditor {
  /**
   * @param {HTMLElement} container
   * @param {{lots?: Array, addId?: string, prefix?: string}} opts
   */
  constructor(container, { lots = [], addId = 'add-lot', prefix = 'lot' } = {}) {
    this.container = container;
    this.prefix = prefix;
    this.rowsEl = h('div.lot-rows');
    this.totalEl = h('div.lots-total', { 'aria-live': 'polite' });
    this.addBtn = h(`button#${addId}.btn`, { type: 'button', on: { click: () => this.addRow({}, true) } },
      h('span.btn-icon', { 'aria-hidden': 'true' }, '+'), h('span.add-text', t('form.add_lot')));
    this.listErr = h('p.field-error', { dataset: { field: 'lots' }, 'aria-live': 'polite' });
    this.headEl = h('div.lots-head', { 'aria-hidden': 'true' });
    clear(container).append(this.headEl, this.rowsEl, this.listErr, h('div.lots-foot', this.addBtn, this.totalEl));
    this.renderHead();
    const initial = lots.length ? lots : [{}];
    for (const l of initial) this.addRow(l, false);
    this.update();
  }

  renderHead() {
    clear(this.headEl).append(
      h('span', '#'),
      h('span', t('field.lot_name')),
      h('span', t('field.lot_budget')),
      h('span'));
  }

  rows() {
    return [...this.rowsEl.querySelectorAll('.lot-row')];
  }

  addRow(lot = {}, focus = false) {
    const n = ++uid;
    const nameId = `${this.prefix}-name-${n}`;
    const budgetId = `${this.prefix}-budget-${n}`;
    const name = h('input.input.lot-name', {
      id: nameId, type: 'text', maxlength: 200, autocomplete: 'off',
      value: lot.name || '', 'aria-describedby': `${nameId}-error`,
    });
    const budget = h('input.input.lot-budget', {
      id: budgetId, type: 'text', inputmode: 'decimal', autocomplete: 'off',
      value: lot.budget_fen !== undefined && lot.budget_fen !== null ? fenToInput(lot.budget_fen) : '',
      placeholder: t('form.budget_placeholder'),
      'aria-describedby': `${budgetId}-words ${budgetId}-error`,
    });
    const row = h('div.lot-row',
      h('div.lot-no', { 'aria-hidden': 'true' }),
      h('div.field.lot-name-field',
        h('label.visually-hidden.lot-name-label', { for: nameId }),
        name,
        h('p.field-error', { id: `${nameId}-error`, dataset: { role: 'name' }, 'aria-live': 'polite' })),
      h('div.field.lot-budget-field',
        h('label.visually-hidden.lot-budget-label', { for: budgetId }),
        h('div.input-affix', budget, h('span.affix', { 'aria-hidden': 'true' }, t('common.yuan'))),
        h('p.lot-words', { id: `${budgetId}-words` }),
        h('p.field-error', { id: `${budgetId}-error`, dataset: { role: 'budget' }, 'aria-live': 'polite' })),
      h('button.btn.btn-ghost.btn-small.lot-remove', { type: 'button' }, t('form.remove_lot')));
    row.querySelector('.lot-remove').addEventListener('click', () => this.removeRow(row));
    name.addEventListener('input', () => this.clearRowError(row, 'name'));
    budget.addEventListener('input', () => {
      this.clearRowError(row, 'budget');
      this.update();
    });
    this.rowsEl.append(row);
    this.update();
    if (focus) name.focus();
    return row;
  }

  removeRow(row) {
    if (this.rows().length <= 1) return;
    const idx = this.rows().indexOf(row);
    row.remove();
    this.update();
    const rows = this.rows();
    const next = rows[Math.min(idx, rows.length - 1)];
    if (next) next.querySelector('.lot-name').focus();
  }

  clearRowError(row, which) {
    const err = row.querySelector(`.field-error[data-role="${which}"]`);
    err.textContent = '';
    row.querySelector(which === 'name' ? '.lot-name' : '.lot-budget').removeAttribute('aria-invalid');
  }

  setRowError(row, which, text) {
    const err = row.querySelector(`.field-error[data-role="${which}"]`);
    err.textContent = text;
    row.querySelector(which === 'name' ? '.lot-name' : '.lot-budget').setAttribute('aria-invalid', 'true');
  }

  /** Renumber rows, refresh labels, 大写 words and the total. */
  update() {
    const rows = this.rows();
    let total = 0n;
    let allOk = rows.length > 0;
    rows.forEach((row, i) => {
      const n = i + 1;
      row.dataset.index = String(i);
      row.querySelector('.lot-no').textContent = String(n);
      row.querySelector('.lot-name-label').textContent = `${t('field.lot_name')} ${n}`;
      row.querySelector('.lot-budget-label').textContent = `${t('field.lot_budget')} ${n}`;
      row.querySelector('.lot-name').placeholder = `${t('form.lot_placeholder', { n })}…`;
      row.querySelector('.lot-budget').placeholder = t('form.budget_placeholder');
      row.querySelector('.affix').textContent = t('common.yuan');
      const rm = row.querySelector('.lot-remove');
      rm.textContent = t('form.remove_lot');
      rm.setAttribute('aria-label', t('form.remove_lot_label', { n }));
      rm.disabled = rows.length <= 1;
      row.querySelectorAll('.field-error[data-role="name"]').forEach((e) => (e.dataset.field = `lots[${i}].name`));
      row.querySelectorAll('.field-error[data-role="budget"]').forEach((e) => (e.dataset.field = `lots[${i}].budget_fen`));
      const words = row.querySelector('.lot-words');
      const v = row.querySelector('.lot-budget').value;
      const r = v.trim() ? parseYuanToFen(v) : null;
      // The line under the amount shows its 大写 as it is typed, or what is
      // wrong with it, in the same place so nothing below moves.
      words.classList.toggle('is-error', Boolean(r && !r.ok));
      if (r && r.ok) {
        words.textContent = amountInWords(r.fen);
        total += BigInt(r.fen);
      } else {
        words.textContent = r ? t(r.error) : '';
        allOk = false;
      }
    });
    this.addBtn.querySelector('.add-text').textContent = t('form.add_lot');
    clear(this.totalEl);
    if (total > 0n) {
      this.totalEl.append(
        h('span', t('form.lots_total')),
        h('strong#lots-total', formatMoney(Number(total))),
        h('span.words', { lang: 'zh-CN' }, amountInWords(Number(total)) + (allOk ? '' : ' …')));
    }
  }

  /** Re-translate after a language switch. */
  relabel() {
    this.renderHead();
    this.update();
  }

  /** → {lots, ok}; marks rows with errors. */
  value() {
    const lots = [];
    let ok = true;
    const rows = this.rows();
    this.listErr.textContent = '';
    if (!rows.length) {
      this.listErr.textContent = t('err.lots_min');
      ok = false;
    }
    for (const row of rows) {
      const name = row.querySelector('.lot-name').value.trim();
      const raw = row.querySelector('.lot-budget').value;
      this.clearRowError(row, 'name');
      this.clearRowError(row, 'budget');
      if (!name) {
        this.setRowError(row, 'name', t('err.required'));
        ok = false;
      }
      const r = parseYuanToFen(raw);
      if (!r.ok) {
        // A wrong amount is already explained on the line under it.
        if (raw.trim()) row.querySelector('.lot-budget').setAttribute('aria-invalid', 'true');
        else this.setRowError(row, 'budget', t(r.error));
        ok = false;
      }
      lots.push({ name, budget_fen: r.ok ? r.fen : null });
    }
    return { lots, ok };
  }

  setLots(lots) {
    clear(this.rowsEl);
    for (const l of lots.length ? lots : [{}]) this.addRow(l, false);
    this.update();
  }

  disable(on) {
    for (const el of this.container.querySelectorAll('input, button')) el.disabled = on;
    if (!on) this.update();
  }
}

// -------------------------------------------------------- datetime (CST) --

/**
 * Wire a datetime-local input read as China Standard Time, with a live
 * preview ("2026年1月8日（星期四）09:30 北京时间") in previewEl.
 */
export function cstInput(input, previewEl) {
  const update = () => {
    const ms = parseCSTInputValue(input.value);
    previewEl.textContent = ms === null ? t('common.cst_hint') : `${formatCSTLong(ms, getLang())} · ${t('common.cst')}`;
  };
  input.addEventListener('input', update);
  input.addEventListener('change', update);
  update();
  return {
    get: () => parseCSTInputValue(input.value),
    set: (ms) => {
      input.value = ms === null || ms === undefined ? '' : toCSTInputValue(ms);
      update();
    },
    refresh: update,
  };
}

// ---------------------------------------------------------- field errors --

export function clearFieldErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) el.removeAttribute('aria-invalid');
}

function inputFor(errEl) {
  if (errEl.dataset.for) return document.getElementById(errEl.dataset.for);
  const field = errEl.closest('.field');
  return field ? field.querySelector('input, select, textarea') : null;
}

/** Put one message on the field whose error slot has data-field=key. */
export function setFieldError(form, key, text) {
  const slot = form.querySelector(`.field-error[data-field="${CSS.escape(key)}"]`);
  if (!slot) return false;
  slot.textContent = slot.textContent ? `${slot.textContent}；${text}` : text;
  const input = inputFor(slot);
  if (input) input.setAttribute('aria-invalid', 'true');
  return true;
}

/**
 * Show a VALIDATION error's `fields` map next to the fields. Keys that have
 * no slot are tried without their index ("custodian_ids[1]" → "custodian_ids",
 * "lots[0]" → "lots"); what is left is returned for a banner.
 */
export function showFieldErrors(form, fields, aliases = {}) {
  const leftover = [];
  for (const [rawKey, msgs] of Object.entries(fields || {})) {
    const text = [].concat(msgs).map((m) => splitBilingual(m)).join('；');
    const key = aliases[rawKey] || rawKey;
    const candidates = [key, key.replace(/\[\d+\]$/, ''), key.replace(/\[\d+\].*$/, ''), aliases[key.replace(/\[\d+\].*$/, '')]].filter(Boolean);
    if (!candidates.some((k) => setFieldError(form, k, text))) leftover.push(`${rawKey}: ${text}`);
  }
  const first = form.querySelector('[aria-invalid="true"]');
  if (first) first.focus({ preventScroll: false });
  return leftover;
}

// ------------------------------------------------------------ attachments --

/** A file as {name, media_type, content_base64} (standard base64), for JSON bodies. */
export function readFile(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve({ name: file.name, media_type: file.type || '', content_base64: String(r.result).split(',')[1] || '' });
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}
