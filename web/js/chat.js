// 互动区: a room's moderated channel (docs/chat.md), shared by the opening hall and the
// evaluation room. The page says who may write what (`mode()`) and sends through the
// room's command path (`send`); the list is GET …/messages, fetched again (once for a
// burst, with a little jitter) when the room hears `message_posted`, so it stays live
// without reloading.

import { get, errorText, ApiError } from './api.js';
import { t } from './i18n.js';
import { formatCST } from './format.js';
import { h, replace, banner } from './ui.js';

/** Who writes here: 'bidder', 'bidder-closed', 'host', 'panel', 'reader', or null (not shown). */
export class ChatPanel {
  constructor(el, { url, send, mode }) {
    this.el = el;
    this.url = url;
    this.send = send;
    this.mode = mode;
    this.list = null;
    this.error = null;
    this.sendError = null;
    this.busy = false;
    this.timer = null;
    // Kept across renders, so typing is never lost.
    this.box = h('textarea#chat-text.input.chat-text', { rows: 2, maxlength: 1000 });
    this.target = h('select#chat-target.input');
    this.private = h('input#chat-private', { type: 'checkbox' });
  }

  async refresh() {
    clearTimeout(this.timer);
    this.timer = null;
    try {
      this.list = await get(this.url);
      this.error = null;
    } catch (e) {
      this.error = e;
    }
    this.render();
  }

  /** After `message_posted`: fetch again, once for a burst of events. */
  schedule() {
    if (this.timer) return;
    this.timer = setTimeout(() => this.refresh(), 100 + Math.floor(Math.random() * 400));
  }

  author(m) {
    if (m.mine) return t('chat.me');
    if (!m.author) return t('chat.bidder');
    if (m.author_role === 'host') return `${t('chat.role.host')} ${m.author}`;
    return m.author;
  }

  item(m, mode, answered) {
    const answer = mode === 'host' && m.audience === 'host'
      ? h('button.btn.btn-small.chat-answer', { type: 'button', dataset: { id: m.id }, on: { click: () => this.answer(m.id) } }, t('chat.answer'))
      : null;
    return h('li.chat-msg', { dataset: { id: m.id, audience: m.audience, role: m.author_role } },
      h('div.chat-head',
        h('strong.chat-author', this.author(m)),
        h('span.tag', t(`chat.aud.${m.audience}`)),
        answered.has(m.id) ? h('span.tag.chat-answered', t('chat.answered')) : null,
        h('span.small.muted', formatCST(m.at, { seconds: true }))),
      m.reply_to ? h('blockquote.chat-quote.prewrap', `${t('chat.quoted')}：${m.reply_to.text}`) : null,
      h('p.chat-text.prewrap', m.text),
      answer);
  }

  answer(id) {
    this.target.value = id;
    this.private.disabled = false;
    this.box.focus();
  }

  async submit() {
    const text = this.box.value.trim();
    if (!text || this.busy) return;
    const mode = this.mode();
    let cmd;
    if (mode === 'bidder') cmd = { type: 'ask', text };
    else if (mode === 'panel') cmd = { type: 'say', text };
    else {
      cmd = { type: 'reply', text };
      if (this.target.value) {
        cmd.reply_to = this.target.value;
        cmd.private = this.private.checked;
      }
    }
    this.busy = true;
    this.sendError = null;
    this.render();
    try {
      await this.send(cmd);
      this.box.value = '';
      this.target.value = '';
      this.private.checked = false;
      await this.refresh();
    } catch (e) {
      this.sendError = e;
    } finally {
      this.busy = false;
    }
    this.render();
  }

  composer(mode) {
    if (mode === 'bidder-closed') return h('p#chat-closed.muted', t('chat.closed'));
    if (mode === 'reader' || !mode) return null;
    const parts = [];
    if (mode === 'host') {
      const questions = (this.list || []).filter((m) => m.audience === 'host');
      const keep = this.target.value;
      replace(this.target,
        h('option', { value: '' }, t('chat.to_hall')),
        questions.map((m) => h('option', { value: m.id }, `${this.author(m)}：${m.text.slice(0, 30)}`)));
      this.target.value = questions.some((m) => m.id === keep) ? keep : '';
      this.private.disabled = !this.target.value;
      this.target.onchange = () => {
        this.private.disabled = !this.target.value;
        if (!this.target.value) this.private.checked = false;
      };
      parts.push(h('div.field', h('label.field-label', { for: 'chat-target' }, t('chat.answer_to')), this.target),
        h('label.check', this.private, ` ${t('chat.private')}`));
    }
    parts.push(h('div.field', h('label.field-label', { for: 'chat-text' }, t('chat.text')), this.box));
    if (this.sendError) {
      const fields = this.sendError instanceof ApiError ? Object.values(this.sendError.fields || {}).flat().map(String) : [];
      parts.push(h('div#chat-error', { dataset: { code: this.sendError.code || 'ERROR' } },
        banner('error', fields.length ? `${errorText(this.sendError)}（${fields.join('；')}）` : errorText(this.sendError))));
    }
    parts.push(h('div.action-bar',
      h('button#chat-send.btn.btn-primary', { type: 'button', disabled: this.busy, on: { click: () => this.submit() } },
        this.busy ? t('chat.sending') : t(mode === 'bidder' ? 'chat.ask' : 'chat.send'))));
    return h('div.chat-compose', parts);
  }

  render() {
    const mode = this.mode();
    this.el.hidden = !mode;
    if (!mode) return;
    const note = { bidder: 'chat.note_bidder', 'bidder-closed': 'chat.note_bidder', host: 'chat.note_host', panel: 'chat.note_panel', reader: 'chat.note_reader' }[mode];
    const list = this.list || [];
    const answered = new Set(list.filter((m) => m.reply_to).map((m) => m.reply_to.id));
    replace(this.el,
      h('div.card-head', h('h2#chat-heading', t('chat.title'))),
      h('p.card-note', t(note)),
      this.error ? banner('error', errorText(this.error)) : null,
      list.length
        ? h('ol#chat-list.chat-list', { 'aria-live': 'polite' }, list.map((m) => this.item(m, mode, answered)))
        : h('p#chat-list.muted', t('chat.empty')),
      this.composer(mode));
  }
}
