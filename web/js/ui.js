// Small DOM helpers shared by the pages: element builder, banners, loading and
// empty states, status badges, the confirm/prompt <dialog>, live countdowns.
// Everything goes through textContent (never innerHTML with data).

import { t, label, getLang } from './i18n.js';
import { formatCountdown, serverNow } from './format.js';

/**
 * h('a.btn.primary#id', {href: '/x', dataset: {id: 1}, on: {click: fn}}, 'text', child, ...)
 * Strings become text nodes; null/false children are skipped; arrays flatten.
 */
export function h(spec, attrs, ...children) {
  if (attrs === null || attrs === undefined || typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs)) {
    if (attrs !== undefined) children.unshift(attrs);
    attrs = {};
  }
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const tag = (m && m[1]) || 'div';
  const el = document.createElement(tag);
  if (m && m[2]) {
    for (const part of m[2].match(/[.#][\w-]+/g)) {
      if (part[0] === '.') el.classList.add(part.slice(1));
      else el.id = part.slice(1);
    }
  }
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'on') {
      for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    } else if (k === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) if (dv !== undefined && dv !== null) el.dataset[dk] = dv;
    } else if (k === 'class' || k === 'className') {
      for (const c of String(v).split(/\s+/).filter(Boolean)) el.classList.add(c);
    } else if (k === 'text') {
      el.textContent = v;
    } else if (k in el && typeof v !== 'string' && k !== 'list') {
      el[k] = v;
    } else if (v === true) {
      el.setAttribute(k, '');
    } else {
      el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

/**
 * Runs `render` (a page re-rendering itself on a live update) so that a field it keeps
 * across re-renders keeps the focus and the caret: the update must not take the cursor
 * from someone typing a passphrase or an objection. (Moving a kept field into a new card
 * takes its focus before any replace runs: hence around the whole render.)
 */
export function keepingFocus(render) {
  const active = document.activeElement;
  const kept = active && active !== document.body ? active : null;
  const caret = kept && typeof kept.selectionStart === 'number' ? [kept.selectionStart, kept.selectionEnd] : null;
  render();
  if (kept && kept.isConnected && document.activeElement !== kept) {
    kept.focus({ preventScroll: true });
    if (caret) kept.setSelectionRange(caret[0], caret[1]);
  }
}

export function qs(sel, root = document) {
  return root.querySelector(sel);
}

export function param(name) {
  return new URLSearchParams(location.search).get(name);
}

// ----------------------------------------------------------------- states --

export function loadingBlock(text) {
  return h('div.state.state-loading', { role: 'status', 'aria-live': 'polite' },
    h('span.spinner', { 'aria-hidden': 'true' }),
    h('span', text || t('common.loading')));
}

export function emptyBlock(title, hint, action) {
  return h('div.state.state-empty',
    h('div.state-icon', { 'aria-hidden': 'true' }, emptyIcon()),
    h('p.state-title', title),
    hint ? h('p.state-hint', hint) : null,
    action || null);
}

/** A line-drawn SVG icon: `size` px square, drawn in `box` units with stroke `width`. */
export function lineIcon(d, { box = 24, size = 20, width = 1.6 } = {}) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${box} ${box}`);
  svg.setAttribute('width', String(size));
  svg.setAttribute('height', String(size));
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', d);
  p.setAttribute('fill', 'none');
  p.setAttribute('stroke', 'currentColor');
  p.setAttribute('stroke-width', String(width));
  p.setAttribute('stroke-linejoin', 'round');
  p.setAttribute('stroke-linecap', 'round');
  svg.append(p);
  return svg;
}

function emptyIcon() {
  return lineIcon('M10 8h20l8 8v24a2 2 0 0 1-2 2H10a2 2 0 0 1-2-2V10a2 2 0 0 1 2-2zm19 1v8h8M15 24h18M15 30h18M15 36h10',
    { box: 48, size: 48, width: 2 });
}

/** An error banner; kind = error | warning | success | info. */
export function banner(kind, text, { title, action, list } = {}) {
  const role = kind === 'error' || kind === 'warning' ? 'alert' : 'status';
  return h(`div.banner.banner-${kind}`, { role },
    h('div.banner-body',
      title ? h('strong.banner-title', title) : null,
      h('p.banner-text', text),
      list && list.length ? h('ul.banner-list', list.map((x) => h('li', x))) : null),
    action || null);
}

export function errorBlock(text, onRetry) {
  return banner('error', text, {
    title: t('common.error_title'),
    action: onRetry ? h('button.btn.btn-small', { type: 'button', on: { click: onRetry } }, t('common.retry')) : null,
  });
}

/** Show a banner in a slot (replacing what was there) and scroll it into view. */
export function showBanner(slot, kind, text, opts) {
  if (!slot) return null;
  const b = banner(kind, text, opts);
  replace(slot, b);
  if (kind === 'error' || kind === 'warning') b.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  return b;
}

export function statusBadge(status, extra = {}) {
  const s = String(status || 'unknown').toLowerCase();
  return h(`span.badge.badge-${s.replace(/[^a-z_]/g, '')}`, extra, label('status', s));
}

// -------------------------------------------------------------- countdowns --

let ticking = false;

function tick() {
  const now = serverNow();
  const lang = getLang();
  for (const el of document.querySelectorAll('[data-countdown]')) {
    const target = Number(el.dataset.countdown);
    const left = formatCountdown(target, lang, now);
    let text;
    if (left === null) {
      text = el.dataset.countdownDone ? t(el.dataset.countdownDone) : '';
      el.classList.add('is-past');
      el.classList.remove('is-soon');
    } else {
      text = el.dataset.countdownFormat ? t(el.dataset.countdownFormat, { t: left }) : left;
      el.classList.toggle('is-soon', target - now < 24 * 3600 * 1000);
    }
    if (el.textContent !== text) el.textContent = text;
  }
}

/** Keep every [data-countdown] element up to date, once a second. */
export function startCountdowns() {
  tick();
  if (ticking) return;
  ticking = true;
  // Align to the second boundary so all counters change together.
  setTimeout(() => {
    tick();
    setInterval(tick, 1000);
  }, 1000 - (serverNow() % 1000));
}

/** A countdown span: data-countdown carries the target time. */
export function countdown(targetMs, { format, done, className } = {}) {
  const el = h('span.countdown', {
    class: className,
    dataset: { countdown: String(targetMs), countdownFormat: format, countdownDone: done },
  });
  const left = formatCountdown(targetMs, getLang());
  el.textContent = left === null ? (done ? t(done) : '') : format ? t(format, { t: left }) : left;
  if (left === null) el.classList.add('is-past');
  return el;
}

// ----------------------------------------------------------------- dialog --

let dialogEl = null;

function ensureDialog() {
  if (dialogEl) return dialogEl;
  dialogEl = h('dialog#confirm-dialog.dialog', { 'aria-labelledby': 'confirm-title', 'aria-describedby': 'confirm-message' },
    h('form.dialog-form', { method: 'dialog' },
      h('h2#confirm-title.dialog-title'),
      h('p#confirm-message.dialog-message'),
      h('div#confirm-extra.dialog-extra'),
      h('div.dialog-actions',
        h('button#confirm-cancel.btn', { type: 'submit', value: 'cancel' }),
        h('button#confirm-ok.btn.btn-primary', { type: 'submit', value: 'ok' }))));
  document.body.append(dialogEl);
  return dialogEl;
}

/**
 * A modal <dialog>. With `input` it asks for text (a reason) and resolves
 * to the text, or null when cancelled; otherwise resolves true/false.
 */
export function openDialog({ title, message, okText, cancelText, danger = false, input = null }) {
  const dlg = ensureDialog();
  qs('#confirm-title', dlg).textContent = title || '';
  qs('#confirm-message', dlg).textContent = message || '';
  const ok = qs('#confirm-ok', dlg);
  const cancel = qs('#confirm-cancel', dlg);
  ok.textContent = okText || t('common.confirm');
  cancel.textContent = cancelText || t('common.cancel');
  ok.classList.toggle('btn-danger', danger);
  ok.classList.toggle('btn-primary', !danger);
  const extra = clear(qs('#confirm-extra', dlg));
  let field = null;
  let errEl = null;
  if (input) {
    field = h('textarea#confirm-input.input', { rows: 3, 'aria-required': 'true', maxlength: input.maxlength || 500 });
    errEl = h('p#confirm-input-error.field-error', { 'aria-live': 'polite' });
    field.setAttribute('aria-describedby', 'confirm-input-error');
    extra.append(h('label.field-label', { for: 'confirm-input' }, input.label, h('span.req', { 'aria-hidden': 'true' }, ' *')), field, errEl);
  }
  return new Promise((resolve) => {
    const onClick = (ev) => {
      if (field && field.value.trim() === '') {
        ev.preventDefault();
        errEl.textContent = input.requiredText || t('err.required');
        field.setAttribute('aria-invalid', 'true');
        field.focus();
      }
    };
    ok.addEventListener('click', onClick);
    dlg.addEventListener('close', function onClose() {
      dlg.removeEventListener('close', onClose);
      ok.removeEventListener('click', onClick);
      const confirmed = dlg.returnValue === 'ok';
      dlg.returnValue = '';
      if (input) resolve(confirmed ? field.value.trim() : null);
      else resolve(confirmed);
    });
    dlg.returnValue = '';
    dlg.showModal();
    (field || ok).focus();
  });
}

export function confirmDialog(opts) {
  return openDialog(opts);
}

// ------------------------------------------------------------------ toast --

let toastRegion = null;

/** A short, polite status note at the bottom of the screen. */
export function toast(text, kind = 'success') {
  if (!toastRegion) {
    toastRegion = h('div.toast-region', { role: 'status', 'aria-live': 'polite' });
    document.body.append(toastRegion);
  }
  const el = h(`div.toast.toast-${kind}`, text);
  toastRegion.append(el);
  setTimeout(() => el.classList.add('is-leaving'), 3500);
  setTimeout(() => el.remove(), 4000);
}

/** Set a button busy (disabled + text) and return a function restoring it. */
export function busy(button, text) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  if (text) button.textContent = text;
  return () => {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = old;
  };
}

/** Copy text to the clipboard, quietly. */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    toast(t('common.copied'), 'info');
  } catch (_) {
    /* not allowed; ignore */
  }
}
