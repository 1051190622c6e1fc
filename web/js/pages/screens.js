// The screens across the city's evaluated tenders, for the supervisors (docs/collusion.md):
// R024 and R058 with the quartiles and fences used, R038 per buyer, agency and tenderer,
// bid rotation, the co-bidding graph's edges and groups, and win rates by purchaser and
// region, each naming its tenders (linked to their warnings) and organisations.

import { initLayout, setPageTitle } from '../layout.js';
import { get, errorText } from '../api.js';
import { t, onLangChange } from '../i18n.js';
import { h, clear, replace, loadingBlock, errorBlock } from '../ui.js';
import { regionName } from '../tenders.js';

const $ = (id) => document.getElementById(id);
let st = null;
let regions = [];

const num = (x) => (x === null || x === undefined ? '—' : Number(x).toFixed(3));
const name = (id) => st.names[id] || id;

function tenderLink(id) {
  const ref = st.tenders[id];
  return h('a', { href: `/warnings.html?tender=${encodeURIComponent(id)}` },
    ref ? `${ref.code} ${ref.title}` : id);
}

function section(id, title, rows, head, row) {
  return h(`section.card#${id}`, h('div.card-head', h('h2', `${title}（${rows.length}）`)),
    rows.length
      ? h('table.table', h('thead', h('tr', head.map((x) => h('th', x)))), h('tbody', rows.map(row)))
      : h('p.muted', t('scr.none')));
}

function render() {
  const m = st.meta || {};
  const priceFlag = (f) => h('tr', h('td', tenderLink(f.tender_id)), h('td', String(f.lot_no)),
    h('td', num(f.value)), h('td', f.bidders.map(name).join('、')));
  const priceHead = [t('scr.tender'), t('scr.lot'), t('scr.ratio'), t('scr.bidders')];
  replace($('scr-page'),
    h('p#scr-count', t('scr.processes', { n: st.processes })),
    h('p.small.muted#scr-fences', t('scr.fences', {
      q1: num(m.R024_q1), q3: num(m.R024_q3), lower: num(m.R024_lower_fence), upper: num(m.R058_upper_fence),
    })),
    h('p.small.muted', t('scr.note')),
    section('scr-r024', t('scr.r024'), st.r024, priceHead, priceFlag),
    section('scr-r058', t('scr.r058'), st.r058, priceHead, priceFlag),
    section('scr-r038', t('scr.r038'), st.r038, [t('scr.group'), t('scr.org'), t('scr.share')],
      (f) => h('tr', h('td', t(`scr.group.${f.group}`)), h('td', name(f.org_id)), h('td', num(f.value)))),
    section('scr-rotation', t('scr.rotation'), st.rotation, [t('scr.bidders'), t('scr.meetings')],
      (r) => h('tr', h('td', r.bidders.map(name).join('、')),
        h('td', h('ul.plain', r.processes.map((p, i) => h('li', tenderLink(p), ' — ', name(r.winners[i]))))))),
    section('scr-cobidding', t('scr.cobidding'), st.co_bidding,
      [t('scr.bidders'), t('scr.met'), t('scr.wins_together'), t('scr.tenders')],
      (e) => h('tr', h('td', e.bidders.map((b, i) => `${name(b)}（${t('scr.processes_of', { n: e.processes[i] })}）`).join(' — ')),
        h('td', String(e.meetings)),
        h('td', e.bidders.map((b, i) => `${name(b)} ${e.wins_together[i]}`).join('，')),
        h('td', h('ul.plain', e.tenders.map((id) => h('li', tenderLink(id))))))),
    section('scr-groups', t('scr.groups'), st.bidding_groups, [t('scr.bidders')],
      (g) => h('tr', h('td', g.map(name).join('、')))),
    section('scr-winrates', t('scr.winrates'), st.win_rates,
      [t('scr.org'), t('scr.where'), t('scr.won'), t('scr.elsewhere')],
      (w) => h('tr', h('td', name(w.org_id)),
        h('td', `${t(`scr.where.${w.group}`)}：${w.group === 'buyer' ? name(w.key) : regionName({ region_code: w.key }, regions)}`),
        h('td', `${w.wins} / ${w.bids}`),
        h('td', `${w.wins_elsewhere} / ${w.bids_elsewhere}`))));
}

async function main() {
  setPageTitle('scr.title');
  const me = await initLayout({ auth: 'required', active: 'screens' });
  if (!me) return;
  replace($('scr-loading'), loadingBlock());
  try {
    [st, regions] = await Promise.all([get('/api/screens'), get('/api/regions').catch(() => [])]);
  } catch (e) {
    clear($('scr-loading'));
    return replace($('scr-alert'), errorBlock(errorText(e), () => location.reload()));
  }
  clear($('scr-loading'));
  $('scr-page').hidden = false;
  render();
  onLangChange(render);
}

main();
