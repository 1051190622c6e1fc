// Display pieces shared by the announcement page, the tender page and the
// lists: budgets, the schedule (timeline), amendments, the ledger table.

import { t, label, getLang, withColon } from './i18n.js';
import { formatMoney, amountInWords, formatCST, formatMinutes, shortHash, serverNow } from './format.js';
import { h, countdown, copyText } from './ui.js';

export const METHODS = [
  'open_tendering',
  'invited_tendering',
  'competitive_negotiation',
  'competitive_consultation',
  'inquiry',
  'single_source',
  'framework_agreement',
];

export const CATEGORIES = ['goods', 'services', 'works'];

function num(v) {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Total budget in fen: an explicit total if the server sends one, else the lots' sum. */
export function budgetTotal(x) {
  if (!x) return null;
  for (const k of ['budget_total_fen', 'total_budget_fen', 'budget_fen']) {
    const v = num(x[k]);
    if (v !== null) return v;
  }
  if (Array.isArray(x.lots) && x.lots.length) {
    let sum = 0n;
    for (const l of x.lots) sum += BigInt(Math.trunc(num(l.budget_fen) || 0));
    return Number(sum);
  }
  return null;
}

/**
 * The schedule of a tender or announcement, wherever the server puts it:
 * top-level fields, a `timeline` object, or a `timeline` array of {kind, at}.
 */
export function schedule(x) {
  const out = {
    published_at: num(x.published_at),
    clarify_deadline: num(x.clarify_deadline),
    bid_deadline: num(x.bid_deadline ?? x.opening_at),
    decrypt_window_mins: num(x.decrypt_window_mins),
  };
  const tl = x.timeline;
  if (tl && !Array.isArray(tl) && typeof tl === 'object') {
    out.published_at ??= num(tl.published_at ?? tl.published);
    out.clarify_deadline ??= num(tl.clarify_deadline ?? tl.clarify);
    out.bid_deadline ??= num(tl.bid_deadline ?? tl.opening_at ?? tl.opening);
    out.decrypt_window_mins ??= num(tl.decrypt_window_mins ?? tl.decrypt_window);
    if (out.decrypt_window_mins === null && num(tl.decrypt_until) !== null && out.bid_deadline !== null) {
      out.decrypt_window_mins = Math.round((num(tl.decrypt_until) - out.bid_deadline) / 60000);
    }
  } else if (Array.isArray(tl)) {
    for (const item of tl) {
      if (!item || typeof item !== 'object') continue;
      const k = String(item.kind ?? item.key ?? item.name ?? item.event ?? '').toLowerCase();
      const at = num(item.at ?? item.time ?? item.ms);
      if (/publish/.test(k)) out.published_at ??= at;
      else if (/clarif/.test(k)) out.clarify_deadline ??= at;
      else if (/decrypt/.test(k)) {
        if (out.decrypt_window_mins === null) {
          const mins = num(item.mins ?? item.minutes ?? item.decrypt_window_mins);
          if (mins !== null) out.decrypt_window_mins = mins;
          else if (at !== null && out.bid_deadline !== null) out.decrypt_window_mins = Math.round((at - out.bid_deadline) / 60000);
        }
      } else if (/deadline|open|bid/.test(k)) out.bid_deadline ??= at;
    }
  }
  return out;
}

export function regionName(x, regions) {
  if (regions && x.region_code) {
    const r = regions.find((r) => r.code === x.region_code);
    if (r) return getLang() === 'en' ? r.name_en || r.name_zh : r.name_zh;
  }
  return x.region_name || x.region || x.region_code || '—';
}

export function purchaserName(x) {
  return x.purchaser_name || (x.purchaser && x.purchaser.name) || '—';
}

export function agencyName(x) {
  return x.agency_name || (x.agency && x.agency.name) || '—';
}

// --------------------------------------------------------------- blocks --

export function moneyWithWords(fen, { large = false } = {}) {
  if (fen === null || fen === undefined) return h('span.muted', '—');
  return h('span.money-block',
    h(large ? 'span.money.money-large' : 'span.money', formatMoney(fen)),
    h('span.words', { lang: 'zh-CN' }, ` ${amountInWords(fen)}`));
}

export function lotsTable(lots) {
  const list = Array.isArray(lots) ? lots : [];
  const total = budgetTotal({ lots: list });
  return h('div.table-wrap',
    h('table.table.lots-table',
      h('thead', h('tr',
        h('th.nowrap', { scope: 'col' }, t('ann.lot_no')),
        h('th', { scope: 'col' }, t('field.lot_name')),
        h('th.num', { scope: 'col' }, t('field.budget')),
        h('th.hide-mobile', { scope: 'col' }, t('ann.words')))),
      h('tbody', list.map((l, i) => h('tr',
        h('td.nowrap', String(l.no ?? l.lot_no ?? i + 1)),
        h('td', l.name || '—'),
        h('td.num.money', formatMoney(l.budget_fen)),
        h('td.hide-mobile.words', { lang: 'zh-CN' }, amountInWords(l.budget_fen))))),
      list.length > 1
        ? h('tfoot', h('tr',
          h('td', { colspan: '2' }, t('ann.total')),
          h('td.num.money', formatMoney(total)),
          h('td.hide-mobile.words', { lang: 'zh-CN' }, amountInWords(total))))
        : null));
}

/** Vertical schedule: 公告发布, 澄清截止, 投标截止/开标时间, 解密时长. */
export function timeline(x) {
  const s = schedule(x);
  const now = serverNow();
  const lang = getLang();
  const decryptEnd = s.bid_deadline !== null && s.decrypt_window_mins !== null ? s.bid_deadline + s.decrypt_window_mins * 60000 : null;
  const items = [
    { key: 'ann.tl_published', at: s.published_at },
    { key: 'ann.tl_clarify', at: s.clarify_deadline },
    { key: 'ann.tl_deadline', at: s.bid_deadline, countdown: true },
    {
      key: 'ann.tl_decrypt',
      at: decryptEnd,
      text: s.decrypt_window_mins !== null ? formatMinutes(s.decrypt_window_mins, lang) : '—',
      note: decryptEnd !== null ? t('ann.tl_decrypt_detail', { mins: formatMinutes(s.decrypt_window_mins, lang), end: formatCST(decryptEnd) }) : null,
      start: s.bid_deadline,
    },
  ];
  return h('ol.timeline', items.map((it) => {
    const done = it.at !== null && it.at <= now;
    const isNow = it.start !== undefined && it.start !== null && it.start <= now && it.at > now;
    return h('li.timeline-item', { class: isNow ? 'is-now' : done ? 'is-done' : '' },
      h('span.timeline-dot', { 'aria-hidden': 'true' }),
      h('div.timeline-title', t(it.key),
        isNow ? h('span.tag', t('ann.tl_now')) : done ? h('span.tag.tag-plain', t('ann.tl_done')) : null),
      h('div.timeline-time', it.text ?? (it.at !== null ? `${formatCST(it.at)} ${t('common.cst')}` : '—')),
      it.countdown && it.at !== null && it.at > now && (!x.status || x.status === 'published')
        ? h('div.timeline-note', countdown(it.at, { format: 'list.opens_in', done: 'list.closed' }))
        : null,
      it.note ? h('div.timeline-note', it.note) : null);
  }));
}

// ------------------------------------------------------------ amendments --

const CHANGE_FIELDS = {
  title: 'field.title',
  description: 'field.description',
  clarify_deadline: 'field.clarify_deadline',
  bid_deadline: 'field.bid_deadline',
  decrypt_window_mins: 'field.decrypt_window',
  lots: 'field.lots',
  region_code: 'field.region',
  category: 'field.category',
  method: 'field.method',
};

function isFromTo(v) {
  return v && typeof v === 'object' && !Array.isArray(v) &&
    (('from' in v && 'to' in v) || ('old' in v && 'new' in v) || ('before' in v && 'after' in v));
}

/** [{field, from, to, hasFrom}] from any of the likely shapes of `changes`. */
export function normalizeChanges(changes) {
  if (!changes) return [];
  if (Array.isArray(changes)) {
    return changes.map((c) => ({
      field: c.field ?? c.name ?? c.key,
      from: c.from ?? c.old ?? c.before,
      to: c.to ?? c.new ?? c.after ?? c.value,
      hasFrom: 'from' in c || 'old' in c || 'before' in c,
    }));
  }
  if (typeof changes === 'object') {
    return Object.entries(changes)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([field, v]) =>
        isFromTo(v)
          ? { field, from: v.from ?? v.old ?? v.before, to: v.to ?? v.new ?? v.after, hasFrom: true }
          : { field, from: undefined, to: v, hasFrom: false });
  }
  return [];
}

export function formatFieldValue(field, v) {
  if (v === null || v === undefined) return '—';
  switch (field) {
    case 'clarify_deadline':
    case 'bid_deadline':
    case 'published_at':
      return `${formatCST(v)} ${t('common.cst')}`;
    case 'decrypt_window_mins':
      return formatMinutes(v, getLang());
    case 'method':
      return label('method', v);
    case 'category':
      return label('category', v);
    case 'lots':
      if (Array.isArray(v)) return v.map((l, i) => `${l.name || `#${i + 1}`} ${formatMoney(l.budget_fen)}`).join('；');
      break;
    case 'budget_fen':
      return formatMoney(v);
    default:
      break;
  }
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function changeFieldLabel(field) {
  const f = String(field);
  if (CHANGE_FIELDS[f]) return t(CHANGE_FIELDS[f]);
  return f;
}

export function amendmentsList(amendments) {
  const list = Array.isArray(amendments) ? [...amendments] : [];
  if (!list.length) return h('p.muted', t('ann.amendments_none'));
  list.sort((a, b) => (num(b.seq) ?? 0) - (num(a.seq) ?? 0));
  return h('div.amendments', list.map((a, i) => {
    const changes = normalizeChanges(a.changes);
    return h('article.amendment',
      h('div.amendment-head',
        h('strong', t('ann.amendment_no', { n: a.seq ?? list.length - i })),
        h('span.muted', `${formatCST(a.at)} ${t('common.cst')}`)),
      h('p.amendment-reason', h('span.muted', withColon(t('field.reason'))), a.reason || '—'),
      changes.length
        ? h('ul.changes', changes.map((c) => h('li.change',
          h('span.change-field', changeFieldLabel(c.field)),
          h('span.change-values',
            c.hasFrom ? [h('span.change-from', { title: t('ann.change_from') }, formatFieldValue(c.field, c.from)), h('span.change-arrow', { 'aria-label': t('ann.change_to') }, '→')] : h('span.change-arrow', { 'aria-hidden': 'true' }, '→'),
            h('span.change-to', formatFieldValue(c.field, c.to))))))
        : null);
  }));
}

// ---------------------------------------------------------------- ledger --

function actorText(actor) {
  if (!actor) return '—';
  if (typeof actor === 'object') return actor.display_name || actor.name || actor.username || actor.id || '—';
  const s = String(actor);
  // Who acted when no person did, and drawn experts by their seat.
  if (s === 'platform' || s === 'system') return t(`ledger.actor_${s}`);
  const seat = /^seat-(\d+)$/.exec(s);
  if (seat) return t('eval.seat_n', { n: seat[1] });
  // An expert under the evaluation's pseudonym, before the page knows the seat.
  if (/^expert-[0-9a-f]{16}$/.test(s)) return t('role.expert');
  // A bare UUID is long; keep its start.
  return /^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(s) ? s.slice(0, 8) + '…' : s;
}

export function ledgerEvents(ledger) {
  if (Array.isArray(ledger)) return ledger;
  return (ledger && Array.isArray(ledger.events) && ledger.events) || [];
}

/**
 * Who acted, as the server describes the event's actor (`ledger.actors`): role and
 * organisation, a seat for an expert whose name is not public yet, the name once it is.
 */
function actorFromLedger(ledger, id) {
  const a = ledger && ledger.actors && ledger.actors[id];
  if (!a) return null;
  if (a.seat && !a.name) return t('eval.seat_n', { n: a.seat });
  return [a.name, label('role', a.role), a.org].filter(Boolean).join(' · ');
}

/** The ledger table; `actorName(id)` may turn actor ids into names. */
export function ledgerTable(ledger, { actorName } = {}) {
  const events = ledgerEvents(ledger);
  if (!events.length) return h('p.muted', t('tender.ledger_empty'));
  return h('div.table-wrap',
    h('table#ledger-table.table.ledger-table',
      h('thead', h('tr',
        h('th', { scope: 'col' }, t('tender.col_seq')),
        h('th', { scope: 'col' }, t('tender.col_time')),
        h('th', { scope: 'col' }, t('tender.col_kind')),
        h('th', { scope: 'col' }, t('tender.col_actor')),
        h('th', { scope: 'col' }, t('tender.col_hash')))),
      h('tbody', events.map((e) => h('tr.ledger-row', { dataset: { seq: e.seq } },
        h('td', String(e.seq ?? '')),
        h('td.nowrap', formatCST(e.at, { seconds: true })),
        h('td',
          h('span.ledger-kind', { title: e.kind || '' }, label('ledger', e.kind)),
          e.body && Object.keys(e.body).length
            ? h('details.ledger-body', h('summary.small', t('tender.col_body')), h('pre.json', JSON.stringify(e.body, null, 2)))
            : null),
        h('td.ledger-actor', { title: typeof e.actor === 'string' ? e.actor : '' },
          (typeof e.actor === 'string' && actorFromLedger(ledger, e.actor)) || (actorName && typeof e.actor === 'string' && actorName(e.actor)) || actorText(e.actor)),
        h('td',
          h('button.btn.btn-ghost.btn-small.hash', {
            type: 'button',
            title: e.hash || '',
            'aria-label': `${t('tender.col_hash')} ${e.hash || ''}`,
            on: { click: () => e.hash && copyText(e.hash) },
          }, shortHash(e.hash))))))));
}

/** The reason given when the tender was cancelled (终止), from its ledger. */
export function cancelReasonFromLedger(ledger) {
  const events = ledgerEvents(ledger);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e && e.kind === 'tender_cancelled' && e.body && e.body.reason) return String(e.body.reason);
  }
  return null;
}

/** The result of an awarded tender from its ledger's `winner_confirmed` event, or null. */
export function awardFromLedger(ledger) {
  const events = ledgerEvents(ledger);
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i];
    if (e && e.kind === 'winner_confirmed' && e.body && Array.isArray(e.body.winners)) return { at: e.at, winners: e.body.winners };
  }
  return null;
}

/**
 * The winners (中标人) of each lot once the award is confirmed, as the public ledger
 * records them: shown on the announcement and the tender page, where a bidder told that
 * the result is out finds it.
 */
export function awardCard(ledger) {
  const award = ledger ? awardFromLedger(ledger) : null;
  if (!award || !award.winners.length) return null;
  return h('section#award-result.card', { 'aria-labelledby': 'award-heading' },
    h('div.card-head', h('h2#award-heading', t('eval.winners')),
      h('span.card-note', `${label('ledger', 'winner_confirmed')} ${formatCST(award.at)}`)),
    h('dl.kv', award.winners.map((w) => h('div.kv-item.award-winner', { dataset: { lot: w.lot_no } },
      h('dt', t('bid.lot_n', { n: w.lot_no })),
      h('dd', h('strong', w.bidder_name || '—'))))));
}

// ------------------------------------------------------------ evaluation --

/** "30%" from basis points. */
export function pct(bp) {
  const n = Number(bp);
  return `${Number.isFinite(n) ? (n / 100).toFixed(2).replace(/\.?0+$/, '') : '—'}%`;
}

function kvList(items) {
  return h('dl.kv', items.filter(Boolean).map(([k, v, wide]) =>
    h('div.kv-item', { class: wide ? 'kv-wide' : '' }, h('dt', t(k)), h('dd', v ?? '—'))));
}

/**
 * The evaluation terms as the tender states them, read-only: method, the price
 * preferences (its own small/micro rate and the rule table's domestic-product deduction,
 * R-POL-5), weights and items, and how scores are rounded. Shown on the tender page and
 * in the public announcement, so a bidder knows before bidding how bids are compared.
 */
export function evaluationCard(x, { noneHint = false } = {}) {
  const e = x.evaluation;
  if (!e && !noneHint) return null;
  const prefs = Array.isArray(x.preferences) ? x.preferences : [];
  const body = !e
    ? h('p#eval-terms-none.muted', t('tender.eval_none'))
    : h('div#eval-terms',
      kvList([
        ['field.eval_method', label('emethod', e.method)],
        ['field.eval_policy', e.reserved_for_sme
          ? t('tender.eval_reserved')
          : [t('tender.eval_sme', { rate: pct(e.sme_rate_bp) }),
            e.consortium_rate_bp !== null && e.consortium_rate_bp !== undefined ? ` · ${t('tender.eval_consortium', { rate: pct(e.consortium_rate_bp) })}` : null]],
        prefs.length
          ? ['tender.eval_preferences', h('ul#eval-preferences.eval-terms', prefs.map((p) =>
            h('li', { dataset: { rule: p.code } }, h('span.tag', p.code), ' ',
              t(`tender.pref_${p.kind}`, { rate: pct(p.rate_bp), share: pct(p.package_share_bp), source: p.source })))), true]
          : null,
        e.method === 'comprehensive' ? ['field.eval_price_weight', pct(e.price_weight_bp)] : null,
        e.method === 'comprehensive' && Array.isArray(e.items) && e.items.length
          ? ['tender.eval_items', h('ul.eval-terms', e.items.map((i) =>
            h('li', `${i.name} ${pct(i.weight_bp)}`, i.objective ? h('span.muted', t('tender.eval_objective')) : null))), true]
          : null,
        e.method === 'comprehensive' ? ['tender.eval_rounding', h('span#eval-rounding', t(`eval.rounding.${e.rounding || 'once'}`)), true] : null,
      ]),
      h('p.small.muted', t('tender.eval_advanced', {
        f: pct(e.abnormal_low_fraction_bp ?? 8000),
        p: (Number(e.outlier_points ?? 2000) / 100).toFixed(2).replace(/\.?0+$/, ''),
      })));
  return h('section#evaluation-terms.card', { 'aria-labelledby': 'eval-terms-heading' },
    h('div.card-head', h('h2#eval-terms-heading', t('tender.eval_heading'))),
    body);
}
