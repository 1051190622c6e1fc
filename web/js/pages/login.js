// Login: user name + password; shows the server's message in the UI language.

import { initLayout, setPageTitle } from '../layout.js';
import { login, request, knownUserId, ApiError, errorText } from '../api.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { toB64url, utf8 } from '../crypto/bytes.js';
import { t, onLangChange, splitBilingual } from '../i18n.js';
import { h, replace, clear, banner, busy } from '../ui.js';

const form = document.getElementById('login-form');
const userInput = document.getElementById('username');
const passInput = document.getElementById('password');
const submit = document.getElementById('login-submit');
const statusEl = document.getElementById('login-status');
const togglePw = document.getElementById('toggle-password');

let lastError = null;
let throttleUntil = 0;
let throttleTimer = null;

/** Only same-site paths are followed after login. */
function nextUrl() {
  const next = new URLSearchParams(location.search).get('next');
  if (next && /^\/(?![/\\])/.test(next) && !next.startsWith('/login.html')) return next;
  return '/dashboard.html';
}

function setFieldError(input, text) {
  const err = document.getElementById(`${input.id}-error`);
  err.textContent = text || '';
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

let throttleSecs = 0;

/**
 * The server's throttle message names the seconds to wait ("请 300 秒后再试");
 * keep that number counting down, or add our own line when it is absent.
 */
function throttledText(msg) {
  const left = Math.max(0, Math.ceil((throttleUntil - Date.now()) / 1000));
  const n = String(throttleSecs);
  if (throttleSecs && msg.includes(n)) return msg.replace(n, String(left));
  return `${msg} ${t('login.retry_in', { s: left })}`;
}

function messageFor(e) {
  const msg = errorText(e);
  return e instanceof ApiError && e.code === 'LOGIN_THROTTLED' && Date.now() < throttleUntil ? throttledText(msg) : msg;
}

function showError() {
  const e = lastError;
  if (!e) {
    clear(statusEl);
    return;
  }
  replace(statusEl, banner('error', messageFor(e)));
  const b = statusEl.querySelector('.banner');
  b.id = 'login-error';
  b.dataset.code = e.code || '';
}

function startThrottle(secs) {
  throttleSecs = Math.max(1, Math.round(Number(secs)) || 1);
  throttleUntil = Date.now() + throttleSecs * 1000;
  submit.disabled = true;
  clearInterval(throttleTimer);
  throttleTimer = setInterval(() => {
    if (Date.now() >= throttleUntil) {
      clearInterval(throttleTimer);
      submit.disabled = false;
      lastError = null;
      clear(statusEl);
      return;
    }
    const p = statusEl.querySelector('.banner-text');
    if (p) p.textContent = messageFor(lastError);
  }, 1000);
}

/**
 * When failed logins of someone else have throttled this user name, a browser holding the
 * user's registered device key proves it (a signed server challenge) and may still try
 * its password: a guesser cannot lock a bidder out before a deadline.
 */
async function deviceKeyProof(username) {
  const userId = knownUserId(username);
  if (!userId) return null;
  const record = await loadDeviceKeys(userId).catch(() => null);
  if (!record || !record.signing || !record.signing.registeredAt) return null;
  const c = await request('POST', '/api/auth/challenge', { username }, { isLogin: true, skipCsrf: true, noRedirect: true });
  const signature = await sign(record, utf8(`kaibiao-login-v1\n${username}\n${c.challenge}`));
  return { key_id: record.signing.keyId, challenge: c.challenge, signature: toB64url(signature) };
}

/**
 * Logs in, with the device key's proof when the user name is throttled or the server is
 * checking too many logins at once (a proven login has places of its own there).
 */
async function loginOnce(username, password) {
  try {
    await login(username, password);
  } catch (e) {
    const proven = e instanceof ApiError && (e.code === 'LOGIN_THROTTLED' || e.code === 'RATE_LIMITED');
    const proof = proven ? await deviceKeyProof(username).catch(() => null) : null;
    if (!proof) throw e;
    await login(username, password, proof);
  }
}

/** Automatic tries, at most, while the server says it is checking too many logins at once. */
const BUSY_TRIES = 15;

/**
 * A server checking too many logins at once (a flood of guesses) answers RATE_LIMITED at
 * once rather than make everyone wait; the page says so and tries again by itself after
 * the seconds it names, the button still busy, so that an honest user need not click.
 */
async function loginWhenFree(username, password) {
  for (let tries = 1; ; tries++) {
    try {
      return await loginOnce(username, password);
    } catch (e) {
      if (!(e instanceof ApiError && e.code === 'RATE_LIMITED') || tries >= BUSY_TRIES) throw e;
      const secs = Math.max(1, Number(e.retry_after_secs ?? (e.body && e.body.retry_after_secs)) || 1);
      replace(statusEl, banner('info', t('login.busy', { s: secs })));
      statusEl.querySelector('.banner').id = 'login-busy';
      // A little spread, so that the waiting pages do not all come back in the same instant.
      await new Promise((r) => setTimeout(r, secs * 1000 + Math.random() * 500));
    }
  }
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (Date.now() < throttleUntil) return;
  setFieldError(userInput, '');
  setFieldError(passInput, '');
  const username = userInput.value.trim();
  const password = passInput.value;
  let bad = false;
  if (!username) {
    setFieldError(userInput, t('err.required'));
    bad = true;
  }
  if (!password) {
    setFieldError(passInput, t('err.required'));
    bad = true;
  }
  if (bad) {
    (username ? passInput : userInput).focus();
    return;
  }
  const restore = busy(submit, t('login.submitting'));
  lastError = null;
  clear(statusEl);
  try {
    await loginWhenFree(username, password);
    location.assign(nextUrl());
    return;
  } catch (e) {
    restore();
    lastError = e;
    if (e instanceof ApiError) {
      if (e.code === 'VALIDATION') {
        for (const [k, msgs] of Object.entries(e.fields)) {
          const input = k === 'password' ? passInput : k === 'username' ? userInput : null;
          if (input) setFieldError(input, splitBilingual([].concat(msgs).join('；')));
        }
      }
      if (e.code === 'LOGIN_THROTTLED') startThrottle(e.retry_after_secs ?? (e.body && e.body.retry_after_secs));
      if (e.code === 'LOGIN_FAILED') {
        passInput.value = '';
        passInput.focus();
      }
    }
    showError();
  }
});

togglePw.addEventListener('click', () => {
  const show = passInput.type === 'password';
  passInput.type = show ? 'text' : 'password';
  togglePw.setAttribute('aria-pressed', String(show));
  togglePw.dataset.i18n = show ? 'login.hide_password' : 'login.show_password';
  togglePw.textContent = t(togglePw.dataset.i18n);
});

onLangChange(showError);

async function main() {
  setPageTitle('login.title');
  const user = await initLayout({ active: 'login' });
  if (user) {
    const note = banner('info', t('login.logged_in_as', { name: user.display_name || user.username }), {
      action: h('a.btn.btn-small', { href: nextUrl() }, t('login.go_dashboard')),
    });
    if (!lastError) statusEl.append(note);
  }
  if (!userInput.value) userInput.focus();
}

main();
