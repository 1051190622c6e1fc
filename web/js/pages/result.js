// The result (docs/award.md): the notice the platform signed — winner, price in figures
// and 大写, main terms, the panel by name, the scores — public once the agency publishes
// it; a bidder's own award or result letter with its score and rank; the list of letters
// for the tender's side. Every signed document downloads as JSON for `kaibiao verify`.

import { initLayout, setPageTitle } from '../layout.js';
import { get, post, errorText, ApiError } from '../api.js';
import { t, label, onLangChange } from '../i18n.js';
import { formatCST, formatDeadline, formatMoney, shortHash } from '../format.js';
import { h, clear, replace, param, loadingBlock, errorBlock, banner, showBanner, busy, toast } from '../ui.js';

const $ = (id) => document.getElementById(id);
const tenderId = param('tender');
const path = `/api/tenders/${encodeURIComponent(tenderId)}/result`;

let res = null;

/** A link that downloads `signed` as the JSON `kaibiao verify` reads. */
function downloadLink(id, signed, name) {
  const url = URL.createObjectURL(new Blob([`${JSON.stringify(signed, null, 2)}\n`], { type: 'application/json' }));
  return h('p.action-bar',
    h(`a#${id}.btn.btn-small`, { href: url, download: name, type: 'application/json' }, t('res.download')),
    h('code.small', `kaibiao verify ${name}`),
    h('span.small.muted.hash', { title: signed.document_sha256 }, `SHA-256 ${shortHash(signed.document_sha256)}`));
}

const kv = (dt, dd, id) => h('div.kv-item', h('dt', dt), h(id ? `dd#${id}` : 'dd', dd));

function winnerBlock(w) {
  return h('dl.kv',
    kv(t('res.winner'), w.name, 'res-winner'),
    kv(t('res.price'), [formatMoney(w.price_fen), ' ', h('span.words', { lang: 'zh-CN' }, w.price_words)], 'res-price'),
    w.score ? kv(t('res.score'), w.score) : null,
    kv(t('res.delivery'), t('res.days', { n: w.delivery_days })),
    kv(t('res.warranty'), t('res.months', { n: w.warranty_months })),
    w.brand ? kv(t('res.brand'), w.brand) : null,
    w.products && w.products.length ? kv(t('res.products'), w.products.join('、')) : null,
    w.enterprise_size ? kv(t('res.size'), label('size', w.enterprise_size)) : null);
}

function renderNotice() {
  const n = res.notice;
  if (!n) {
    const items = [h('div.card-head', h('h2#res-notice-heading', t('res.notice'))),
      h('p#res-pending.muted', res.awarded_at ? t('res.pending', { due: formatDeadline(res.due_at) }) : t('res.not_awarded'))];
    return replace($('res-notice'), ...items);
  }
  const d = n.document;
  replace($('res-notice'), h('div.card-head', h('h2#res-notice-heading', t('res.notice'))),
    h('dl.kv',
      kv(t('res.tender'), `${d.tender.title}（${d.tender.code}）`),
      kv(t('res.method'), label('method', d.tender.method)),
      kv(t('res.purchaser'), d.tender.purchaser),
      kv(t('res.agency'), d.tender.agency),
      kv(t('res.published_at'), formatCST(d.published_at)),
      kv(t('res.publicity_ends'), formatCST(d.publicity_ends_at))),
    ...d.lots.map((l) => h('section.lot', { id: `res-lot-${l.lot_no}` },
      h('h3', `${l.name} · ${t('res.budget')} ${formatMoney(l.budget_fen)} · ${t('res.bidders', { n: l.bidders })}`),
      l.winner ? winnerBlock(l.winner) : h('p.muted', t('res.lot_failed')))),
    h('h3', t('res.panel')),
    h('p#res-panel', d.panel.map((p) => p.name).join('、') || '—'),
    downloadLink('res-notice-download', n, `result-${d.tender.code}.json`),
    h('p.action-bar', h('a#res-challenges-link.btn', { href: `/challenges.html?tender=${encodeURIComponent(tenderId)}` }, t('chal.link')),
      h('a#res-contracts-link.btn', { href: `/contracts.html?tender=${encodeURIComponent(tenderId)}` }, t('con.link')),
      h('a#res-ratings-link.btn', { href: `/ratings.html?tender=${encodeURIComponent(tenderId)}` }, t('rat.link'))));
}

function renderLetter() {
  const l = res.letter;
  $('res-letter').hidden = !l;
  if (!l) return;
  const d = l.document;
  replace($('res-letter'), h('div.card-head', h('h2#res-letter-heading', t(`res.letter.${d.type}`))),
    h('p', t('res.letter_to', { name: d.to.name })),
    h('table#res-letter-table.table', h('thead', h('tr', ['lot', 'rank', 'score', 'price', 'outcome'].map((c) => h('th', t(`res.col.${c}`))))),
      h('tbody', d.lots.map((x) => h('tr', h('td', x.name || x.lot_no),
        h('td', x.rank ? t('res.rank_of', { rank: x.rank, of: x.ranked }) : t('res.not_ranked')),
        h('td', x.score || '—'), h('td.num', formatMoney(x.price_fen)),
        h('td', t(x.won ? 'res.won' : 'res.not_won')))))),
    d.contract_due_at ? h('p#res-contract-due', t('res.contract_due', { due: formatDeadline(d.contract_due_at) })) : null,
    downloadLink('res-letter-download', l, `${d.type}-${d.tender.code}.json`));
}

function renderLetters() {
  $('res-letters').hidden = !res.letters;
  if (!res.letters) return;
  replace($('res-letters'), h('div.card-head', h('h2#res-letters-heading', t('res.letters'))),
    h('table#res-letters-table.table', h('thead', h('tr', ['supplier', 'kind', 'digest'].map((c) => h('th', t(`res.col.${c}`))))),
      h('tbody', res.letters.map((x) => h('tr', h('td', x.name), h('td', t(`res.kind.${x.kind}`)),
        h('td.hash.small', { title: x.letter_sha256 }, shortHash(x.letter_sha256)))))));
}

function renderActions() {
  if (!res.may_publish) return clear($('res-actions'));
  const b = h('button#res-publish.btn.btn-primary', { type: 'button' }, t('res.publish'));
  b.addEventListener('click', async () => {
    const done = busy(b);
    try {
      await post(path, { type: 'publish' });
      toast(t('res.published'));
      await refetch();
    } catch (e) {
      showBanner($('res-alert'), 'error', errorText(e));
    } finally {
      done();
    }
  });
  replace($('res-actions'), h('section#res-publish-card.card', h('div.card-head', h('h2', t('res.publish'))),
    h('p.small.muted', t('res.publish_hint', { due: formatDeadline(res.due_at) })), b));
}

function renderAll() {
  renderActions();
  renderNotice();
  renderLetter();
  renderLetters();
}

async function refetch() {
  res = await get(path);
  renderAll();
}

async function main() {
  setPageTitle('res.title');
  await initLayout({ auth: 'optional', active: 'announcements' });
  if (!tenderId) return replace($('res-alert'), errorBlock(t('common.missing_id')));
  replace($('res-loading'), loadingBlock());
  let a = null;
  try {
    [a, res] = await Promise.all([
      get(`/api/announcements/${encodeURIComponent(tenderId)}`).catch(() => null),
      get(path),
    ]);
  } catch (e) {
    clear($('res-loading'));
    const missing = e instanceof ApiError && e.status === 404;
    return replace($('res-alert'), missing ? banner('warning', t('common.not_found')) : errorBlock(errorText(e), () => location.reload()));
  }
  clear($('res-loading'));
  const ann = a && a.announcement ? { ...a, ...a.announcement } : a;
  if (ann) {
    $('crumb-tender').hidden = false;
    $('crumb-tender-link').textContent = ann.code || ann.title;
    $('crumb-tender-link').href = `/announcement.html?id=${encodeURIComponent(tenderId)}`;
  }
  $('res-page').hidden = false;
  renderAll();
  onLangChange(renderAll);
}

main();
