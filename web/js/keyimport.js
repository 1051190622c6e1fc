// The key-file import panel (导入密钥文件): shown wherever a page needs device keys this
// browser does not hold — the bid page, the custodian's share check, the opening hall.
// It opens a kaibiao key file with its passphrase (crypto/keyfile.js), checks it against
// the user's registered keys and stores the keys non-extractable in this browser.

import { t } from './i18n.js';
import { h, replace, banner, busy } from './ui.js';
import { errorText } from './api.js';
import { importKeyFile, KeyFileError } from './crypto/keyfile.js';

let uid = 0;

/** The message for a failed import, in the UI language. */
export function keyFileErrorText(e) {
  if (e instanceof KeyFileError) return t(`kf.err.${e.code}`);
  return errorText(e);
}

/**
 * keyImportPanel({userId, replace, onImported(record), compact}) → an element.
 * `replace`: overwrite keys this browser holds for the user (after the page asked).
 */
export function keyImportPanel({ userId, replace: replaceKeys = false, onImported, compact = false } = {}) {
  const n = ++uid;
  const fileId = `keyfile-${n}`;
  const passId = `keyfile-pass-${n}`;
  const fileInput = h(`input#${fileId}.input.keyfile-file`, { type: 'file', accept: '.kbkey,.json,application/json', 'aria-describedby': `keyfile-hint-${n}` });
  const passInput = h(`input#${passId}.input.keyfile-pass`, { type: 'password', autocomplete: 'current-password' });
  const status = h('div.keyfile-status', { 'aria-live': 'polite' });
  const progress = h('progress.keyfile-progress', { max: 1, value: 0, hidden: true });
  const submit = h('button.btn.btn-primary.keyfile-submit', { type: 'submit' }, t('kf.import'));

  const form = h('form.keyfile-form', {
    on: {
      submit: async (ev) => {
        ev.preventDefault();
        replace(status);
        const file = fileInput.files && fileInput.files[0];
        if (!file) {
          replace(status, banner('error', t('kf.err.no_file')));
          fileInput.focus();
          return;
        }
        if (!passInput.value) {
          replace(status, banner('error', t('kf.err.no_pass')));
          passInput.focus();
          return;
        }
        const restore = busy(submit, t('kf.importing'));
        progress.hidden = false;
        progress.value = 0;
        try {
          const text = await file.text();
          const record = await importKeyFile(text, passInput.value, userId, {
            replace: replaceKeys,
            onProgress: (f) => {
              progress.value = f;
            },
          });
          passInput.value = '';
          replace(status, banner('success', t('kf.done')));
          if (onImported) onImported(record);
        } catch (e) {
          replace(status, banner('error', keyFileErrorText(e)));
          if (e instanceof KeyFileError && e.code === 'KEYFILE_PASSPHRASE') passInput.select();
        } finally {
          progress.hidden = true;
          restore();
        }
      },
    },
  },
  h('div.keyfile-fields',
    h('div.field',
      h('label.field-label', { for: fileId }, t('kf.file')),
      fileInput),
    h('div.field',
      h('label.field-label', { for: passId }, t('kf.passphrase')),
      passInput)),
  h(`p#keyfile-hint-${n}.field-hint.small.muted`, t('kf.hint')),
  h('div.action-bar', submit, progress),
  status);

  return h('section.keyfile-panel', { class: compact ? 'is-compact' : '', dataset: { keyfile: 'panel' } },
    h('h3.keyfile-title', t('kf.title')),
    compact ? null : h('p.small', t('kf.lead')),
    form);
}
