// 密钥分片核验: a custodian (agency, purchaser or finance user) checks the share of a
// tender's opening key that was sealed to them at publication (src/tender/opening_key.rs):
// the share is unsealed with this browser's device key (HPKE, info "kaibiao/KB1/share",
// aad "<tender_id>\n<index>") and checked against the published Feldman commitments
// (crypto/share.js); the share itself never leaves this page.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { h, replace, param, loadingBlock, errorBlock, banner, statusBadge } from '../ui.js';
import { shortHash } from '../format.js';
import { loadDeviceKeys } from '../crypto/keys.js';
import { commitmentPoints, shareMatches, unsealShare } from '../crypto/share.js';
import { keyImportPanel } from '../keyimport.js';
import { wipe } from '../crypto/bytes.js';

const CUSTODIAN_ROLES = ['agency', 'purchaser', 'finance'];

const tenderId = param('tender');
const root = document.getElementById('custodian');
const titleEl = document.getElementById('cust-tender-title');
const crumb = document.getElementById('crumb-tender');
const crumbLink = document.getElementById('crumb-tender-link');

let me = null;
let tender = null;
let share = null;
let record = null;
/** {state: checking | ok | mismatch | no-key | key-mismatch | unseal-failed | error, error?} */
let result = { state: 'checking' };
/** Whether the commitments are well formed and C_0 is the published opening key. */
let commitmentsOk = null;

// ------------------------------------------------------------------ checks --

async function check() {
  result = { state: 'checking' };
  render();
  let points = null;
  try {
    const c = await commitmentPoints(share.opening_key);
    points = c.points;
    commitmentsOk = c.ok;
  } catch (_) {
    commitmentsOk = false;
  }
  try {
    record = await loadDeviceKeys(me.id);
  } catch (_) {
    record = null;
  }
  if (!record) {
    result = { state: 'no-key' };
  } else if (record.encryption.keyId !== share.custodian_key_id) {
    result = { state: 'key-mismatch' };
  } else {
    let value = null;
    try {
      value = await unsealShare(share, record);
    } catch (_) {
      value = null;
    }
    if (!value || value.length !== 32) {
      result = { state: 'unseal-failed' };
    } else {
      try {
        result = { state: points && commitmentsOk && shareMatches(value, share.index, points) ? 'ok' : 'mismatch' };
      } catch (e) {
        result = { state: 'error', error: e };
      } finally {
        wipe(value);
      }
    }
  }
  render();
}

// ------------------------------------------------------------------ view --

function importBlock() {
  if (result.state !== 'no-key' && result.state !== 'key-mismatch') return null;
  return keyImportPanel({ userId: me.id, replace: result.state === 'key-mismatch', onImported: () => check() });
}

function resultBlock() {
  const keyId = share ? shortHash(share.custodian_key_id, 16) : '';
  const local = record ? shortHash(record.encryption.keyId, 16) : '';
  const map = {
    checking: [null, t('cust.checking'), '…'],
    ok: [t('cust.ok_title'), t('cust.ok_text'), '✓'],
    mismatch: [t('cust.bad_title'), t('cust.bad_text'), '✗'],
    'no-key': [t('cust.nokey_title'), t('cust.nokey_text', { id: keyId }), '!'],
    'key-mismatch': [t('cust.nokey_title'), t('cust.mismatch_text', { id: keyId, local }), '!'],
    'unseal-failed': [t('cust.unseal_title'), t('cust.unseal_text'), '✗'],
    error: [t('common.error_title'), result.error ? String(result.error.message || result.error) : '', '✗'],
  };
  const [title, text, icon] = map[result.state] || map.error;
  return h('section#share-status.share-result', {
    dataset: { state: result.state },
    role: result.state === 'checking' ? 'status' : 'alert',
    'aria-live': 'polite',
  },
  h('span.result-icon', { 'aria-hidden': 'true' }, icon),
  h('div',
    title ? h('h2', title) : null,
    h('p', text)));
}

function render() {
  if (!share) return;
  const key = share.opening_key;
  const n = tender && Array.isArray(tender.custodians) && tender.custodians.length ? tender.custodians.length : null;
  const kv = (k, v) => h('div.kv-item', h('dt', t(k)), h('dd', v));
  replace(root,
    resultBlock(),
    importBlock(),
    h('div.layout-2col',
      h('div.main-col',
        h('section.card', { 'aria-labelledby': 'share-heading' },
          h('div.card-head', h('h2#share-heading', t('cust.share'))),
          h('dl.kv',
            kv('cust.index', h('span#share-index', String(share.index))),
            kv('cust.threshold', n ? t('cust.threshold_value', { t: key.threshold, n }) : String(key.threshold)),
            h('div.kv-item.kv-wide', h('dt', t('cust.opening_key')), h('dd', h('span.hash', key.key_id))),
            h('div.kv-item.kv-wide', h('dt', t('cust.share_key')), h('dd', h('span.hash', share.custodian_key_id))),
            h('div.kv-item.kv-wide', h('dt', t('cust.device_key')),
              h('dd', record ? h('span.hash', record.encryption.keyId) : h('span.muted', t('cust.no_device_key')))),
            h('div.kv-item.kv-wide', h('dt', t('cust.commitments')),
              h('dd', commitmentsOk === null
                ? '—'
                : commitmentsOk
                  ? h('span#commitments-ok.hash-ok', `✓ ${t('cust.commitments_ok', { n: (key.commitments || []).length })}`)
                  : h('span#commitments-bad.hash-bad', `✗ ${t('cust.commitments_bad')}`)))),
          h('div.action-bar',
            h('button#share-recheck.btn', { type: 'button', disabled: result.state === 'checking', on: { click: check } }, t('cust.recheck')),
            h('a.btn.btn-ghost', { href: `/tender.html?id=${encodeURIComponent(tenderId)}` }, t('cust.back_tender'))))),
      tender
        ? h('aside.side-col',
          h('section.card', { 'aria-labelledby': 'tender-heading' },
            h('div.card-head', h('h2#tender-heading', t('bid.tender_card'))),
            h('dl.brief',
              h('div', h('dt', t('field.code')), h('dd.mono', tender.code || '—')),
              h('div', h('dt', t('field.status')), h('dd', statusBadge(tender.status))),
              h('div', h('dt', t('field.purchaser')), h('dd', tender.purchaser_name || '—'))),
            Array.isArray(tender.custodians) && tender.custodians.length
              ? h('ol.custodian-list', tender.custodians.map((c) => h('li',
                c.user_id === me.id ? h('strong', c.display_name) : c.display_name,
                h('span.muted.small', ` · ${label('role', c.role)}`))))
              : null))
        : null));
}

function renderTitle() {
  if (!tender) return;
  titleEl.textContent = tender.title || '';
  crumb.hidden = false;
  crumbLink.textContent = tender.code || tender.title || '';
  crumbLink.href = `/tender.html?id=${encodeURIComponent(tenderId)}`;
  setPageTitle(() => `${t('cust.title')} · ${tender.title || ''}`);
}

async function load() {
  replace(root, loadingBlock());
  try {
    const [x, s] = await Promise.all([
      get(`/api/tenders/${encodeURIComponent(tenderId)}`).catch(() => null),
      get(`/api/tenders/${encodeURIComponent(tenderId)}/my-share`),
    ]);
    tender = x && x.tender ? { ...x.tender, ...x } : x;
    share = s;
  } catch (e) {
    const notMine = e instanceof ApiError && (e.status === 404 || e.status === 403);
    replace(root, notMine ? banner('warning', t('cust.not_custodian')) : errorBlock(errorText(e), load),
      h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  renderTitle();
  await check();
}

onLangChange(() => {
  renderTitle();
  render();
});

async function main() {
  setPageTitle('cust.title');
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!tenderId) {
    replace(root, errorBlock(t('common.missing_id')), h('p', h('a.btn', { href: '/dashboard.html' }, t('nav.dashboard'))));
    return;
  }
  if (!me || !CUSTODIAN_ROLES.includes(me.role)) {
    replace(root, banner('warning', t('cust.roles_only')));
    return;
  }
  await load();
}

main();
