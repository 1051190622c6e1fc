// The contracts of a tender (docs/contracts.md): the purchaser drafts them from the award
// letters, publishes and files them; each party signs its contract on its device (the
// document's digest, crypto/keys.js); anyone reads a published contract; every signed
// contract downloads as JSON for `kaibiao verify`.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatDeadline, formatMoney, shortHash } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast } from '../ui.js';
import { keyImportPanel } from '../keyimport.js';
import { clearFieldErrors, showFieldErrors } from '../form-kit.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { toB64url, utf8 } from '../crypto/bytes.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const path = `/api/tenders/${encodeURIComponent(tenderId)}/contracts`;

let me = null;
let st = null;
let keys = null;
let keyPanelEl = null;

async function refetch() {
  st = await get(path);
  renderAll();
}

async function send(cmd, button) {
  const done = busy(button);
  try {
    await post(path, cmd);
    toast(t('con.saved'));
    await refetch();
  } catch (e) {
    showBanner($('con-alert'), 'error', errorText(e));
  } finally {
    done();
  }
}

function button(id, label, cmd) {
  const b = h(`button#${id}.btn.btn-primary`, { type: 'button' }, label);
  b.addEventListener('click', async () => send(await cmd(), b));
  return b;
}

function keyPanel() {
  if (!keyPanelEl) {
    keyPanelEl = keyImportPanel({
      userId: me.id,
      onImported: (r) => {
        keys = r;
        keyPanelEl = null;
        renderAll();
      },
    });
  }
  return h('div.con-keys', h('p.small.muted', t('con.keys_needed')), keyPanelEl);
}

const kv = (dt, dd) => h('div.kv-item', h('dt', dt), h('dd', dd));

const WHENS = ['on_signing', 'on_delivery', 'on_acceptance'];

/** The purchaser's adjustment of what the tender leaves open, before any signature. */
function adjustForm(c) {
  const terms = c.document.terms;
  const id = `con-adjust-${c.lot_no}`;
  const input = (suffix, attrs) => h(`input#${id}-${suffix}.input`, attrs);
  const days = input('days', { type: 'number', name: 'payment_days', min: 1, max: c.document.sme ? 60 : 90, value: terms.payment_days });
  const shares = WHENS.map((w) => {
    const found = terms.instalments.find((i) => i.when === w);
    return input(w, { type: 'number', name: w, min: 0, max: 100, step: 1, value: found ? found.share_bp / 100 : 0 });
  });
  const place = input('place', { type: 'text', name: 'delivery_place', maxlength: 200, value: terms.delivery_place });
  const experts = input('experts', { type: 'number', name: 'acceptance_experts', min: 0, max: 5, step: 1, value: terms.acceptance_experts || 0 });
  const special = h(`textarea#${id}-special.input`, { name: 'special_terms', rows: 3, maxlength: 5000 }, terms.special_terms);
  const submit = h(`button#${id}-submit.btn`, { type: 'submit' }, t('con.adjust'));
  const row = (label, control, name) => h('div.field', { dataset: { field: name } },
    h('label.field-label', { for: control.id }, label), control,
    h(`p#${control.id}-error.field-error`, { dataset: { field: name }, 'aria-live': 'polite' }));
  const form = h(`form#${id}.con-adjust`, { novalidate: true },
    h('h4', t('con.adjust_title')), h('p.small.muted', t(c.document.sme ? 'con.adjust_hint_sme' : 'con.adjust_hint')),
    row(t('con.payment_days_label'), days, 'payment_days'),
    h('div.field', { dataset: { field: 'instalments' } }, h('span.field-label', t('con.instalments')),
      h('div.con-shares', WHENS.map((w, i) => h('label', t(`con.when.${w}`), ' ', shares[i], ' %'))),
      h(`p#${id}-instalments-error.field-error`, { dataset: { field: 'instalments' }, 'aria-live': 'polite' })),
    row(t('con.delivery_place'), place, 'delivery_place'),
    row(t('con.acceptance_experts'), experts, 'acceptance_experts'),
    row(t('con.special_terms'), special, 'special_terms'),
    h('p.action-bar', submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearFieldErrors(form);
    const instalments = WHENS.map((w, i) => ({ when: w, share_bp: Math.round(Number(shares[i].value || 0) * 100) }))
      .filter((i) => i.share_bp > 0);
    const done = busy(submit);
    try {
      await post(path, { type: 'adjust', contract_id: c.id, terms: {
        payment_days: Number(days.value), instalments, delivery_place: place.value, special_terms: special.value,
        acceptance_experts: Number(experts.value || 0),
      } });
      toast(t('con.saved'));
      await refetch();
    } catch (e) {
      if (e instanceof ApiError && e.fields) showFieldErrors(form, e.fields, { 'terms.payment_days': 'payment_days' });
      showBanner($('con-alert'), 'error', errorText(e));
    } finally {
      done();
    }
  });
  return form;
}

function contractCard(c) {
  const d = c.document;
  const signedBy = (party) => c.signatures.find((s) => s.party === party);
  const actions = [];
  if (c.my_payload && !st.blocked) {
    actions.push(keys
      ? button(`con-sign-${c.lot_no}`, t('con.sign'), async () => ({
        type: 'sign', contract_id: c.id, key_id: keys.signing.keyId,
        signature: toB64url(await sign(keys, utf8(c.my_payload))),
      }))
      : keyPanel());
  }
  if (st.purchaser && c.status === 'signed' && !c.published_at) {
    actions.push(button(`con-publish-${c.lot_no}`, t('con.publish'), () => ({ type: 'publish', contract_id: c.id })));
  }
  if (st.purchaser && c.status === 'signed' && !c.filed_at) {
    actions.push(button(`con-file-${c.lot_no}`, t('con.file'), () => ({ type: 'file', contract_id: c.id })));
  }
  actions.push(h(`a#con-text-${c.lot_no}.btn`, { href: `/contract.html?tender=${encodeURIComponent(tenderId)}&lot=${c.lot_no}` }, t('con.text_link')));
  if (c.status === 'signed') {
    actions.push(h(`a#con-bundle-${c.lot_no}.btn`, { href: `/api/contracts/${encodeURIComponent(c.id)}/bundle`, download: `contract-${d.contract_no}.json` }, t('con.download')));
  }
  return h('section.con-contract', { id: `con-${c.lot_no}`, dataset: { status: c.status } },
    h('h3', `${d.contract_no} · ${d.lot.name}`),
    h('dl.kv',
      kv(t('con.purchaser'), d.purchaser.name),
      kv(t('con.supplier'), d.supplier.name),
      kv(t('con.price'), [formatMoney(d.price_fen), ' ', h('span.words', { lang: 'zh-CN' }, d.price_words)]),
      kv(t('con.delivery'), t('con.days', { n: d.delivery_days })),
      kv(t('con.payment'), t('con.payment_days', { n: d.terms.payment_days })),
      kv(t('con.instalments'), d.terms.instalments.map((i) => `${t(`con.when.${i.when}`)} ${i.share_bp / 100}%`).join('；')),
      d.terms.delivery_place ? kv(t('con.delivery_place'), d.terms.delivery_place) : null,
      d.terms.acceptance_experts ? kv(t('con.acceptance_experts'), String(d.terms.acceptance_experts)) : null,
      kv(t('con.status'), t(`con.status.${c.status}`)),
      kv(t('con.signed_purchaser'), signedBy('purchaser') ? formatCST(signedBy('purchaser').at) : '—'),
      kv(t('con.signed_supplier'), signedBy('supplier') ? formatCST(signedBy('supplier').at) : '—'),
      c.signed_at ? null : kv(t('con.sign_due'), formatDeadline(c.sign_due_at)),
      c.signed_at ? kv(t('con.published'), c.published_at ? formatCST(c.published_at) : t('con.due_by', { due: formatDeadline(c.publish_due_at) })) : null,
      c.signed_at ? kv(t('con.filed'), c.filed_at ? formatCST(c.filed_at) : t('con.due_by', { due: formatDeadline(c.file_due_at) })) : null,
      kv('SHA-256', h('span.hash', { title: c.document_sha256 }, shortHash(c.document_sha256)))),
    actions.length ? h('p.action-bar', actions) : null,
    st.purchaser && c.status === 'draft' && !c.signatures.length ? adjustForm(c) : null);
}

function renderAll() {
  replace($('con-actions'),
    st.blocked ? banner('warning', t('con.blocked')) : null,
    st.may_draft ? h('section.card', h('p', t('con.draft_hint')), button('con-draft', t('con.draft'), () => ({ type: 'draft' }))) : null,
    st.contracts.some((c) => c.status === 'signed')
      ? h('p.action-bar', h('a#con-fulfilment-link.btn', { href: `/fulfilment.html?tender=${encodeURIComponent(tenderId)}` }, t('ful.link')))
      : null);
  replace($('con-list'), h('div.card-head', h('h2#con-list-heading', t('con.title'))),
    st.contracts.length ? h('div.stack', st.contracts.map(contractCard)) : h('p.muted#con-none', t('con.none')));
}

async function main() {
  setPageTitle('con.title');
  me = await initLayout({ auth: 'optional', active: 'announcements' });
  if (!tenderId) return replace($('con-alert'), errorBlock(t('common.missing_id')));
  replace($('con-loading'), loadingBlock());
  let a = null;
  try {
    [a, st] = await Promise.all([
      get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null),
      get(path),
    ]);
  } catch (e) {
    clear($('con-loading'));
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('con-alert'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  if (me && (me.role === 'supplier' || me.role === 'purchaser')) {
    try {
      keys = await loadDeviceKeys(me.id);
    } catch (_) {
      keys = null;
    }
  }
  clear($('con-loading'));
  const ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  if (ann) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = ann.code || ann.title;
    $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('con-page').hidden = false;
  renderAll();
  onLangChange(() => {
    keyPanelEl = null;
    renderAll();
  });
}

main();
