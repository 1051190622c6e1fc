// The user's alerts (docs/alerts.md): deadlines coming, come and missed, newest first,
// each with a link to where it is dealt with; marked read one by one. Refreshed every 30
// seconds while the page is visible; the header's badge follows (layout.js).

import { initLayout, setPageTitle, ALERTS_CHANGED } from '../layout.js';
import { get, post, errorText } from '../api.js';
import { t, label, getLang, onLangChange } from '../i18n.js';
import { formatCST } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, toast } from '../ui.js';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 30_000;

let items = null;
let unreadOnly = new URLSearchParams(location.search).get('unread') === '1';

function title(a) {
  return getLang() === 'en' ? a.title_en : a.title_zh;
}

async function markRead(a, button) {
  button.disabled = true;
  try {
    const v = await post(`/api/alerts/${encodeURIComponent(a.id)}/read`);
    Object.assign(a, v);
    if (unreadOnly) items = items.filter((x) => x.id !== a.id);
    window.dispatchEvent(new Event(ALERTS_CHANGED));
    toast(t('alerts.marked'));
  } catch (e) {
    replace($('alerts-banner'), banner('error', errorText(e)));
  }
  render();
}

function item(a) {
  const read = Boolean(a.read_at);
  const button = read
    ? null
    : h('button.btn.btn-small.mark-read', { type: 'button' }, t('alerts.mark_read'));
  if (button) button.addEventListener('click', () => markRead(a, button));
  return h('li.alert-item', { dataset: { id: a.id, stage: a.stage, read: String(read) } },
    h('div.alert-head',
      h(`span.tag.alert-stage.alert-stage-${a.stage}`, label('alerts.stage', a.stage)),
      h('span.tag.tag-plain', read ? t('alerts.is_read') : t('alerts.is_unread')),
      h('span.muted.small', t('alerts.sent', { at: formatCST(a.created_at) }))),
    h('p.alert-title', h('a', { href: a.link }, title(a))),
    h('div.alert-foot',
      h('span.muted.small', t('alerts.rule', { code: a.rule })),
      h('a.btn.btn-small.btn-ghost', { href: a.link }, t('alerts.open')),
      button));
}

function renderFilter() {
  replace($('alerts-filter'), [['all', false], ['unread_only', true]].map(([key, only]) =>
    h('button.btn.btn-small', {
      type: 'button',
      'aria-pressed': String(only === unreadOnly),
      dataset: { filter: key },
      on: {
        click: () => {
          unreadOnly = only;
          const url = new URL(location.href);
          if (only) url.searchParams.set('unread', '1');
          else url.searchParams.delete('unread');
          history.replaceState(null, '', url);
          items = null;
          renderFilter();
          render();
          load();
        },
      },
    }, t(`alerts.${key}`))));
}

function render() {
  const box = $('alerts');
  if (!items) return replace(box, loadingBlock());
  if (!items.length) {
    return replace(box, unreadOnly
      ? emptyBlock(t('alerts.empty_unread'))
      : emptyBlock(t('alerts.empty'), t('alerts.empty_hint')));
  }
  replace(box, h('ul#alerts-list.alert-list', items.map(item)));
}

async function load() {
  try {
    items = await get(`/api/alerts${unreadOnly ? '?unread=1' : ''}`);
  } catch (e) {
    return replace($('alerts'), errorBlock(errorText(e), load));
  }
  render();
}

async function main() {
  setPageTitle('alerts.title');
  const me = await initLayout({ auth: 'required' });
  if (!me) return;
  renderFilter();
  render();
  await load();
  onLangChange(() => {
    renderFilter();
    render();
  });
  // Live without reloading: new alerts appear within 30 seconds.
  setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);
}

main();
