// A framework agreement (docs/framework.md): the agency admits the first of the ranking
// once the tender is awarded; the purchaser places call-offs — direct selection, rotation
// or secondary competition — and every member sees the agreement and its orders (an
// admitted supplier its own).

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatMoney, parseYuanToFen, toCSTInputValue, parseCSTInputValue, serverNow } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast } from '../ui.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const DAY = 86_400_000;
const path = `/api/tenders/${encodeURIComponent(tenderId)}/framework`;

let me = null;
let tender = null;
let fw = null;
let establishForm = null;
let callOffForm = null;

const isAgency = () => me && me.role === 'agency' && tender && me.org && tender.agency_org_id === me.org.id;
const isPurchaser = () => me && me.role === 'purchaser' && tender && me.org && tender.purchaser_org_id === me.org.id;
const nameOf = (org) => (fw.admitted.find((a) => a.org_id === org) || {}).name || org;

async function refetch() {
  fw = await get(path);
  renderAll();
}

async function send(cmd, button) {
  const done = busy(button);
  try {
    await post(path, cmd);
    toast(t('fw.saved'));
    establishForm = null;
    callOffForm = null;
    await refetch();
  } catch (e) {
    showBanner($('fw-alert'), 'error', errorText(e));
  } finally {
    done();
  }
}

function renderSummary() {
  replace($('fw-summary'), h('div.card-head', h('h2#fw-summary-heading', t('fw.summary'))),
    h('dl.kv',
      h('div.kv-item', h('dt', t('fw.status')), h('dd#fw-status', t(fw.established ? 'fw.established' : 'fw.not_established'))),
      fw.valid_until ? h('div.kv-item', h('dt', t('fw.valid_until')), h('dd', formatCST(fw.valid_until))) : null,
      fw.next_in_rotation ? h('div.kv-item', h('dt', t('fw.next')), h('dd#fw-next', nameOf(fw.next_in_rotation))) : null));
}

function renderAdmitted() {
  replace($('fw-admitted'), h('div.card-head', h('h2#fw-admitted-heading', t('fw.admitted'))),
    fw.admitted.length
      ? h('table#fw-admitted-table.table', h('thead', h('tr', ['rank', 'supplier', 'price'].map((c) => h('th', t(`fw.col.${c}`))))),
        h('tbody', fw.admitted.map((a) => h('tr', h('td', a.rank), h('td', a.name), h('td.num', formatMoney(a.price_fen))))))
      : h('p.muted', t('fw.none_admitted')));
}

function establishCard() {
  if (!establishForm) {
    const count = h('input', { name: 'admitted', id: 'fw-count', type: 'number', min: 2, value: 3 });
    const until = h('input', { name: 'valid_until', id: 'fw-until', type: 'datetime-local', value: toCSTInputValue(serverNow() + 365 * DAY) });
    const submit = h('button#fw-establish.btn.btn-primary', { type: 'submit' }, t('fw.establish'));
    establishForm = h('form#fw-establish-form.stack',
      h('label', { for: 'fw-count' }, t('fw.count')), count,
      h('label', { for: 'fw-until' }, t('fw.valid_until')), until,
      h('p.small.muted', t('fw.count_hint')), submit);
    establishForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send({ type: 'establish', admitted: Number(count.value), valid_until: parseCSTInputValue(until.value) }, submit);
    });
  }
  return h('section#fw-establish-card.card', h('div.card-head', h('h2', t('fw.establish'))), establishForm);
}

function callOffCard() {
  if (!callOffForm) {
    const mode = h('select', { name: 'mode', id: 'fw-mode' }, ['direct', 'rotation', 'competition'].map((m) => h('option', { value: m }, t(`fw.mode.${m}`))));
    const org = h('select', { name: 'org_id', id: 'fw-org' }, fw.admitted.map((a) => h('option', { value: a.org_id }, a.name)));
    const amount = h('input', { name: 'amount', id: 'fw-amount', inputmode: 'decimal' });
    const description = h('textarea', { name: 'description', id: 'fw-description', rows: 2, maxlength: 2000 });
    const quotes = h('div#fw-quotes.stack', fw.admitted.map((a) => h('label', a.name, ' ',
      h('input.fw-quote', { dataset: { org: a.org_id }, inputmode: 'decimal', placeholder: t('fw.quote') }))));
    const orgField = h('div', h('label', { for: 'fw-org' }, t('fw.col.supplier')), org);
    const amountField = h('div', h('label', { for: 'fw-amount' }, t('fw.amount')), amount);
    const sync = () => {
      orgField.hidden = mode.value !== 'direct';
      amountField.hidden = mode.value === 'competition';
      quotes.hidden = mode.value !== 'competition';
    };
    mode.addEventListener('change', sync);
    sync();
    const submit = h('button#fw-call-off.btn.btn-primary', { type: 'submit' }, t('fw.call_off'));
    callOffForm = h('form#fw-call-off-form.stack',
      h('label', { for: 'fw-mode' }, t('fw.mode')), mode, orgField, amountField,
      h('label', { for: 'fw-description' }, t('fw.description')), description, quotes, submit);
    callOffForm.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const cmd = { type: 'call_off', mode: mode.value, description: description.value };
      if (mode.value === 'competition') {
        cmd.quotes = [...quotes.querySelectorAll('.fw-quote')]
          .filter((i) => i.value.trim())
          .map((i) => ({ org_id: i.dataset.org, price_fen: parseYuanToFen(i.value).fen }));
      } else {
        const r = parseYuanToFen(amount.value);
        if (!r.ok) return showBanner($('fw-alert'), 'error', `${t('fw.amount')}: ${t(r.error)}`);
        cmd.amount_fen = r.fen;
        if (mode.value === 'direct') cmd.org_id = org.value;
      }
      send(cmd, submit);
    });
  }
  return h('section#fw-call-off-card.card', h('div.card-head', h('h2', t('fw.call_off'))), callOffForm);
}

function renderActions() {
  replace($('fw-actions'),
    isAgency() && !fw.established ? establishCard() : null,
    isPurchaser() && fw.established ? callOffCard() : null);
}

function renderCallOffs() {
  replace($('fw-call-offs'), h('div.card-head', h('h2#fw-call-offs-heading', t('fw.call_offs'))),
    fw.call_offs.length
      ? h('table#fw-call-off-table.table', h('thead', h('tr', ['no', 'mode', 'supplier', 'amount', 'description', 'at'].map((c) => h('th', t(`fw.col.${c}`))))),
        h('tbody', fw.call_offs.map((c) => h('tr', { dataset: { mode: c.mode } },
          h('td', c.call_off_no), h('td', t(`fw.mode.${c.mode}`)), h('td', c.name), h('td.num', formatMoney(c.amount_fen)),
          h('td', c.description), h('td.small', formatCST(c.placed_at))))))
      : h('p.muted', t('fw.no_call_offs')));
}

function renderAll() {
  renderSummary();
  renderAdmitted();
  renderActions();
  renderCallOffs();
}

async function main() {
  setPageTitle('fw.title');
  me = await initLayout({ auth: 'required', active: 'dashboard' });
  if (!me) return;
  if (!tenderId) return replace($('fw-alert'), errorBlock(t('common.missing_id')));
  replace($('fw-loading'), loadingBlock());
  try {
    const [t0, f] = await Promise.all([
      get(`/api/tenders/${encodeURIComponent(tenderId)}`).catch(() => null),
      get(path),
    ]);
    tender = t0;
    fw = f;
  } catch (e) {
    clear($('fw-loading'));
    const notMine = e instanceof ApiError && (e.status === 403 || e.status === 404);
    return replace($('fw-alert'), notMine ? banner('warning', t('fw.not_member')) : errorBlock(errorText(e), () => location.reload()));
  }
  clear($('fw-loading'));
  if (tender) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = tender.code || tender.title;
    $('crumb-tender-link').href = `/tender.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('fw-page').hidden = false;
  renderAll();
  onLangChange(() => {
    establishForm = null;
    callOffForm = null;
    renderAll();
  });
}

main();
