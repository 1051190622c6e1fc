// Single-source notices (GET /api/single-source-notices): what, why, the one supplier and
// until when objections are taken; a supplier objects during the publicity (R-METH-1).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatMoney, formatCST, serverNow } from '../format.js';
import { h, replace, loadingBlock, emptyBlock, errorBlock, banner, toast, openDialog, countdown, startCountdowns } from '../ui.js';

const root = document.getElementById('notices');
let me = null;
let items = null;

function notice(n) {
  const open = n.status === 'publicising' && n.publicity_ends_at > serverNow();
  return h('li.intention.sole-notice', { dataset: { id: n.id, status: n.status } },
    h('div.announcement-tags', h('span.tag', label('approvalstatus', n.status)), h('span.tag.tag-plain', label('method', n.method))),
    h('h3.intention-title', n.plan_title),
    h('p.intention-text', n.reasons),
    h('dl.announcement-meta',
      h('div', h('dt', t('intentions.unit')), h('dd', n.org_name)),
      h('div', h('dt', t('intentions.budget')), h('dd', formatMoney(n.amount_fen))),
      h('div', h('dt', t('sole.supplier')), h('dd.sole-supplier', `${n.sole_supplier_name}（${n.sole_supplier_code}）`)),
      h('div', h('dt', t('sole.ends')), h('dd', formatCST(n.publicity_ends_at), ' ',
        open ? countdown(n.publicity_ends_at, { format: 'sole.ends_in', done: 'sole.over' }) : null))),
    open && me && me.role === 'supplier'
      ? h('button.btn.btn-small.object-btn', { type: 'button', on: { click: () => object(n) } }, t('sole.object'))
      : null);
}

function render() {
  if (!items) return replace(root, loadingBlock());
  if (!items.length) return replace(root, emptyBlock(t('sole.empty')));
  replace(root, h('ul.intention-list', items.map(notice)));
  startCountdowns();
}

async function object(n) {
  const text = await openDialog({
    title: t('sole.object'),
    message: t('sole.object_note', { title: n.plan_title }),
    okText: t('sole.object_send'),
    input: { label: t('sole.object_text'), maxlength: 4000 },
  });
  if (!text) return;
  try {
    await post(`/api/approvals/${encodeURIComponent(n.id)}/objections`, { text });
    toast(t('sole.object_sent'));
  } catch (e) {
    replace(document.getElementById('sole-banner'), banner('error', errorText(e)));
  }
}

async function load() {
  try {
    items = await get('/api/single-source-notices');
    render();
  } catch (e) {
    replace(root, errorBlock(errorText(e), load));
  }
}

async function main() {
  setPageTitle('sole.title');
  me = await initLayout({ auth: 'optional', active: 'announcements' });
  render();
  await load();
  onLangChange(render);
}

main();
