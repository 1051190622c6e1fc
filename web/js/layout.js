// Page frame: header (platform name, navigation, current user, logout,
// language toggle) and footer. Each page calls initLayout() first.

import { t, applyI18n, toggleLang, onLangChange, getLang, label } from './i18n.js';
import { get, currentUser, hasSessionHint, logout, requireLogin, isSupervisorRole } from './api.js';
import { h, replace, lineIcon } from './ui.js';

const HALL_ROLES = ['finance', 'oversight'];

/** Sent on `window` when the user's alerts changed (one read): the badge looks again. */
export const ALERTS_CHANGED = 'kb:alerts-changed';
const ALERTS_POLL_MS = 30_000;
let unreadAlerts = 0;
let alertsTimer = null;

function emblem() {
  // A simple mark: a shield with a rising line, in the header's blue.
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 40 40');
  svg.setAttribute('width', '36');
  svg.setAttribute('height', '36');
  svg.setAttribute('aria-hidden', 'true');
  svg.classList.add('brand-mark');
  const shapes = [
    ['path', { d: 'M20 3l14 5v10c0 9.5-6 16.3-14 19-8-2.7-14-9.5-14-19V8l14-5z', class: 'mark-shield' }],
    ['path', { d: 'M12 24l6-6 4 4 7-8', class: 'mark-line' }],
    ['circle', { cx: '29', cy: '14', r: '2', class: 'mark-dot' }],
  ];
  for (const [tag, attrs] of shapes) {
    const el = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
    svg.append(el);
  }
  return svg;
}

/** Who sees budgets and plans (GET /api/plans). */
const PLAN_ROLES = ['purchaser', 'agency', 'finance', 'oversight', 'admin'];

function navLinks(user, active) {
  const links = [{ key: 'announcements', href: '/index.html', text: 'nav.announcements' }];
  if (user) {
    links.push({ key: 'dashboard', href: '/dashboard.html', text: 'nav.dashboard' });
    if (PLAN_ROLES.includes(user.role)) links.push({ key: 'plans', href: '/plans.html', text: 'nav.plans' });
    if (user.role === 'agency') links.push({ key: 'new_tender', href: '/tender-form.html', text: 'nav.new_tender' });
    if (HALL_ROLES.includes(user.role)) links.push({ key: 'console', href: '/console.html', text: 'nav.console' });
    if (isSupervisorRole(user.role)) links.push({ key: 'audit', href: '/audit.html', text: 'nav.audit' });
    if (isSupervisorRole(user.role)) links.push({ key: 'screens', href: '/screens.html', text: 'nav.screens' });
    if (isSupervisorRole(user.role) || user.role === 'purchaser') links.push({ key: 'analytics', href: '/analytics.html', text: 'nav.analytics' });
    if (user.role === 'bank') links.push({ key: 'financing', href: '/financing.html', text: 'nav.financing' });
    links.push({ key: 'ratings', href: '/ratings.html', text: 'nav.ratings' });
  }
  return links.map((l) =>
    h('li', h('a.nav-link', {
      href: l.href,
      'aria-current': l.key === active ? 'page' : null,
      dataset: { i18n: l.text, nav: l.key },
    }, t(l.text))));
}

function userBox(user) {
  if (!user) {
    if (location.pathname.startsWith('/login.html')) return null;
    const here = location.pathname + location.search;
    const next = location.pathname.startsWith('/login.html') || here === '/' ? '' : `?next=${encodeURIComponent(here)}`;
    return h('a#nav-login.btn.btn-header', { href: `/login.html${next}`, dataset: { i18n: 'nav.login' } }, t('nav.login'));
  }
  const orgName = user.org && user.org.name ? user.org.name : '';
  // The unread alerts, a small badge on a bell (docs/alerts.md).
  const icon = lineIcon('M6 16.5V11a6 6 0 0 1 12 0v5.5l1.5 1.5h-15zM10 20.5a2 2 0 0 0 4 0', { size: 18 });
  icon.setAttribute('aria-hidden', 'true');
  const bell = h('a#alerts-link.alerts-link', { href: '/alerts.html' }, icon,
    h('span#alerts-count.alerts-count', { hidden: true }));
  return h('div.user-box',
    bell,
    h('div.user-chip', { title: orgName },
      h('span.user-avatar', { 'aria-hidden': 'true' }, (user.display_name || user.username || '?').slice(0, 1)),
      h('span.user-text',
        h('span#current-user.user-name', user.display_name || user.username),
        h('span.user-role', label('role', user.role)))),
    h('button#logout.btn.btn-header', {
      type: 'button',
      dataset: { i18n: 'nav.logout' },
      on: {
        click: async (ev) => {
          ev.currentTarget.disabled = true;
          await logout();
          location.assign('/index.html');
        },
      },
    }, t('nav.logout')));
}

/** Shows the unread count on the header's bell, with its label. */
function showUnread() {
  const link = document.getElementById('alerts-link');
  if (!link) return;
  const text = unreadAlerts > 0 ? t('alerts.badge_unread', { n: unreadAlerts }) : t('alerts.badge');
  link.setAttribute('aria-label', text);
  link.title = text;
  const count = document.getElementById('alerts-count');
  count.textContent = unreadAlerts > 99 ? '99+' : String(unreadAlerts);
  count.hidden = unreadAlerts === 0;
  // On a phone the user box folds into the menu: a dot on the menu button says so.
  const toggle = document.querySelector('.nav-toggle');
  if (toggle) toggle.classList.toggle('has-unread', unreadAlerts > 0);
}

async function refreshUnread() {
  try {
    const v = await get('/api/alerts/count', { noRedirect: true });
    unreadAlerts = Number(v && v.unread) || 0;
    showUnread();
  } catch (e) {
    // Logged out meanwhile: stop asking; anything else waits for the next poll.
    if (e && e.status === 401 && alertsTimer) {
      clearInterval(alertsTimer);
      alertsTimer = null;
    }
  }
}

/** Once after login, then every 30 seconds while the page is visible. */
function watchAlerts() {
  if (alertsTimer) return;
  refreshUnread();
  window.addEventListener(ALERTS_CHANGED, refreshUnread);
  alertsTimer = setInterval(() => {
    if (document.visibilityState === 'visible') refreshUnread();
  }, ALERTS_POLL_MS);
}

function renderHeader(slot, user, active) {
  const navId = 'site-nav';
  const toggle = h('button.nav-toggle', {
    type: 'button',
    'aria-expanded': 'false',
    'aria-controls': navId,
    dataset: { i18nAriaLabel: 'nav.menu' },
    'aria-label': t('nav.menu'),
  }, h('span.nav-toggle-bar', { 'aria-hidden': 'true' }), h('span.nav-toggle-bar', { 'aria-hidden': 'true' }), h('span.nav-toggle-bar', { 'aria-hidden': 'true' }));

  const langBtn = h('button#lang-toggle.btn.btn-header.lang-toggle', {
    type: 'button',
    lang: getLang() === 'en' ? 'zh-CN' : 'en',
    dataset: { i18n: 'lang.toggle', i18nAriaLabel: 'lang.toggle_label' },
    'aria-label': t('lang.toggle_label'),
    on: { click: () => toggleLang() },
  }, t('lang.toggle'));

  const nav = h(`nav#${navId}.site-nav`, { dataset: { i18nAriaLabel: 'nav.main' }, 'aria-label': t('nav.main') },
    h('ul.nav-list', navLinks(user, active)),
    h('div.nav-user', userBox(user)));

  toggle.addEventListener('click', () => {
    const open = toggle.getAttribute('aria-expanded') !== 'true';
    toggle.setAttribute('aria-expanded', String(open));
    nav.classList.toggle('is-open', open);
  });

  const header = h('header.site-header',
    h('div.container.header-inner',
      h('a.brand', { href: '/index.html' },
        emblem(),
        h('span.brand-text',
          h('span.brand-name', { dataset: { i18n: 'site.name' } }, t('site.name')),
          h('span.brand-sub', { dataset: { i18n: 'site.tagline' } }, t('site.tagline')))),
      nav,
      h('div.header-tools', langBtn, toggle)));

  replace(slot, h('a.skip-link', { href: '#main', dataset: { i18n: 'site.skip' } }, t('site.skip')), header);
  showUnread();
}

function renderFooter(slot) {
  replace(slot, h('footer.site-footer',
    h('div.container.footer-inner',
      h('div.footer-brand',
        h('strong', { dataset: { i18n: 'site.name' } }, t('site.name')),
        h('span', { dataset: { i18n: 'site.footer.org' } }, t('site.footer.org'))),
      h('div.footer-notes',
        h('p', { dataset: { i18n: 'site.footer.note' } }, t('site.footer.note')),
        h('p', { dataset: { i18n: 'site.footer.ledger' } }, t('site.footer.ledger')),
        h('p.footer-links',
          h('a#footer-api', { href: '/api.html', dataset: { i18n: 'site.footer.api' } }, t('site.footer.api')), ' · ',
          h('a#footer-ocds', { href: '/api/ocds/releases', dataset: { i18n: 'site.footer.ocds' } }, t('site.footer.ocds')))))));
}

/**
 * initLayout({auth: 'required'|'optional', active}) → the current user or null.
 * With auth 'required', an anonymous visitor is sent to the login page.
 */
export async function initLayout({ auth = 'optional', active = '' } = {}) {
  applyI18n(document);
  let headerSlot = document.getElementById('site-header');
  if (!headerSlot) {
    headerSlot = h('div#site-header');
    document.body.prepend(headerSlot);
  }
  let footerSlot = document.getElementById('site-footer');
  if (!footerSlot) {
    footerSlot = h('div#site-footer');
    document.body.append(footerSlot);
  }
  renderHeader(headerSlot, null, active);
  renderFooter(footerSlot);

  let user = null;
  if (auth === 'required') {
    requireLogin();
    user = await currentUser();
  } else if (hasSessionHint()) {
    try {
      user = await currentUser();
    } catch (_) {
      user = null;
    }
  }
  renderHeader(headerSlot, user, active);
  if (user) watchAlerts();

  onLangChange(() => {
    // Role names in the user chip are not data-i18n driven: re-render,
    // keeping keyboard focus on the toggle.
    const hadFocus = document.activeElement && document.activeElement.id === 'lang-toggle';
    renderHeader(headerSlot, user, active);
    if (hadFocus) document.getElementById('lang-toggle').focus();
  });
  document.body.classList.add('is-ready');
  return user;
}

/**
 * Set document.title as "<page> · <platform>", again after a language switch.
 * `page` is an i18n key or a function returning the text.
 */
export function setPageTitle(page) {
  const apply = () => {
    const text = typeof page === 'function' ? page() : t(page);
    document.title = text ? `${text} · ${t('site.name')}` : t('site.name');
  };
  apply();
  if (!setPageTitle.bound) {
    setPageTitle.bound = true;
    onLangChange(() => setPageTitle.current && setPageTitle.current());
  }
  setPageTitle.current = apply;
}
