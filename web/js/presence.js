// The 在线 (present) card of a room page, shared by the opening hall and the committee
// room. The hub sends each viewer only what they may see (docs/opening.md, "Presence"):
// a drawn expert as their seat until the award, bidders not at all before the deadline
// and afterwards, to all but the host and supervisors, as a count.

import { t, label } from './i18n.js';
import { h, replace } from './ui.js';

/** The name shown for one member: a seat where the name is withheld. */
export function presentName(m) {
  if (m.seat) return t('eval.seat_n', { n: m.seat });
  return m.display_name || label('role', m.role);
}

/** Renders the card into `slot`: members as sent, and the bidders' count when sent. */
export function renderPresenceCard(slot, { members, bidders = null, headingId }) {
  const sorted = members.slice().sort((a, b) => String(a.role).localeCompare(String(b.role)));
  const total = sorted.length + (bidders || 0);
  replace(slot,
    h('div.card-head', h(`h2#${headingId}`, t('hall.presence')), h('span.tag', String(total))),
    sorted.length
      ? h('ul#presence-list.presence-list', sorted.map((m) => h('li', { dataset: { user: m.user_id } },
        h('span.user-avatar.small-avatar', { 'aria-hidden': 'true' }, m.seat ? String(m.seat) : presentName(m).slice(0, 1)),
        h('span', presentName(m)),
        h('span.small.muted', ` · ${label('role', m.role)}`))))
      : (bidders ? null : h('p.muted.small', t('hall.presence_empty'))),
    bidders ? h('p#presence-bidders.small', { dataset: { count: String(bidders) } }, t('hall.presence_bidders', { n: bidders })) : null);
}
