// 采购公告 list: search, region and category filters, live countdowns.

import { initLayout, setPageTitle } from '../layout.js';
import { get, withQuery, errorText } from '../api.js';
import { t, label, onLangChange, getLang } from '../i18n.js';
import { formatMoney, formatCST, serverNow } from '../format.js';
import { h, replace, clear, loadingBlock, emptyBlock, errorBlock, statusBadge, countdown, startCountdowns } from '../ui.js';
import { budgetTotal, schedule, regionName, purchaserName } from '../tenders.js';

const form = document.getElementById('filters');
const qInput = document.getElementById('q');
const regionSel = document.getElementById('filter-region');
const categorySel = document.getElementById('filter-category');
const listEl = document.getElementById('announcements');
const statusEl = document.getElementById('list-status');
const metaEl = document.getElementById('list-meta');

let regions = [];
let items = [];
let loadSeq = 0;

function readUrl() {
  const p = new URLSearchParams(location.search);
  qInput.value = p.get('q') || '';
  categorySel.value = p.get('category') || '';
  return p.get('region') || '';
}

function writeUrl() {
  const url = withQuery(location.pathname, { q: qInput.value.trim(), region: regionSel.value, category: categorySel.value });
  history.replaceState(null, '', url);
}

function fillRegions(selected) {
  const keep = selected ?? regionSel.value;
  const first = regionSel.options[0];
  clear(regionSel);
  regionSel.append(first);
  for (const r of regions) {
    regionSel.append(h('option', { value: r.code }, getLang() === 'en' ? r.name_en || r.name_zh : r.name_zh));
  }
  regionSel.value = keep;
  if (regionSel.value !== keep) regionSel.value = '';
}

function card(a) {
  const s = schedule(a);
  const total = budgetTotal(a);
  const open = a.status === 'published' && s.bid_deadline !== null && s.bid_deadline > serverNow();
  const closed = !open;
  const href = `/announcement.html?id=${encodeURIComponent(a.id)}`;
  const meta = [
    ['field.code', a.code],
    ['field.region', regionName(a, regions)],
    ['field.purchaser', purchaserName(a)],
  ];
  return h('li.announcement', { class: closed ? 'is-closed' : '', dataset: { id: a.id } },
    h('div.announcement-main',
      h('div.announcement-tags',
        statusBadge(a.status),
        a.method ? h('span.tag', label('method', a.method)) : null,
        a.category ? h('span.tag.tag-plain', label('category', a.category)) : null),
      h('h3.announcement-title', h('a', { href }, a.title || '—')),
      h('dl.announcement-meta', meta.filter(([, v]) => v).map(([k, v]) =>
        h('div', h('dt', t(k)), h('dd', v))))),
    h('div.announcement-side',
      h('span.side-label', t('field.budget_total')),
      h('span.side-budget', total !== null ? formatMoney(total) : '—'),
      h('span.side-deadline', `${t('field.deadline')} ${formatCST(s.bid_deadline)}`),
      open
        ? countdown(s.bid_deadline, { format: 'list.opens_in', done: 'list.closed', className: 'side-countdown' })
        : h('span.countdown.side-countdown.is-past', a.status === 'published' || a.status === 'sealed' ? t('list.closed') : label('status', a.status))));
}

function render() {
  clear(statusEl);
  clear(listEl);
  if (!items.length) {
    clear(metaEl);
    const filtered = qInput.value.trim() || regionSel.value || categorySel.value;
    statusEl.append(emptyBlock(t('list.empty'), filtered ? t('list.empty_hint') : null,
      filtered ? h('button.btn', { type: 'button', on: { click: resetFilters } }, t('list.reset')) : null));
    return;
  }
  replace(metaEl, h('span#list-count', t('list.count', { n: items.length })), h('span.muted.small', t('list.times_note')));
  for (const a of items) listEl.append(card(a));
  startCountdowns();
}

function resetFilters() {
  qInput.value = '';
  regionSel.value = '';
  categorySel.value = '';
  load();
}

async function load() {
  const seq = ++loadSeq;
  writeUrl();
  listEl.setAttribute('aria-busy', 'true');
  if (!items.length) replace(statusEl, loadingBlock());
  try {
    const data = await get(withQuery('/api/announcements', {
      q: qInput.value.trim(),
      region: regionSel.value,
      category: categorySel.value,
    }));
    if (seq !== loadSeq) return;
    items = Array.isArray(data) ? data : (data && (data.items || data.announcements)) || [];
    render();
  } catch (e) {
    if (seq !== loadSeq) return;
    items = [];
    clear(listEl);
    clear(metaEl);
    replace(statusEl, errorBlock(errorText(e), load));
  } finally {
    if (seq === loadSeq) listEl.removeAttribute('aria-busy');
  }
}

async function loadRegions(selected) {
  try {
    const data = await get('/api/regions');
    regions = Array.isArray(data) ? data : [];
  } catch (_) {
    regions = [];
  }
  fillRegions(selected);
}

let debounce = null;
qInput.addEventListener('input', () => {
  clearTimeout(debounce);
  debounce = setTimeout(load, 350);
});
form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  clearTimeout(debounce);
  load();
});
regionSel.addEventListener('change', load);
categorySel.addEventListener('change', load);

onLangChange(() => {
  fillRegions();
  if (items.length) render();
  else if (!statusEl.querySelector('.state-loading')) render();
});

async function main() {
  setPageTitle('list.title');
  const regionFromUrl = readUrl();
  const layout = initLayout({ active: 'announcements' });
  // Regions first so the region filter from the URL is known before loading.
  await loadRegions(regionFromUrl);
  await Promise.all([layout, load()]);
}

main();
