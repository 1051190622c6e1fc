// UI strings: zh-CN first, English second. `t(key, vars)` looks a key up in the
// current language; elements carrying data-i18n* attributes are translated by
// applyI18n(). The choice is kept in localStorage.

import site from './i18n/site.js';
import tenders from './i18n/tenders.js';
import ledger from './i18n/ledger.js';
import bids from './i18n/bids.js';
import opening from './i18n/opening.js';
import evaluation from './i18n/evaluation.js';
import plans from './i18n/plans.js';
import suppliers from './i18n/suppliers.js';
import alerts from './i18n/alerts.js';
import documents from './i18n/documents.js';
import deposits from './i18n/deposits.js';
import rounds from './i18n/rounds.js';
import framework from './i18n/framework.js';
import result from './i18n/result.js';
import challenges from './i18n/challenges.js';
import contracts from './i18n/contracts.js';
import apidoc from './i18n/apidoc.js';
import analytics from './i18n/analytics.js';
import fulfilment from './i18n/fulfilment.js';
import ratings from './i18n/ratings.js';
import financing from './i18n/financing.js';
import warnings from './i18n/warnings.js';
import screens from './i18n/screens.js';
import console_ from './i18n/console.js';
import chat from './i18n/chat.js';
import reader from './i18n/reader.js';

const STORAGE_KEY = 'kb_lang';

// Each namespace's strings are in web/js/i18n/<namespace>.js, a key's two languages side by
// side. No key is in two files (tests/it/i18n.rs checks it, and that every key a page
// names exists).
const STRINGS = { ...site, ...tenders, ...ledger, ...bids, ...opening, ...evaluation, ...plans, ...suppliers, ...alerts, ...documents, ...deposits, ...rounds, ...framework, ...result, ...challenges, ...contracts, ...fulfilment, ...ratings, ...financing, ...warnings, ...screens, ...apidoc, ...analytics, ...console_, ...chat, ...reader };

/** The index of each language in a key's pair. */
const LANGS = { 'zh-CN': 0, en: 1 };

function readStoredLang() {
  try {
    const v = localStorage.getItem(STORAGE_KEY);
    if (v === 'en' || v === 'zh-CN') return v;
  } catch (_) {
    /* storage may be blocked */
  }
  return 'zh-CN';
}

let current = readStoredLang();

export function getLang() {
  return current;
}

export function isEnglish() {
  return current === 'en';
}

/** Look up a UI string; `{name}` placeholders are filled from vars. */
export function t(key, vars) {
  const pair = STRINGS[key];
  if (pair === undefined) return key;
  let s = pair[LANGS[current]] ?? pair[0];
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

/**
 * A derivation note from the server ({code, key, args}) in the current language; a note
 * of an older report (a plain string) as it was written.
 */
export function noteText(n) {
  if (!n || typeof n === 'string') return n || '';
  return t(`derive.${n.key}`, n.args || {});
}

/** "项目编号：" / "Project code: " */
export function withColon(text) {
  return current === 'en' ? `${text}: ` : `${text}：`;
}

/** True when the dictionary has this key. */
export function has(key) {
  return key in STRINGS;
}

/** Translate an enum-ish code under a prefix, falling back to the code itself. */
export function label(prefix, code) {
  if (code === null || code === undefined || code === '') return '—';
  const norm = String(code).replace(/[.\-:\s]+/g, '_').toLowerCase();
  const key = `${prefix}.${norm}`;
  return has(key) ? t(key) : String(code);
}

/**
 * Pick the right language from a server message. Errors carry `message` (zh)
 * and `message_en`; field messages are often "中文 / English".
 */
export function pickMessage(zhText, enText) {
  if (current === 'en' && enText) return enText;
  if (zhText) return splitBilingual(zhText);
  return enText || '';
}

export function splitBilingual(text) {
  const s = String(text ?? '');
  const parts = s.split(' / ');
  if (parts.length === 2 && /[\u4e00-\u9fff]/.test(parts[0]) && !/[\u4e00-\u9fff]/.test(parts[1])) {
    return current === 'en' ? parts[1].trim() : parts[0].trim();
  }
  return s;
}

/** Translate every element under root that carries data-i18n attributes. */
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) {
    el.textContent = t(el.dataset.i18n);
  }
  for (const [attr, data] of [
    ['placeholder', 'i18nPlaceholder'],
    ['aria-label', 'i18nAriaLabel'],
    ['title', 'i18nTitle'],
  ]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr, t(el.dataset[data]));
    }
  }
}

/** Switch language, re-translate the page and tell pages to re-render. */
export function setLang(lang) {
  current = lang === 'en' ? 'en' : 'zh-CN';
  try {
    localStorage.setItem(STORAGE_KEY, current);
  } catch (_) {
    /* ignore */
  }
  applyI18n(document);
  window.dispatchEvent(new CustomEvent('kb:langchange', { detail: { lang: current } }));
}

export function toggleLang() {
  setLang(current === 'en' ? 'zh-CN' : 'en');
}

/** Call fn now and again whenever the language changes. */
export function onLangChange(fn) {
  window.addEventListener('kb:langchange', fn);
}

// Set <html lang> as early as possible.
document.documentElement.lang = current;
