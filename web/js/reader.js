// The reader of bid documents in the evaluation room (docs/evaluation.md, "Reading
// documents"): a PDF page by page as images the server renders, an image or a plain text
// as it is, a search over the text that jumps to its page. The file itself never reaches
// the browser, and each opening is logged by the server.

import { get, errorText } from './api.js';
import { t } from './i18n.js';
import { h, replace, banner, loadingBlock } from './ui.js';

let current = null;

/** Opens `doc` ({sha256, name}) of tender `tenderId` in the reader, over the page. */
export async function openReader(tenderId, doc) {
  if (current) current.close();
  const base = `/api/tenders/${encodeURIComponent(tenderId)}/evaluation/documents/${encodeURIComponent(doc.sha256)}`;
  const body = h('div.reader-body', loadingBlock(t('reader.loading')));
  const bar = h('div.reader-bar');
  const hits = h('div.reader-hits');
  const close = h('button#reader-close.btn', { type: 'button' }, t('reader.close'));
  const root = h('div#doc-reader.reader', { role: 'dialog', 'aria-modal': 'true', 'aria-label': doc.name || doc.sha256 },
    h('div.reader-panel',
      h('div.reader-head', h('strong.reader-title', doc.name || doc.sha256), close),
      h('p.small.muted', t('reader.note')),
      bar, hits, body));
  document.body.append(root);
  const state = { page: 1, outline: null };
  const onKey = (ev) => {
    if (ev.key === 'Escape') current.close();
  };
  current = {
    close: () => {
      root.remove();
      document.removeEventListener('keydown', onKey);
      current = null;
    },
  };
  close.addEventListener('click', () => current.close());
  document.addEventListener('keydown', onKey);

  const show = async (n) => {
    const o = state.outline;
    state.page = Math.min(Math.max(1, n), o.pages);
    renderBar();
    if (o.kind === 'text') {
      try {
        const r = await fetch(`${base}/pages/1`, { credentials: 'same-origin' });
        if (!r.ok) throw new Error(String(r.status));
        replace(body, h('pre#reader-text.reader-text', await r.text()));
      } catch (e) {
        replace(body, banner('error', errorText(e)));
      }
      return;
    }
    const img = h('img#reader-page.reader-page', { alt: t('reader.page', { n: state.page, total: o.pages }), dataset: { page: String(state.page) } });
    img.addEventListener('load', () => img.classList.add('is-loaded'));
    img.src = `${base}/pages/${state.page}`;
    replace(body, img);
  };

  const renderBar = () => {
    const o = state.outline;
    const input = h('input#reader-goto.input.reader-goto', { type: 'number', min: 1, max: o.pages, value: state.page, 'aria-label': t('reader.goto') });
    input.addEventListener('change', () => show(Number(input.value) || 1));
    replace(bar,
      h('div.reader-nav',
        h('button#reader-prev.btn', { type: 'button', disabled: state.page <= 1, on: { click: () => show(state.page - 1) } }, t('reader.prev')),
        h('span#reader-pageno', t('reader.page', { n: state.page, total: o.pages })),
        h('button#reader-next.btn', { type: 'button', disabled: state.page >= o.pages, on: { click: () => show(state.page + 1) } }, t('reader.next')),
        input),
      o.kind === 'image' ? null : searchBox);
  };

  // The search box is made once: turning pages keeps the words and the hits.
  const q = h('input#reader-q.input', { type: 'search', maxlength: 100, placeholder: t('reader.search'), 'aria-label': t('reader.search') });
  const go = h('button#reader-search.btn', { type: 'button' }, t('reader.search_go'));
  const searchBox = h('div.reader-search', q, go);
  const search = async () => {
    const words = q.value.trim();
    if (!words) return;
    try {
      const found = await get(`${base}/search?q=${encodeURIComponent(words)}`);
      replace(hits, found.length
        ? [h('p.small#reader-hit-count', t('reader.hits', { n: found.length })),
          h('ul.reader-hit-list', found.map((x) => h('li', h('button.link-button.reader-hit', { type: 'button', dataset: { page: String(x.page) }, on: { click: () => show(x.page) } },
            t('reader.hit_page', { n: x.page })), ` ${x.snippet}`)))]
        : h('p.small.muted#reader-hit-count', t('reader.no_hits')));
    } catch (e) {
      replace(hits, banner('error', errorText(e)));
    }
  };
  go.addEventListener('click', search);
  q.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') search();
  });

  try {
    state.outline = await get(`${base}/outline`);
    await show(1);
  } catch (e) {
    replace(body, banner('error', errorText(e)));
  }
}
