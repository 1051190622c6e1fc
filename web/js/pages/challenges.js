// Challenges and complaints against a result (docs/challenges.md): a bidder writes its
// challenge and signs it on this device; the agency or purchaser answers; the challenger
// complains to finance, signed likewise; finance accepts or rejects, may suspend the
// procurement, and decides — the decision public. The page refreshes itself; forms keep
// what is typed across refreshes.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { formatCST, formatDeadline, toCSTInputValue, parseCSTInputValue, serverNow } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast } from '../ui.js';
import { keyImportPanel } from '../keyimport.js';
import { readFile } from '../form-kit.js';
import { loadDeviceKeys, sign } from '../crypto/keys.js';
import { canonicalJson } from '../crypto/json.js';
import { sha256Hex, toB64url, utf8 } from '../crypto/bytes.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const path = `/api/tenders/${encodeURIComponent(tenderId)}/challenges`;
const DAY = 86_400_000;

let me = null;
let st = null;
let keys = null;
let keyPanelEl = null;
/** Forms by key ("challenge", "reply:<id>", "complain:<id>", "finance:<id>"), kept across renders. */
const forms = new Map();

async function refetch() {
  try {
    st = await get(path);
    renderAll();
  } catch (e) {
    showBanner($('chal-alert'), 'error', errorText(e));
  }
}

async function send(cmd, button) {
  const done = busy(button);
  try {
    await post(path, cmd);
    toast(t('chal.saved'));
    forms.clear();
    await refetch();
  } catch (e) {
    showBanner($('chal-alert'), 'error', errorText(e));
  } finally {
    done();
  }
}

// Evidence travels in the command's JSON: 5 files, 1 MB in all (docs/challenges.md).
const MAX_FILES = 5;
const MAX_BYTES = 1 << 20;

/**
 * The statement the supplier signs (challenge::rules::payload) with its evidence files:
 * their SHA-256 in the signed statement, the files in the command. Null (and a banner)
 * when the files are too many or too large.
 */
async function signed(kind, grounds, fileInput) {
  const files = fileInput ? [...fileInput.files] : [];
  if (files.length > MAX_FILES || files.reduce((n, f) => n + f.size, 0) > MAX_BYTES) {
    showBanner($('chal-alert'), 'error', t('chal.evidence_too_big'));
    return null;
  }
  const text = grounds.trim();
  const hashes = await Promise.all(files.map(async (f) => sha256Hex(new Uint8Array(await f.arrayBuffer()))));
  const statement = {
    type: `kaibiao.${kind}.v1`,
    tender_id: tenderId,
    org_id: me.org.id,
    grounds_sha256: await sha256Hex(utf8(text)),
  };
  if (hashes.length) statement.evidence_sha256 = hashes;
  const signature = toB64url(await sign(keys, utf8(canonicalJson(statement))));
  return { grounds: text, key_id: keys.signing.keyId, signature, evidence: await Promise.all(files.map(readFile)) };
}

function evidenceInput(id) {
  return h(`input#${id}.input.chal-evidence-files`, { type: 'file', multiple: true, accept: '.pdf,image/png,image/jpeg', 'aria-label': t('chal.evidence') });
}

/** Links to a challenge's or complaint's evidence files (to those who read its grounds). */
function evidenceLinks(item) {
  if (!item.evidence || !item.evidence.length) return null;
  return h('p.chal-evidence', h('strong', t('chal.evidence')), ' ', item.evidence.map((e) =>
    h('a', { href: `${path}/${encodeURIComponent(item.id)}/evidence/${e.seq}`, target: '_blank', rel: 'noopener' }, e.name)));
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
  return h('div#chal-keys', h('p.small.muted', t('chal.keys_needed')), keyPanelEl);
}

function form(key, make) {
  if (!forms.has(key)) forms.set(key, make());
  return forms.get(key);
}

function challengeForm() {
  return form('challenge', () => {
    const grounds = h('textarea#chal-grounds', { rows: 4, maxlength: 10000 });
    const files = evidenceInput('chal-evidence');
    const submit = h('button#chal-submit.btn.btn-primary', { type: 'submit' }, t('chal.submit'));
    const f = h('form#chal-form.stack', h('label', { for: 'chal-grounds' }, t('chal.grounds')), grounds,
      h('label', { for: 'chal-evidence' }, t('chal.evidence')), files, h('p.small.muted', t('chal.evidence_hint')),
      h('p.small.muted', t('chal.sign_hint')), submit);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const statement = await signed('challenge', grounds.value, files);
      if (statement) send({ type: 'challenge', ...statement }, submit);
    });
    return f;
  });
}

function renderActions() {
  if (!st.me.may_challenge) return clear($('chal-actions'));
  replace($('chal-actions'), h('section#chal-new.card', h('div.card-head', h('h2', t('chal.new'))),
    h('p.small.muted', t('chal.window', { until: formatDeadline(st.challenge_until) })),
    keys ? challengeForm() : keyPanel()));
}

function renderSummary() {
  replace($('chal-summary'), h('div.card-head', h('h2#chal-summary-heading', t('chal.summary'))),
    h('dl.kv',
      h('div.kv-item', h('dt', t('chal.result_published')), h('dd', st.result_published_at ? formatCST(st.result_published_at) : t('chal.no_result'))),
      st.challenge_until ? h('div.kv-item', h('dt', t('chal.challenge_until')), h('dd#chal-until', formatDeadline(st.challenge_until))) : null,
      h('div.kv-item', h('dt', t('chal.contract')), h('dd#chal-blocked',
        st.contract_blocked ? h('span.badge.badge-failed', t('chal.blocked')) : h('span.badge', t('chal.not_blocked'))))));
}

function replyForm(c) {
  return form(`reply:${c.id}`, () => {
    const reply = h('textarea.chal-reply-text', { rows: 3, maxlength: 10000, 'aria-label': t('chal.reply') });
    const upheld = h('input.chal-upheld', { type: 'checkbox' });
    const submit = h('button.btn.btn-primary.chal-reply-submit', { type: 'submit' }, t('chal.reply_send'));
    const f = h('form.stack.chal-reply-form', reply, h('label', upheld, ' ', t('chal.upheld')), submit);
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      send({ type: 'reply', challenge_id: c.id, reply: reply.value, upheld: upheld.checked }, submit);
    });
    return f;
  });
}

function complainForm(c) {
  return form(`complain:${c.id}`, () => {
    const grounds = h('textarea.chal-complaint-text', { rows: 3, maxlength: 10000, 'aria-label': t('chal.complaint_grounds') });
    const files = evidenceInput(`chal-complaint-evidence-${c.id}`);
    const submit = h('button.btn.btn-primary.chal-complain-submit', { type: 'submit' }, t('chal.complain'));
    const f = h('form.stack.chal-complain-form', h('p.small.muted', t('chal.complain_hint', { until: formatDeadline(c.complain_until) })),
      grounds, files, h('p.small.muted', t('chal.evidence_hint')), submit);
    f.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const statement = await signed('complaint', grounds.value, files);
      if (statement) send({ type: 'complain', challenge_id: c.id, ...statement }, submit);
    });
    return f;
  });
}

function renderChallenges() {
  const mine = me && me.role === 'supplier';
  const complained = new Set(st.complaints.map((p) => p.challenge_id));
  const now = serverNow();
  replace($('chal-challenges'), h('div.card-head', h('h2#chal-challenges-heading', t('chal.challenges'))),
    st.challenges.length
      ? h('ol#chal-list.stack', st.challenges.map((c) => h('li.chal-item', { dataset: { status: c.status } },
        h('p', h('strong', c.org_name), ' · ', h('time.small.muted', formatCST(c.filed_at)), ' · ',
          h('span.badge', t(`chal.status.${c.status}`))),
        h('p.chal-grounds', { style: 'white-space: pre-wrap' }, c.grounds),
        evidenceLinks(c),
        c.reply
          ? h('div.chal-reply', h('p', h('strong', t(c.upheld ? 'chal.reply_upheld' : 'chal.reply_not_upheld')), ' ',
            h('time.small.muted', formatCST(c.replied_at))), h('p', { style: 'white-space: pre-wrap' }, c.reply))
          : h('p.small.muted', t('chal.reply_due', { due: formatDeadline(c.reply_due_at) })),
        st.me.answers && c.status === 'open' ? replyForm(c) : null,
        mine && !complained.has(c.id) && (c.status === 'answered' || now >= c.reply_due_at) && now < c.complain_until
          ? (keys ? complainForm(c) : keyPanel())
          : null)))
      : h('p.muted#chal-none', t('chal.none')));
}

function financeActions(p) {
  return form(`finance:${p.id}`, () => {
    const box = h('div.stack.chal-finance');
    const btn = (cls, label, cmd) => {
      const b = h(`button.btn.${cls}`, { type: 'button' }, label);
      b.addEventListener('click', () => send(cmd(), b));
      return b;
    };
    const reason = h('textarea.chal-finance-text', { rows: 2, maxlength: 10000, 'aria-label': t('chal.finance_text') });
    const outcome = h('select.chal-outcome', ['groundless', 'upheld'].map((o) => h('option', { value: o }, t(`chal.outcome.${o}`))));
    const until = h('input.chal-suspend-until', { type: 'datetime-local', value: toCSTInputValue(serverNow() + 10 * DAY) });
    if (p.status === 'filed') {
      box.append(btn('btn-primary.chal-accept', t('chal.accept'), () => ({ type: 'accept', complaint_id: p.id })),
        reason, btn('chal-reject', t('chal.reject'), () => ({ type: 'reject', complaint_id: p.id, reason: reason.value })));
    } else {
      box.append(h('label', t('chal.decision')), reason, outcome,
        btn('btn-primary.chal-decide', t('chal.decide'), () => ({ type: 'decide', complaint_id: p.id, outcome: outcome.value, decision: reason.value })));
    }
    box.append(h('label', t('chal.suspend_until')), until,
      btn('chal-suspend', t('chal.suspend'), () => ({ type: 'suspend', complaint_id: p.id, until: parseCSTInputValue(until.value) })));
    return box;
  });
}

function renderComplaints() {
  replace($('chal-complaints'), h('div.card-head', h('h2#chal-complaints-heading', t('chal.complaints'))),
    st.complaints.length
      ? h('ol#chal-complaint-list.stack', st.complaints.map((p) => h('li.chal-complaint', { dataset: { status: p.status } },
        h('p', h('strong', p.org_name), ' · ', h('time.small.muted', formatCST(p.filed_at)), ' · ',
          h('span.badge', t(`chal.cstatus.${p.status}`))),
        p.grounds ? h('p', { style: 'white-space: pre-wrap' }, p.grounds) : null,
        evidenceLinks(p),
        p.status === 'filed' ? h('p.small.muted', t('chal.examine_due', { due: formatDeadline(p.examine_due_at) })) : null,
        p.status === 'accepted' ? h('p.small.muted', t('chal.decision_due', { due: formatDeadline(p.decision_due_at) })) : null,
        p.suspended_until ? h('p.chal-suspended', t('chal.suspended', { until: formatCST(p.suspended_until) })) : null,
        p.reason ? h('p', h('strong', t('chal.rejected_reason')), ' ', p.reason) : null,
        p.decision ? h('div.chal-decision', h('p', h('strong', t(`chal.outcome.${p.outcome}`)), ' ', h('time.small.muted', formatCST(p.decided_at))),
          h('p', { style: 'white-space: pre-wrap' }, p.decision)) : null,
        st.me.handles_complaints && (p.status === 'filed' || p.status === 'accepted') ? financeActions(p) : null)))
      : h('p.muted', t('chal.no_complaints')));
}

function renderAll() {
  renderActions();
  renderSummary();
  renderChallenges();
  renderComplaints();
}

async function main() {
  setPageTitle('chal.title');
  me = await initLayout({ auth: 'optional', active: 'announcements' });
  if (!tenderId) return replace($('chal-alert'), errorBlock(t('common.missing_id')));
  replace($('chal-loading'), loadingBlock());
  let a = null;
  try {
    [a, st] = await Promise.all([
      get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null),
      get(path),
    ]);
  } catch (e) {
    clear($('chal-loading'));
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('chal-alert'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  if (me && me.role === 'supplier') {
    try {
      keys = await loadDeviceKeys(me.id);
    } catch (_) {
      keys = null;
    }
  }
  clear($('chal-loading'));
  const ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  if (ann) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = ann.code || ann.title;
    $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('chal-page').hidden = false;
  renderAll();
  // Another party's step shows up without a reload.
  setInterval(() => {
    if (!document.activeElement || !document.activeElement.closest('form, .chal-finance')) refetch();
  }, 15_000);
  onLangChange(() => {
    forms.clear();
    renderAll();
  });
}

main();
