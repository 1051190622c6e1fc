// Audit log (GET /api/audit): admin, finance and oversight.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError, isSupervisorRole } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatCST } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner } from '../ui.js';

const root = document.getElementById('audit');
const filterInput = document.getElementById('audit-filter');
const countEl = document.getElementById('audit-count');
const refreshBtn = document.getElementById('audit-refresh');

const KNOWN = new Set(['id', 'user_agent', 'at', 'created_at', 'ts', 'time', 'kind', 'event', 'action', 'type', 'username', 'user', 'actor', 'user_id', 'ip', 'remote_addr', 'addr', 'client_ip', 'detail', 'details', 'message', 'data', 'body', 'request_id']);

let rows = null;
let error = null;

function pick(o, keys) {
  for (const k of keys) if (o[k] !== undefined && o[k] !== null && o[k] !== '') return o[k];
  return null;
}

function normalize(e) {
  const user = pick(e, ['username', 'user', 'actor', 'user_id']);
  let detail = pick(e, ['detail', 'details', 'message', 'data', 'body']);
  const rest = Object.fromEntries(Object.entries(e).filter(([k, v]) => !KNOWN.has(k) && v !== null && v !== undefined && v !== ''));
  if (detail && typeof detail === 'object') detail = { ...detail, ...rest };
  else if (Object.keys(rest).length) detail = detail ? { message: detail, ...rest } : rest;
  return {
    at: pick(e, ['at', 'created_at', 'ts', 'time']),
    kind: pick(e, ['kind', 'event', 'action', 'type']),
    user: user && typeof user === 'object' ? user.display_name || user.username || user.id : user,
    ip: pick(e, ['ip', 'remote_addr', 'addr', 'client_ip']),
    detail,
    requestId: e.request_id || null,
    userAgent: e.user_agent || '',
  };
}

function detailText(d) {
  if (d === null || d === undefined) return '';
  // "signing <key id>": a key's purpose, named in the reader's language.
  if (typeof d === 'string') {
    const m = /^(signing|encryption) (\S+)$/.exec(d);
    if (m) return `${label('keypurpose', m[1])} ${m[2]}`;
  }
  if (typeof d === 'object') {
    return Object.entries(d).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join('  ');
  }
  return String(d);
}

/** "Chrome 148 · Linux" from a user-agent string; the full text is in the tooltip. */
function shortAgent(ua) {
  const browser = /(Edg|Firefox|Chrome|Chromium|Safari|curl|kaibiao)\/([\d]+)/.exec(ua);
  const os = /(Windows|Android|iPhone|iPad|Mac OS X|Linux)/.exec(ua);
  const parts = [];
  if (browser) parts.push(`${browser[1] === 'Edg' ? 'Edge' : browser[1]} ${browser[2]}`);
  if (os) parts.push(os[1]);
  return parts.length ? parts.join(' · ') : ua.slice(0, 40);
}

function render() {
  if (error) {
    const forbidden = error instanceof ApiError && error.status === 403;
    replace(root, forbidden ? banner('warning', t('audit.forbidden')) : errorBlock(errorText(error), load));
    countEl.textContent = '';
    return;
  }
  if (!rows) {
    replace(root, loadingBlock());
    return;
  }
  const q = filterInput.value.trim().toLowerCase();
  const shown = q
    ? rows.filter((r) => [r.kind, label('auditkind', r.kind), r.user, r.ip, detailText(r.detail), r.userAgent].some((v) => v && String(v).toLowerCase().includes(q)))
    : rows;
  countEl.textContent = t('audit.count', { shown: shown.length, total: rows.length });
  if (!shown.length) {
    replace(root, emptyBlock(t('audit.empty')));
    return;
  }
  replace(root, h('div.table-wrap',
    h('table#audit-table.table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('audit.col_time')),
        h('th', { scope: 'col' }, t('audit.col_event')),
        h('th', { scope: 'col' }, t('audit.col_user')),
        h('th.hide-mobile', { scope: 'col' }, t('audit.col_ip')),
        h('th', { scope: 'col' }, t('audit.col_detail')))),
      h('tbody', shown.map((r) => {
        const failed = /fail|throttl|forbid|denied|csrf/i.test(String(r.kind || ''));
        return h('tr.audit-row', { dataset: { kind: r.kind || '' } },
          h('td.nowrap', formatCST(r.at, { seconds: true })),
          h('td', h(failed ? 'span.badge.badge-failed' : 'span.badge.badge-published', { title: r.kind || '' }, label('auditkind', r.kind))),
          h('td', r.user || '—'),
          h('td.hide-mobile.mono.small', r.ip || '—'),
          h('td.small.muted',
            detailText(r.detail) ? h('div', detailText(r.detail)) : null,
            r.userAgent ? h('div.ua', { title: r.userAgent }, shortAgent(r.userAgent)) : null,
            !detailText(r.detail) && !r.userAgent ? '—' : null));
      })))));
}

async function load() {
  error = null;
  rows = null;
  render();
  try {
    const data = await get('/api/audit');
    const list = Array.isArray(data) ? data : (data && (data.events || data.entries || data.items)) || [];
    rows = list.map(normalize);
  } catch (e) {
    error = e;
  }
  render();
}

let debounce = null;
filterInput.addEventListener('input', () => {
  clearTimeout(debounce);
  debounce = setTimeout(render, 150);
});
refreshBtn.addEventListener('click', load);
onLangChange(render);

async function main() {
  setPageTitle('audit.title');
  replace(root, loadingBlock());
  const me = await initLayout({ auth: 'required', active: 'audit' });
  if (me && !isSupervisorRole(me.role)) {
    replace(root, banner('warning', t('audit.forbidden')));
    return;
  }
  await load();
}

main();
