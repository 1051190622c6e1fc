// The skeleton every live room page shares — the opening hall, the evaluation room, and
// the rooms of the stages to come: the hub connection (`<kind>:<tender id>`) with its
// status line, who is present, the feed of the tender's ledger events, commands over the
// hub with the same command over HTTP as the fallback, and the room's audio and video. A
// page hands over its slots and what it does with each event; it keeps its own state and
// renders the rest itself.

import { post, ApiError } from './api.js';
import { t } from './i18n.js';
import { formatCST, serverNow, clockInfo } from './format.js';
import { h, replace } from './ui.js';
import { HubRoom } from './hub.js';
import { mountMedia } from './media.js';
import { renderPresenceCard } from './presence.js';

/** Ledger events kept in a room's feed, newest last. */
const FEED_MAX = 200;

export class LiveRoom {
  /**
   * kind: 'opening' | 'evaluation' | …; slots: {conn, presence, feed, media} elements;
   * presenceHeading, feedHeading: the ids the cards' headings take (the page's
   * aria-labelledby); feedTitle: the feed's i18n key; eventText(e): a feed line;
   * onEvent(e) after the feed took it — the page renders the feed (renderFeed) when it
   * renders, once per event; onFrame(msg) for other frames (progress);
   * onSubscribed() once subscribed (again); onFailed(error) when the hub gives up.
   */
  constructor(kind, tenderId, { slots, presenceHeading, feedHeading, feedTitle, eventText, onEvent, onFrame, onSubscribed, onFailed }) {
    this.kind = kind;
    this.tenderId = tenderId;
    this.name = `${kind}:${tenderId}`;
    this.slots = slots;
    this.headings = { presence: presenceHeading, feed: feedHeading };
    this.feedTitle = feedTitle;
    this.eventText = eventText;
    this.handlers = { onEvent, onFrame, onSubscribed, onFailed };
    this.conn = { status: 'connecting', error: null };
    this.presence = { members: [], bidders: null };
    this.feed = [];
    this.hub = null;
  }

  /** Connects, subscribes and joins the room's media. */
  start() {
    this.hub = new HubRoom(this.name, {
      onEvent: (e) => {
        this.feed.push(e);
        if (this.feed.length > FEED_MAX) this.feed = this.feed.slice(-FEED_MAX);
        this.handlers.onEvent(e);
      },
      onFrame: (msg) => this.handlers.onFrame && this.handlers.onFrame(msg),
      onPresence: (members, bidders) => {
        this.presence = { members, bidders };
        this.renderPresence();
      },
      onSubscribed: () => this.handlers.onSubscribed && this.handlers.onSubscribed(),
      onStatus: (status, error) => {
        this.conn = { status, error };
        this.renderConn();
        if (status === 'failed' && error && this.handlers.onFailed) this.handlers.onFailed(error);
      },
    }).start();
    // Audio and video over the same connection (media.js).
    if (this.slots.media) mountMedia(this.slots.media, { hub: this.hub, room: this.name });
    this.startClock();
    return this;
  }

  /** The server's clock, running beside the connection line: the time every deadline of
   *  the room is judged by, this browser's own clock corrected over the hub. Not a live
   *  region (a screen reader would read it every second). */
  startClock() {
    if (this.clock) return;
    this.clock = h('div#room-clock.room-clock.small', { 'aria-live': 'off' });
    this.slots.conn.after(this.clock);
    const tick = () => {
      const now = serverNow();
      const info = clockInfo();
      this.clock.dataset.serverMs = String(now);
      this.clock.dataset.source = info.source || '';
      this.clock.dataset.offsetMs = String(info.offsetMs);
      replace(this.clock,
        h('span.room-clock-label', t('hall.clock')), ' ',
        h('time.room-clock-time', { datetime: new Date(now).toISOString() }, formatCST(now, { seconds: true })),
        info.source === 'hub'
          ? h('span.muted', ' ', t('hall.clock_synced', { offset: (info.offsetMs / 1000).toFixed(1), rtt: info.rttMs }))
          : h('span.muted', ' ', t('hall.clock_unsynced')));
    };
    tick();
    // Aligned to the second, so the seconds change when the server's do.
    setTimeout(() => {
      tick();
      setInterval(tick, 1000);
    }, 1000 - (serverNow() % 1000));
  }

  /** A room command: over the hub when it is live, else over HTTP (same checks, same errors). */
  async command(cmd) {
    if (this.hub && this.hub.isLive()) {
      try {
        return await this.hub.command(cmd);
      } catch (e) {
        // A connection that dropped mid-command: the HTTP answer says what happened.
        if (!(e instanceof ApiError && e.code === 'NETWORK')) throw e;
      }
    }
    return post(`/api/tenders/${encodeURIComponent(this.tenderId)}/${this.kind}`, cmd);
  }

  renderConn() {
    const slot = this.slots.conn;
    slot.dataset.status = this.conn.status;
    replace(slot, h('span.conn-dot', { 'aria-hidden': 'true' }), h('span#conn-text', t(`hall.conn.${this.conn.status}`)));
  }

  renderPresence() {
    renderPresenceCard(this.slots.presence, { ...this.presence, headingId: this.headings.presence });
  }

  renderFeed() {
    const items = this.feed.slice().reverse();
    replace(this.slots.feed,
      h('div.card-head', h(`h2#${this.headings.feed}`, t(this.feedTitle))),
      items.length
        ? h('ol#event-feed.event-feed', { 'aria-live': 'off' }, items.map((e) => h('li.feed-item', { dataset: { kind: e.kind, seq: e.seq } },
          h('time.feed-time.small.muted', formatCST(e.at, { seconds: true }).slice(11)),
          h('span.feed-text', this.eventText(e)))))
        : h('p.muted.small', t('hall.feed_empty')));
  }

  /** The connection line, presence and feed again (after a change of language). */
  renderAll() {
    this.renderConn();
    this.renderPresence();
    this.renderFeed();
  }
}
