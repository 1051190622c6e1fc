// 采购文件与答疑: a supplier obtains the tender documents (registration recorded, secret
// before the opening, R-DOC-3), reads them, asks questions before the question deadline and
// sees every published answer, never naming the asker (R-CHAL-1); the agency previews the
// documents with the template's warnings and answers; supervisors see who asked.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange, pickMessage } from '../i18n.js';
import { formatCST, serverNow } from '../format.js';
import { h, replace, param, loadingBlock, banner, busy, toast } from '../ui.js';

const id = param('tender');
const root = document.getElementById('documents');
const statusEl = document.getElementById('documents-status');
const crumb = document.getElementById('crumb-tender');
const POLL_MS = 20_000;

let me = null;
let tender = null; // the announcement (suppliers) or the tender (its units)
let obtained = null; // {obtained_at} for a supplier that holds the documents
let doc = null;
let questions = [];

const enc = encodeURIComponent;
const isSupplier = () => me && me.role === 'supplier';

function clauseList(clauses) {
  return h('ol.doc-clauses', clauses.map((c) =>
    h('li.doc-clause', c.rule ? h('span.badge.rule-code', c.rule) : null, ' ', h('span.prewrap', pickMessage(c.zh, c.en)))));
}

function documentCard() {
  if (!doc) return null;
  return h('section#tender-documents.card', { 'aria-labelledby': 'doc-heading' },
    h('div.card-head',
      h('h2#doc-heading', doc.title),
      h('span.card-note', t('docs.template', { template: t(`docs.template_${doc.template}`), version: doc.version }))),
    doc.warnings && doc.warnings.length
      ? banner('warning', t('docs.warnings'), { list: doc.warnings.map((w) => `${w.rule ? `${w.rule} ` : ''}${pickMessage(w.zh, w.en)}`) })
      : null,
    doc.sections.map((s) => h('section.doc-section', h('h3', pickMessage(s.heading_zh, s.heading_en)), clauseList(s.clauses))));
}

function questionItem(q) {
  const due = q.reply_due_at;
  const state = q.answer
    ? h('span.small.muted', t('docs.answered_at', { at: formatCST(q.answered_at) }))
    : h('span.small', { class: due < serverNow() ? 'qa-overdue' : 'muted' },
      t(due < serverNow() ? 'docs.overdue' : 'docs.pending', { at: formatCST(due) }));
  const answerForm = !q.answer && me.role === 'agency' ? answerBox(q) : null;
  return h('li.qa-item', { id: `q-${q.id}` },
    h('p.qa-question', h('strong', `${t('docs.question')}:`), ' ', h('span.prewrap', q.text)),
    h('p.small.muted',
      t('docs.asked_at', { at: formatCST(q.asked_at) }),
      q.mine ? [' · ', h('span.badge', t('docs.mine'))] : null,
      q.asker_org_name ? [' · ', t('docs.asker', { name: q.asker_org_name })] : null),
    q.answer ? h('p.qa-answer', h('strong', `${t('docs.answer')}:`), ' ', h('span.prewrap', q.answer)) : null,
    state,
    answerForm);
}

/** Posts the textarea's text to `path` when `submit` is clicked; the list follows. */
function sendText(submit, text, status, path, okKey) {
  submit.addEventListener('click', async () => {
    const restore = busy(submit);
    try {
      await post(path, { text: text.value });
      toast(t(okKey));
      text.value = '';
      status.replaceChildren();
      restore();
      await loadQuestions();
    } catch (e) {
      restore();
      replace(status, banner('error', errorText(e)));
    }
  });
}

function answerBox(q) {
  const text = h('textarea.input', { id: `answer-${q.id}`, rows: 3, maxlength: 4000 });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button.btn.btn-primary.btn-small', { id: `answer-submit-${q.id}`, type: 'button' }, t('docs.answer_submit'));
  sendText(submit, text, status, `/api/tenders/${enc(id)}/questions/${enc(q.id)}/answer`, 'docs.answer_ok');
  return h('div.qa-answer-form',
    h('label.field-label', { for: `answer-${q.id}` }, t('docs.answer_label')),
    text, status, h('div.form-actions', submit));
}

function askBox() {
  if (!isSupplier() || !obtained || !tender) return null;
  const closed = tender.clarify_deadline <= serverNow();
  if (closed) return banner('info', t('docs.ask_closed', { at: formatCST(tender.clarify_deadline) }));
  const text = h('textarea#question-text.input', { rows: 3, maxlength: 2000 });
  const status = h('div#ask-status', { 'aria-live': 'polite' });
  const submit = h('button#ask-submit.btn.btn-primary', { type: 'button' }, t('docs.ask_submit'));
  sendText(submit, text, status, `/api/tenders/${enc(id)}/questions`, 'docs.ask_ok');
  return h('div.qa-ask',
    h('h3', t('docs.ask')),
    h('p.small.muted', t('docs.ask_until', { at: formatCST(tender.clarify_deadline) })),
    h('label.field-label', { for: 'question-text' }, t('docs.ask_label')),
    text, status, h('div.form-actions', submit));
}

function qaList() {
  return questions.length ? h('ol#qa-list.qa-list', questions.map(questionItem)) : h('p#qa-list.muted', t('docs.none'));
}

function qaCard() {
  if (isSupplier() && !obtained) return null;
  return h('section#qa.card', { 'aria-labelledby': 'qa-heading' },
    h('div.card-head', h('h2#qa-heading', t('docs.qa'))),
    h('p.card-note', t('docs.qa_note')),
    qaList(),
    askBox());
}

function obtainCard() {
  const button = h('button#obtain-documents.btn.btn-primary.btn-large', { type: 'button' }, t('docs.obtain'));
  button.addEventListener('click', async () => {
    const restore = busy(button, t('docs.obtaining'));
    try {
      obtained = await post(`/api/tenders/${enc(id)}/documents/obtain`, {});
      await loadHeld();
    } catch (e) {
      restore();
      replace(statusEl, banner('error', errorText(e)));
    }
  });
  return h('section#obtain.card', { 'aria-labelledby': 'obtain-heading' },
    h('div.card-head', h('h2#obtain-heading', t('docs.obtain_heading'))),
    h('p', t('docs.obtain_text')),
    h('div.form-actions', button));
}

function render() {
  if (!tender) return;
  crumb.textContent = tender.title;
  crumb.href = isSupplier() ? `/announcement.html?id=${enc(id)}` : `/tender.html?id=${enc(id)}`;
  if (isSupplier() && !obtained) {
    replace(root, obtainCard());
    return;
  }
  replace(root,
    isSupplier()
      ? banner('success', t('docs.obtained', { at: formatCST(obtained.obtained_at) }), {
        action: tender.bid_deadline > serverNow() && tender.opening_key
          ? h('a#documents-bid.btn.btn-small', { href: `/bid.html?tender=${enc(id)}` }, t('docs.to_bid')) : null,
      })
      : null,
    documentCard(),
    qaCard());
}

/** The questions afresh: only the list changes, so what is being typed, and the answer
 * forms of questions still open, stay as they are. */
async function loadQuestions() {
  questions = await get(`/api/tenders/${enc(id)}/questions`);
  const list = document.getElementById('qa-list');
  if (!list) return render();
  const open = new Map([...list.querySelectorAll('.qa-answer-form')].map((f) => [f.closest('.qa-item').id, f]));
  const fresh = qaList();
  for (const item of fresh.querySelectorAll('.qa-item')) {
    const kept = open.get(item.id);
    const form = item.querySelector('.qa-answer-form');
    if (kept && form) form.replaceWith(kept);
  }
  list.replaceWith(fresh);
}

async function loadHeld() {
  [doc, questions] = await Promise.all([
    get(`/api/tenders/${enc(id)}/documents`),
    get(`/api/tenders/${enc(id)}/questions`),
  ]);
  render();
}

async function main() {
  setPageTitle('docs.title');
  replace(root, loadingBlock());
  me = await initLayout({ auth: 'required', active: 'announcements' });
  if (!me) return;
  if (!id) {
    replace(root, banner('error', t('common.missing_id')));
    return;
  }
  try {
    if (isSupplier()) {
      tender = await get(`/api/announcements/${enc(id)}`);
      obtained = await get(`/api/tenders/${enc(id)}/documents/mine`).catch((e) => {
        if (e instanceof ApiError && e.status === 404) return null;
        throw e;
      });
      if (obtained) await loadHeld();
      else render();
    } else if (me.role === 'expert') {
      replace(root, banner('warning', t('docs.supplier_or_member')));
      return;
    } else {
      tender = await get(`/api/tenders/${enc(id)}`);
      await loadHeld();
    }
  } catch (e) {
    replace(root, banner('error', errorText(e)));
    return;
  }
  // Answers reach the page without reloading.
  setInterval(() => {
    if (document.hidden || (isSupplier() && !obtained)) return;
    loadQuestions().catch(() => {});
  }, POLL_MS);
}

onLangChange(render);
main();
