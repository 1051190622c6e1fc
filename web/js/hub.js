// The hub (GET /api/hub, src/hub): one WebSocket per page, subscribed to one room at a
// time. Ledger events arrive as {type:"event", event:{seq,...}}; the client remembers the
// last seq it handed on and, after a dropped connection or a {type:"resync"}, subscribes
// again from there, so nothing is missed or seen twice. Commands (docs/opening.md) go out
// as {type:"command", id, room, command} and are answered by an ack or an error with the
// same id.

import { ApiError, csrf } from './api.js';
import { noteHubClock } from './format.js';

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const PING_MS = 25000;
const COMMAND_TIMEOUT_MS = 20000;
// Errors that reconnecting will not cure.
const FINAL = new Set(['FORBIDDEN', 'NOT_FOUND', 'UNAUTHENTICATED', 'NOT_ON_PANEL']);

let nextId = 1;

export class HubRoom {
  /**
   * room: "opening:<tender id>"; handlers: onEvent(event), onFrame(msg) for other room
   * frames (progress...), onPresence(members), onStatus(status, error) with status
   * connecting | live | reconnecting | failed | closed, onSubscribed(msg).
   */
  constructor(room, handlers = {}, { sinceSeq = 0 } = {}) {
    this.room = room;
    this.h = handlers;
    this.lastSeq = sinceSeq;
    this.ws = null;
    this.status = 'closed';
    this.attempt = 0;
    this.pending = new Map();
    this.stopped = false;
    this.timer = null;
    this.pinger = null;
    this.listeners = new Map();
    this.onOnline = () => {
      if (this.status === 'reconnecting') this.reconnectNow();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.ws) this.ws.close(1000);
    this.ws = null;
    this.setStatus('closed');
  }

  setStatus(status, error = null) {
    this.status = status;
    if (this.h.onStatus) this.h.onStatus(status, error);
    this.emit('status', { type: 'status', status, error });
  }

  /**
   * Also calls fn(msg) for every frame of this type (media_joined, media, media_room...),
   * for errors that answer no command ('error') and for status changes ('status', with
   * {status, error}); returns a function that stops it. For modules sharing the page's
   * connection (media.js).
   */
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type)?.delete(fn);
  }

  emit(type, msg) {
    for (const fn of this.listeners.get(type) || []) {
      try {
        fn(msg);
      } catch (e) {
        console.error(e);
      }
    }
  }

  url() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // A WebSocket cannot carry headers: the session's CSRF token goes in the query.
    const token = csrf();
    return `${proto}//${location.host}/api/hub${token ? `?csrf=${encodeURIComponent(token)}` : ''}`;
  }

  connect() {
    if (this.stopped) return;
    this.setStatus(this.attempt === 0 ? 'connecting' : 'reconnecting');
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch (e) {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener('open', () => {
      if (this.ws !== ws) return;
      this.subscribe();
      clearInterval(this.pinger);
      // Each ping carries this browser's clock; the pong the server's (format.js).
      const ping = () => this.send({ type: 'ping', t: Date.now() });
      // Three at first (the quickest round trip sets the clock), then one a while.
      ping();
      setTimeout(() => this.ws === ws && ping(), 1000);
      setTimeout(() => this.ws === ws && ping(), 3000);
      this.pinger = setInterval(ping, PING_MS);
    });
    ws.addEventListener('message', (ev) => {
      if (this.ws !== ws) return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch (_) {
        return;
      }
      this.receive(msg);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pinger);
      this.failPending();
      // 1012: the node is stopping; another takes us at once, everyone at a different
      // moment within two seconds rather than all together.
      const spread = ev.code === 1012;
      if (!this.stopped && this.status !== 'failed') this.scheduleReconnect(spread);
    });
  }

  scheduleReconnect(spread = false) {
    if (this.stopped) return;
    const delay = spread
      ? Math.floor(Math.random() * 2000)
      : BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt += 1;
    this.setStatus('reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    clearTimeout(this.timer);
    if (this.ws) this.ws.close();
    else this.connect();
  }

  send(obj) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(obj));
    return true;
  }

  subscribe() {
    // A new subscription starts its presence versions afresh.
    this.presenceVersion = -1;
    this.send({ type: 'subscribe', room: this.room, since_seq: this.lastSeq });
  }

  receive(msg) {
    if (msg.type !== 'error' && msg.type !== 'ack') this.emit(msg.type, msg);
    switch (msg.type) {
      case 'event': {
        const e = msg.event;
        if (!e || msg.room !== this.room) return;
        if (typeof e.seq === 'number') {
          if (e.seq <= this.lastSeq) return;
          this.lastSeq = e.seq;
        }
        if (this.h.onEvent) this.h.onEvent(e);
        return;
      }
      case 'subscribed':
        if (msg.room !== this.room) return;
        this.attempt = 0;
        this.setStatus('live');
        if (this.h.onSubscribed) this.h.onSubscribed(msg);
        return;
      case 'resync':
        if (msg.room && msg.room !== this.room) return;
        // Behind the live stream: replay from the last event handed on.
        this.subscribe();
        return;
      case 'presence':
        if (msg.room !== this.room) return;
        // The first frame of a subscription comes directly and may overtake an older one.
        if (typeof msg.version === 'number') {
          if (msg.version < this.presenceVersion) return;
          this.presenceVersion = msg.version;
        }
        if (this.h.onPresence) this.h.onPresence(msg.members || [], msg.bidders ?? null);
        return;
      case 'ack':
      case 'error': {
        const p = msg.id !== undefined ? this.pending.get(msg.id) : null;
        if (p) {
          this.pending.delete(msg.id);
          clearTimeout(p.timer);
          if (msg.type === 'ack') p.resolve(msg.result ?? {});
          else p.reject(new ApiError({ status: 0, ...msg, body: msg }));
          return;
        }
        if (msg.type === 'error') this.emit('error', msg);
        if (msg.type === 'error' && FINAL.has(msg.code) && this.status !== 'live') {
          // The subscription itself was refused.
          this.setStatus('failed', new ApiError({ status: 0, ...msg, body: msg }));
          if (this.ws) this.ws.close(1000);
        }
        return;
      }
      case 'pong':
        if (typeof msg.t === 'number') noteHubClock(msg.now, msg.t, Date.now());
        return;
      default:
        if (msg.room === this.room && this.h.onFrame) this.h.onFrame(msg);
    }
  }

  /** True when commands can go over the socket now. */
  isLive() {
    return this.status === 'live' && Boolean(this.ws) && this.ws.readyState === WebSocket.OPEN;
  }

  /** Sends a room command; resolves with the ack's result, rejects with an ApiError. */
  command(command) {
    const id = `c-${nextId++}`;
    return new Promise((resolve, reject) => {
      if (!this.isLive()) {
        reject(new ApiError({ status: 0, code: 'NETWORK' }));
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ApiError({ status: 0, code: 'NETWORK' }));
      }, COMMAND_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ type: 'command', id, room: this.room, command });
    });
  }

  failPending() {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new ApiError({ status: 0, code: 'NETWORK' }));
      this.pending.delete(id);
    }
  }
}
