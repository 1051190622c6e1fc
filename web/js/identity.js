// The supplier's declaration of who stands behind it (R-COL-7, docs/collusion.md): its
// legal representative and its controlling shareholder or actual controller. Identity
// numbers go to the server once, are checked there (GB 11643) and kept only as keyed
// digests: the form never shows a number back, only the names and a company's code.

import { get, put, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { formatCST } from './format.js';
import { h, replace, banner, busy, toast } from './ui.js';
import { clearFieldErrors, showFieldErrors } from './form-kit.js';

const field = (label, control, name, hint) => h('div.field', { dataset: { field: name } },
  h('label.field-label', { for: control.id }, label), control,
  hint ? h('p.field-hint.small.muted', hint) : null,
  h(`p#${control.id}-error.field-error`, { dataset: { field: name }, 'aria-live': 'polite' }));

/** The card: what is declared, and the form to declare or correct it. */
export async function identityCard(root) {
  const v = await get('/api/suppliers/me/identity');
  const input = (id, attrs) => h(`input#${id}.input`, { type: 'text', ...attrs });
  const repName = input('id-rep-name', { name: 'legal_rep_name', maxlength: 50, value: v.legal_rep_name, autocomplete: 'off' });
  const repId = input('id-rep-id', { name: 'legal_rep_id', maxlength: 20, autocomplete: 'off', placeholder: t('ident.id_placeholder') });
  const kind = h('select#id-ctl-kind.select', { name: 'controller_kind' },
    ['none', 'org', 'person'].map((k) => h('option', { value: k, selected: v.controller_kind === k }, t(`ident.kind.${k}`))));
  const ctlName = input('id-ctl-name', { name: 'controller_name', maxlength: 50, value: v.controller_name });
  const ctlCode = input('id-ctl-code', { name: 'controller_code', maxlength: 20, autocomplete: 'off', value: v.controller_credit_code || '' });
  const ctlFields = h('div.id-controller', field(t('ident.controller_name'), ctlName, 'controller_name'),
    field(t('ident.controller_code'), ctlCode, 'controller_code', t('ident.controller_code_hint')));
  const showController = () => { ctlFields.hidden = kind.value === 'none'; };
  kind.addEventListener('change', showController);
  showController();
  const status = h('div#identity-status', { 'aria-live': 'polite' },
    v.declared ? banner('success', t('ident.declared', { name: v.legal_rep_name, at: formatCST(v.updated_at) })) : banner('warning', t('ident.missing')));
  const submit = h('button#identity-submit.btn.btn-primary', { type: 'submit' }, t('ident.save'));
  const form = h('form#identity-form.form', { novalidate: true },
    field(t('ident.rep_name'), repName, 'legal_rep_name'),
    field(t('ident.rep_id'), repId, 'legal_rep_id', v.declared ? t('ident.rep_id_again') : t('ident.rep_id_hint')),
    field(t('ident.controller_kind'), kind, 'controller_kind'),
    ctlFields,
    h('p.action-bar', submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const done = busy(submit);
    try {
      await put('/api/suppliers/me/identity', {
        legal_rep_name: repName.value, legal_rep_id: repId.value, controller_kind: kind.value,
        controller_name: kind.value === 'none' ? '' : ctlName.value,
        controller_code: kind.value === 'none' ? '' : ctlCode.value,
      });
      toast(t('ident.saved'));
      await identityCard(root);
    } catch (e) {
      if (e instanceof ApiError && e.fields) showFieldErrors(form, e.fields);
      replace(status, banner('error', errorText(e)));
    } finally {
      done();
    }
  });
  replace(root,
    h('div.card-head', h('h2#identity-heading', t('ident.title'))),
    h('p.card-note', t('ident.lead')),
    status, form);
}
