// The public list of procurement intentions (GET /api/intentions): what each unit plans to
// buy, its budget and the month it expects to start (R-PLAN-1).

import { initLayout, setPageTitle } from '../layout.js';
import { get, withQuery, errorText } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatMoney, formatCST } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock } from '../ui.js';

const root = document.getElementById('intentions');
const qInput = document.getElementById('intentions-q');
const countEl = document.getElementById('intentions-count');

let items = null;
let seq = 0;

function render() {
  if (!items) return;
  countEl.textContent = t('intentions.count', { n: items.length });
  if (!items.length) {
    replace(root, emptyBlock(t('intentions.empty')));
    return;
  }
  replace(root, h('ul.intention-list', items.map((i) =>
    h('li.intention', { dataset: { id: i.id } },
      h('div.announcement-tags', h('span.tag.tag-plain', label('category', i.category))),
      h('h3.intention-title', i.title),
      h('p.intention-text', i.description),
      h('dl.announcement-meta',
        h('div', h('dt', t('intentions.unit')), h('dd', i.org_name)),
        h('div', h('dt', t('intentions.budget')), h('dd.intention-budget', formatMoney(i.budget_fen))),
        h('div', h('dt', t('intentions.month')), h('dd', i.expected_month)),
        h('div', h('dt', t('intentions.published')), h('dd', formatCST(i.published_at))),
        i.announcements && i.announcements.length
          ? h('div.intention-announcements', h('dt', t('intentions.announcements')),
            h('dd', i.announcements.map((a) =>
              h('a.intention-announcement', { href: `/announcement.html?id=${encodeURIComponent(a.id)}` }, `${a.code} ${a.title}`))))
          : null)))));
}

async function load() {
  const mine = ++seq;
  if (!items) replace(root, loadingBlock());
  try {
    const data = await get(withQuery('/api/intentions', { q: qInput.value.trim() }));
    if (mine !== seq) return;
    items = data;
    render();
  } catch (e) {
    if (mine === seq) replace(root, errorBlock(errorText(e), load));
  }
}

let debounce = null;
qInput.addEventListener('input', () => {
  clearTimeout(debounce);
  debounce = setTimeout(load, 250);
});
onLangChange(render);

async function main() {
  setPageTitle('intentions.title');
  await initLayout({ auth: 'optional', active: 'announcements' });
  await load();
}

main();
