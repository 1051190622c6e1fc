// Four-party credit ratings (docs/ratings.md). With ?tender=…: what the user's party
// rates on the tender's accepted contracts, each criterion 1–5 and a comment, once; the
// supervisors also read every rating given. Always: the aggregates the user may read —
// its own organisation's (or its own, for an expert), every one for the supervisors.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, getLang, onLangChange } from '../i18n.js';
import { formatCST } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast } from '../ui.js';
import { clearFieldErrors, showFieldErrors } from '../form-kit.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const path = tenderId ? `/api/tenders/${encodeURIComponent(tenderId)}/ratings` : null;

let me = null;
let st = null;
let summaries = [];

async function load() {
  [summaries, st] = await Promise.all([get('/api/ratings'), path ? get(path) : null]);
}

const score = (centi) => (centi / 100).toFixed(2);
const label = (c) => (getLang() === 'en' ? c.en : c.zh);

function rateForm(r, i) {
  const id = `rat-form-${i}`;
  const selects = r.criteria.map((c) => {
    const sel = h(`select#${id}-${c.key}.input`, { name: c.key },
      [5, 4, 3, 2, 1].map((n) => h('option', { value: String(n) }, t('rat.points', { n }))));
    return h('div.rat-criterion', h('label.field-label', { for: sel.id }, label(c)), sel);
  });
  const comment = h(`textarea#${id}-comment.input`, { name: 'comment', rows: 2, maxlength: 1000, placeholder: t('rat.comment_hint') });
  const submit = h(`button#${id}-submit.btn.btn-primary`, { type: 'submit' }, t('rat.submit'));
  const form = h(`form#${id}.rat-form`, { novalidate: true },
    h('div.rat-criteria', selects),
    h('div.field', { dataset: { field: 'comment' } }, h('label.field-label', { for: comment.id }, t('rat.comment')), comment,
      h(`p#${id}-comment-error.field-error`, { dataset: { field: 'comment' }, 'aria-live': 'polite' })),
    h(`p#${id}-scores-error.field-error`, { dataset: { field: 'scores' }, 'aria-live': 'polite' }),
    h('p.action-bar', submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const scores = Object.fromEntries(r.criteria.map((c) => [c.key, Number(form.elements[c.key].value)]));
    const done = busy(submit);
    clearFieldErrors(form);
    try {
      await post(path, { type: 'rate', contract_id: r.contract_id, ratee_party: r.ratee_party, ratee: r.ratee, scores, comment: comment.value });
      toast(t('rat.saved'));
      await load();
      renderAll();
    } catch (e) {
      if (e instanceof ApiError && e.fields) showFieldErrors(form, e.fields);
      showBanner($('rat-alert'), 'error', errorText(e));
    } finally {
      done();
    }
  });
  return form;
}

function givenBlock(r) {
  const g = r.given;
  return h('div.rat-given',
    h('p', h('strong', t('rat.given_at', { at: formatCST(g.rated_at) })), ' ', t('rat.mean', { s: score(g.mean_centi) })),
    h('ul', r.criteria.map((c) => h('li', `${label(c)}：${t('rat.points', { n: g.scores[c.key] })}`))),
    g.comment ? h('p.rat-comment', g.comment) : null);
}

function toRateCard(r, i) {
  return h('section.card.rat-card', { id: `rat-${i}`, dataset: { party: r.ratee_party, given: String(Boolean(r.given)) } },
    h('div.card-head', h('h3', `${t(`rat.party.${r.ratee_party}`)} · ${r.ratee_name}`)),
    h('p.small.muted', `${t('rat.contract')} ${r.contract_no}`),
    r.given ? givenBlock(r) : rateForm(r, i));
}

function summaryTable() {
  if (!summaries.length) return h('p.muted#rat-summary-none', t('rat.summary_none'));
  const keys = [...new Set(summaries.flatMap((s) => Object.keys(s.criteria)))];
  return h('table.table#rat-summary-table',
    h('thead', h('tr', h('th', t('rat.subject')), h('th', t('rat.count')), h('th', t('rat.overall')), h('th', t('rat.by_criterion')))),
    h('tbody', summaries.map((s) => h('tr', { dataset: { subject: s.subject } },
      h('td', `${t(`rat.party.${s.party}`)} · ${s.name}`),
      h('td', String(s.count)),
      h('td', score(s.mean_centi)),
      h('td', keys.filter((k) => k in s.criteria).map((k) => `${t(`rat.criterion.${k}`)} ${score(s.criteria[k])}`).join('；'))))));
}

function allTable() {
  return h('section.card#rat-all', h('div.card-head', h('h2', t('rat.all'))),
    st.all.length ? h('table.table',
      h('thead', h('tr', [t('rat.rater'), t('rat.ratee'), t('rat.overall'), t('rat.comment'), t('rat.at')].map((x) => h('th', x)))),
      h('tbody', st.all.map((g) => h('tr',
        h('td', `${t(`rat.party.${g.rater_party}`)} · ${g.rater_name}`),
        h('td', `${t(`rat.party.${g.ratee_party}`)} · ${g.ratee_name}`),
        h('td', score(g.mean_centi)),
        h('td', g.comment || '—'),
        h('td', formatCST(g.rated_at)))))) : h('p.muted', t('rat.none_given')));
}

function renderAll() {
  replace($('rat-summary'), h('section.card', h('div.card-head', h('h2', me && ['finance', 'oversight', 'admin'].includes(me.role) ? t('rat.summary_all') : t('rat.summary_mine'))), summaryTable()));
  if (!st) return clear($('rat-list'));
  replace($('rat-list'), h('h2#rat-list-heading', t('rat.to_rate')),
    st.to_rate.length ? h('div.stack', st.to_rate.map(toRateCard)) : h('p.muted#rat-none', st.my_party ? t('rat.not_open') : t('rat.nothing')),
    st.all ? allTable() : null);
}

async function main() {
  setPageTitle('rat.title');
  me = await initLayout({ auth: 'required', active: 'ratings' });
  if (!me) return;
  replace($('rat-loading'), loadingBlock());
  let a = null;
  try {
    [a] = await Promise.all([tenderId ? get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null) : null, load()]);
  } catch (e) {
    clear($('rat-loading'));
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('rat-alert'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  clear($('rat-loading'));
  const ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  if (ann) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = ann.code || ann.title;
    $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('rat-page').hidden = false;
  renderAll();
  onLangChange(renderAll);
}

main();
