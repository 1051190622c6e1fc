// Fetch wrapper for the kaibiao HTTP API: JSON in and out, same-origin
// credentials, the x-csrf-token header on POST/PUT/DELETE, and error bodies
// turned into thrown ApiError objects.

import { noteServerDate } from './format.js';
import { pickMessage, t } from './i18n.js';

const CSRF_KEY = 'kb_csrf';
const SESSION_HINT_KEY = 'kb_session_hint';

/** The supervisors: finance, oversight and admin watch every tender (Role::SUPERVISORS). */
export const SUPERVISOR_ROLES = Object.freeze(['finance', 'oversight', 'admin']);
export const isSupervisorRole = (role) => SUPERVISOR_ROLES.includes(role);

export class ApiError extends Error {
  constructor({ status, code, message, message_en, fields, retry_after_secs, body }) {
    super(message_en || message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || (status ? `HTTP_${status}` : 'NETWORK');
    this.message_zh = message || '';
    this.message_en = message_en || '';
    this.fields = fields && typeof fields === 'object' ? fields : {};
    this.retry_after_secs = retry_after_secs;
    this.body = body;
  }

  /** The message in the current UI language. */
  localized() {
    if (this.code === 'NETWORK') return t('common.network_error');
    const m = pickMessage(this.message_zh, this.message_en);
    return m || t('common.unknown_error', { status: this.status });
  }
}

/** Human text for any thrown value. */
export function errorText(err) {
  if (err instanceof ApiError) return err.localized();
  return (err && err.message) || String(err);
}

// ----------------------------------------------------------- session state --

let csrfToken = null;
try {
  csrfToken = sessionStorage.getItem(CSRF_KEY);
} catch (_) {
  /* storage blocked */
}

let loginRequired = false;

/** The session's CSRF token (the hub sends it when it connects), or null. */
export function csrf() {
  return csrfToken;
}

export function setCsrfToken(token) {
  csrfToken = token || null;
  try {
    if (csrfToken) sessionStorage.setItem(CSRF_KEY, csrfToken);
    else sessionStorage.removeItem(CSRF_KEY);
  } catch (_) {
    /* ignore */
  }
}

/**
 * Public pages only ask /api/me when this browser has logged in before, so an
 * anonymous visitor's console is not filled with 401s.
 */
export function hasSessionHint() {
  try {
    return localStorage.getItem(SESSION_HINT_KEY) === '1';
  } catch (_) {
    return false;
  }
}

function setSessionHint(on) {
  try {
    if (on) localStorage.setItem(SESSION_HINT_KEY, '1');
    else localStorage.removeItem(SESSION_HINT_KEY);
  } catch (_) {
    /* ignore */
  }
}

/** Pages that need a logged-in user call this; a 401 then goes to login. */
export function requireLogin() {
  loginRequired = true;
}

export function loginUrl() {
  const here = location.pathname + location.search;
  const next = here === '/' || here.startsWith('/login.html') ? '' : `?next=${encodeURIComponent(here)}`;
  return `/login.html${next}`;
}

function redirectToLogin() {
  setSessionHint(false);
  setCsrfToken(null);
  location.assign(loginUrl());
}

// ---------------------------------------------------------------- request --

async function parseBody(res) {
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch (_) {
    return text;
  }
}

/**
 * request(method, path, body?, opts?) → parsed JSON.
 * opts.noRedirect: do not go to the login page on 401.
 */
export async function request(method, path, body, opts = {}) {
  const m = method.toUpperCase();
  const mutating = m === 'POST' || m === 'PUT' || m === 'DELETE' || m === 'PATCH';
  if (mutating && !csrfToken && !opts.skipCsrf && !opts.isLogin) {
    // A new tab: fetch the token tied to the cookie session first.
    await refreshMe({ quiet: true });
  }
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (mutating && csrfToken && !opts.skipCsrf) headers['x-csrf-token'] = csrfToken;

  const sentAt = Date.now();
  let res;
  try {
    res = await fetch(path, {
      method: m,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError({ status: 0, code: 'NETWORK', message: '', message_en: e && e.message });
  }
  noteServerDate(res.headers.get('date'), sentAt, Date.now());
  const data = await parseBody(res);
  if (res.ok) return data;

  const err =
    data && typeof data === 'object'
      ? new ApiError({ status: res.status, ...data, body: data })
      : new ApiError({ status: res.status, code: `HTTP_${res.status}`, body: data });

  if (err.code === 'CSRF_FAILED' && !opts.retried) {
    // The token went stale (e.g. a new login in another tab): fetch it again once.
    const me = await refreshMe({ quiet: true });
    if (me) return request(method, path, body, { ...opts, retried: true });
  }
  if (res.status === 401 && err.code !== 'LOGIN_FAILED') {
    setSessionHint(false);
    if (loginRequired && !opts.noRedirect) {
      redirectToLogin();
      // Never resolve: the page is going away.
      return new Promise(() => {});
    }
  }
  throw err;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body = {}, opts) => request('POST', path, body, opts);
export const put = (path, body = {}, opts) => request('PUT', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/** Build "path?a=1&b=2" skipping empty values. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// ---------------------------------------------------------------- session --

let mePromise = null;

/** GET /api/me → {user, csrf_token} or null when not logged in. */
export async function refreshMe({ quiet = false } = {}) {
  try {
    const me = await request('GET', '/api/me', undefined, { noRedirect: quiet });
    if (me && me.csrf_token) setCsrfToken(me.csrf_token);
    setSessionHint(true);
    return me;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

/** The current user (cached per page load), or null. */
export function currentUser({ force = false } = {}) {
  if (!mePromise || force) mePromise = refreshMe().then((me) => (me ? me.user : null));
  return mePromise;
}

const KNOWN_USERS_KEY = 'kb_known_users';

/** The user id of a user name that logged in on this browser before (to find its device keys). */
export function knownUserId(username) {
  try {
    return JSON.parse(localStorage.getItem(KNOWN_USERS_KEY) || '{}')[username] || null;
  } catch (_) {
    return null;
  }
}

/** POST /api/auth/login; `keyProof` passes the throttle for a holder of the device key. */
export async function login(username, password, keyProof = null) {
  const body = keyProof ? { username, password, key_proof: keyProof } : { username, password };
  const res = await request('POST', '/api/auth/login', body, { isLogin: true, skipCsrf: true, noRedirect: true });
  if (res && res.user && res.user.id) {
    try {
      const known = JSON.parse(localStorage.getItem(KNOWN_USERS_KEY) || '{}');
      known[username] = res.user.id;
      localStorage.setItem(KNOWN_USERS_KEY, JSON.stringify(known));
    } catch (_) {
      /* storage may be off: the key proof is then not offered */
    }
  }
  if (res && res.csrf_token) setCsrfToken(res.csrf_token);
  setSessionHint(true);
  mePromise = Promise.resolve(res ? res.user : null);
  return res;
}

export async function logout() {
  try {
    await request('POST', '/api/auth/logout', {}, { noRedirect: true });
  } catch (_) {
    /* the session may already be gone */
  }
  setCsrfToken(null);
  setSessionHint(false);
  mePromise = Promise.resolve(null);
}
