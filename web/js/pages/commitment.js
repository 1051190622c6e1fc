// The supplier's credit commitment (信用承诺书, R-CRED-1): shown, agreed and signed with
// this device's signing key (made and registered here if the browser has none).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText } from '../api.js';
import { t } from '../i18n.js';
import { formatCST } from '../format.js';
import { h, replace, loadingBlock, banner, busy, param } from '../ui.js';
import { ensureDeviceKeys, sign } from '../crypto/keys.js';
import { utf8, toB64url } from '../crypto/bytes.js';
import { identityCard } from '../identity.js';

const root = document.getElementById('commitment');
const statusEl = document.getElementById('commitment-status');
let me = null;

function render(c) {
  if (c.signed_at) {
    replace(root,
      h('blockquote.commitment-text', c.text),
      banner('success', t('commitment.signed', { at: formatCST(c.signed_at) }), {
        action: h('a.btn.btn-small', { href: '/index.html' }, t('commitment.to_notices')),
      }));
    return;
  }
  const agree = h('input#commitment-agree', { type: 'checkbox' });
  const button = h('button#commitment-sign.btn.btn-primary', { type: 'button', disabled: true }, t('commitment.sign'));
  agree.addEventListener('change', () => { button.disabled = !agree.checked; });
  button.addEventListener('click', async () => {
    const stop = busy(button, t('commitment.signing'));
    try {
      const record = await ensureDeviceKeys(me.id);
      const signature = toB64url(await sign(record, utf8(c.payload)));
      render(await post('/api/suppliers/me/commitment', { key_id: record.signing.keyId, signature }));
    } catch (e) {
      stop();
      replace(statusEl, banner('error', errorText(e)));
    }
  });
  replace(root,
    h('blockquote.commitment-text', c.text),
    h('label.check', agree, ' ', t('commitment.agree')),
    h('p.small.muted', t('commitment.key_note')),
    h('div.form-actions', button));
}

async function main() {
  setPageTitle('commitment.title');
  replace(root, loadingBlock());
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!me) return;
  if (me.role !== 'supplier') {
    replace(root, banner('warning', t('commitment.supplier_only')));
    return;
  }
  if (param('welcome')) replace(statusEl, banner('success', t('commitment.welcome')));
  try {
    render(await get('/api/suppliers/me/commitment'));
  } catch (e) {
    replace(root, banner('error', errorText(e)));
  }
  const identity = document.getElementById('identity');
  try {
    await identityCard(identity);
  } catch (e) {
    replace(identity, banner('error', errorText(e)));
  }
}

main();
