// Audio and video of a hub room (docs/media.md, "On the hub"), on the page's own hub
// connection: media_join → media_joined {role, ice_servers}; the client offers first (a
// publisher sends its camera and microphone, everyone else receives only), afterwards the
// SFU offers whenever the tracks change and the client answers; ICE candidates trickle
// both ways. One tile per publishing participant (one's own muted and mirrored), a
// speaking highlight from each audio track's level, and a line naming who watches.
//
//   const media = mountMedia(slot, { hub, room: `opening:${id}` });
//
// Names come from the room's presence frames (or nameOf(userId), when given).
//   media.leave();
//
// Joining waits for the user's click: browsers play sound only after a gesture, and a
// camera prompt should never come as a surprise.

import { t, pickMessage, onLangChange } from './i18n.js';
import { h, replace, clear, banner } from './ui.js';
import { presentName } from './presence.js';

// Errors that come back without a command id while our media is joining or joined.
const MEDIA_CODES = new Set([
  'MALFORMED_SDP', 'NOT_A_MEMBER', 'RECEIVE_ONLY', 'ROOM_FULL', 'WRONG_SIGNALLING_STATE',
  'UNSUPPORTED_CODEC', 'NO_MEDIA_PORT', 'BAD_ICE_CANDIDATE', 'MEDIA_INTERNAL',
  'MEDIA_NODE_UNREACHABLE',
]);
const SPEAKING_LEVEL = 0.04;
const LEVEL_MS = 120;

/** Mounts the "音视频 / Audio & video" panel into slot; returns {leave, element}. */
export function mountMedia(slot, { hub, room, nameOf: given = null }) {
  const names = new Map();
  const nameOf = (id) => (given && given(id)) || names.get(id) || '';
  const s = {
    state: 'idle', // idle | joining | joined
    wanted: false, // the user joined and has not left: rejoin after a dropped connection
    role: null,
    pc: null,
    local: null, // own MediaStream (publishers)
    audio: null, // AudioContext
    tiles: new Map(), // participant id → tile
    info: null, // the room's media as last announced
    error: '',
    moving: false, // the room's media moved to another server: joining again shortly
    chain: Promise.resolve(), // signalling, one step at a time
    pendingCandidates: [],
    levelTimer: null,
  };

  const els = {
    status: h('p.media-status.small.muted', { role: 'status', 'aria-live': 'polite' }),
    watching: h('p.media-watching.small'),
    error: h('div.media-error'),
    tiles: h('div.media-tiles'),
    actions: h('div.media-actions'),
  };
  const panel = h('section.card.media-panel', { dataset: { room } },
    h('div.card-head', h('h2', { id: 'media-heading' }, t('media.title'))),
    els.actions, els.status, els.error, els.watching, els.tiles);
  panel.setAttribute('aria-labelledby', 'media-heading');
  replace(slot, panel);

  // ------------------------------------------------------------- rendering --

  function render() {
    panel.dataset.state = s.state;
    panel.querySelector('h2').textContent = t('media.title');
    if (s.state === 'idle' && !s.moving) {
      replace(els.actions, h('button.btn.primary#media-join', { type: 'button', on: { click: join } }, t('media.join')),
        h('span.small.muted.media-hint', t('media.hint')));
    } else {
      replace(els.actions, h('button.btn#media-leave', { type: 'button', on: { click: () => leave() } }, t('media.leave')),
        s.role ? h('span.tag.media-role', { dataset: { role: s.role } }, t(`media.role_${s.role}`)) : null);
    }
    const conn = s.pc ? s.pc.connectionState : '';
    els.status.textContent = s.moving
      ? t('media.moving')
      : s.state === 'joining'
      ? t('media.joining')
      : s.state === 'joined' ? t(`media.conn_${conn || 'new'}`) : '';
    els.status.dataset.conn = conn;
    if (s.error) replace(els.error, banner('error', s.error));
    else clear(els.error);
    renderWatching();
    for (const tile of s.tiles.values()) renderTileText(tile);
  }

  function renderWatching() {
    const watchers = (s.info?.participants || []).filter((p) => p.watching);
    if (!watchers.length || s.state === 'idle') {
      els.watching.hidden = true;
      clear(els.watching);
      return;
    }
    els.watching.hidden = false;
    const names = watchers.map((p) => nameOf(p.id) || t('media.someone'));
    els.watching.dataset.count = String(watchers.length);
    els.watching.textContent = t('media.watching', { names: names.join(t('media.name_sep')), n: watchers.length });
  }

  function fail(text) {
    s.error = text;
    render();
  }

  // ------------------------------------------------------------------ tiles --

  function tileFor(id, own = false) {
    let tile = s.tiles.get(id);
    if (tile) return tile;
    const video = h('video', { autoplay: true, playsInline: true });
    video.muted = own; // one's own sound would echo
    const name = h('span.media-name');
    const muteBtn = h('button.btn.btn-small.media-mute', { type: 'button' });
    const camBtn = h('button.btn.btn-small.media-camera', { type: 'button' });
    const el = h('figure.media-tile', { dataset: { participant: id, own: own ? 'true' : 'false' } },
      video, h('figcaption', name, h('span.media-buttons', muteBtn, camBtn)));
    tile = { id, own, el, video, name, muteBtn, camBtn, stream: own ? s.local : new MediaStream(), audioOff: false, videoOff: false, analysers: new Map() };
    muteBtn.addEventListener('click', () => {
      tile.audioOff = !tile.audioOff;
      for (const tr of tile.stream.getAudioTracks()) tr.enabled = !tile.audioOff;
      renderTileText(tile);
    });
    camBtn.addEventListener('click', () => {
      tile.videoOff = !tile.videoOff;
      for (const tr of tile.stream.getVideoTracks()) tr.enabled = !tile.videoOff;
      renderTileText(tile);
    });
    video.srcObject = tile.stream;
    s.tiles.set(id, tile);
    if (own) els.tiles.prepend(el);
    else els.tiles.append(el);
    for (const tr of tile.stream.getAudioTracks()) listen(tile, tr);
    renderTileText(tile);
    return tile;
  }

  function renderTileText(tile) {
    tile.name.textContent = tile.own ? t('media.me') : (nameOf(tile.id) || t('media.someone'));
    tile.muteBtn.textContent = tile.audioOff ? t('media.unmute') : t('media.mute');
    tile.muteBtn.setAttribute('aria-pressed', String(tile.audioOff));
    tile.camBtn.textContent = tile.videoOff
      ? t(tile.own ? 'media.camera_on' : 'media.video_show')
      : t(tile.own ? 'media.camera_off' : 'media.video_hide');
    tile.camBtn.setAttribute('aria-pressed', String(tile.videoOff));
    tile.el.classList.toggle('video-off', tile.videoOff);
    tile.el.classList.toggle('waiting', tile.stream.getVideoTracks().length === 0);
  }

  function removeTile(id) {
    const tile = s.tiles.get(id);
    if (!tile) return;
    for (const a of tile.analysers.values()) a.source.disconnect();
    tile.video.srcObject = null;
    tile.el.remove();
    s.tiles.delete(id);
  }

  /** A level meter on an audio track: the tile lights up while its participant speaks. */
  function listen(tile, track) {
    if (!s.audio || tile.analysers.has(track.id)) return;
    try {
      const source = s.audio.createMediaStreamSource(new MediaStream([track]));
      const analyser = s.audio.createAnalyser();
      analyser.fftSize = 512;
      source.connect(analyser);
      tile.analysers.set(track.id, { source, analyser, data: new Float32Array(analyser.fftSize) });
    } catch (e) {
      console.warn('no level meter', e);
    }
  }

  function measure() {
    for (const tile of s.tiles.values()) {
      let level = 0;
      for (const a of tile.analysers.values()) {
        a.analyser.getFloatTimeDomainData(a.data);
        let sum = 0;
        for (const v of a.data) sum += v * v;
        level = Math.max(level, Math.sqrt(sum / a.data.length));
      }
      const speaking = level > SPEAKING_LEVEL && !tile.audioOff;
      tile.el.classList.toggle('speaking', speaking);
      tile.el.dataset.level = level.toFixed(3);
    }
  }

  // ------------------------------------------------------------- signalling --

  function send(signal) {
    hub.send({ type: 'media', room, signal });
  }

  function step(fn) {
    s.chain = s.chain.then(fn).catch((e) => fail(`${t('media.failed')}${e && e.message ? `: ${e.message}` : ''}`));
    return s.chain;
  }

  async function onJoined(msg) {
    if (msg.room !== room || s.state !== 'joining') return;
    s.role = msg.role;
    s.state = 'joined';
    const iceServers = (msg.ice_servers || []).map((x) => {
      const o = { urls: x.urls };
      if (x.username) o.username = x.username;
      if (x.credential) o.credential = x.credential;
      return o;
    });
    const pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle' });
    s.pc = pc;
    pc.addEventListener('icecandidate', (e) => {
      if (e.candidate && e.candidate.candidate) send({ type: 'candidate', candidate: e.candidate.toJSON() });
    });
    pc.addEventListener('connectionstatechange', render);
    pc.addEventListener('track', (e) => onTrack(e));
    await step(async () => {
      if (s.role === 'publisher') {
        try {
          s.local = await navigator.mediaDevices.getUserMedia({
            audio: true,
            video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 20 } },
          });
        } catch (e) {
          s.error = `${t('media.no_camera')}${e && e.message ? `（${e.message}）` : ''}`;
          s.local = null;
        }
      }
      if (s.pc !== pc) return;
      if (s.local) {
        for (const track of s.local.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [s.local] });
        tileFor('me', true);
      } else {
        pc.addTransceiver('audio', { direction: 'recvonly' });
        pc.addTransceiver('video', { direction: 'recvonly' });
      }
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ type: 'offer', sdp: pc.localDescription.sdp });
    });
    render();
  }

  function onTrack(e) {
    const stream = e.streams && e.streams[0];
    const id = stream ? stream.id : e.track.id;
    const tile = tileFor(id);
    if (!tile.stream.getTracks().includes(e.track)) tile.stream.addTrack(e.track);
    if (e.track.kind === 'audio') {
      e.track.enabled = !tile.audioOff;
      listen(tile, e.track);
    } else {
      e.track.enabled = !tile.videoOff;
    }
    const drop = () => {
      tile.stream.removeTrack(e.track);
      const a = tile.analysers.get(e.track.id);
      if (a) {
        a.source.disconnect();
        tile.analysers.delete(e.track.id);
      }
      if (!tile.stream.getTracks().length) removeTile(id);
      else renderTileText(tile);
    };
    if (stream) stream.addEventListener('removetrack', (ev) => ev.track === e.track && drop());
    e.track.addEventListener('ended', drop);
    // The element may have stalled on an empty stream: start it again.
    tile.video.srcObject = tile.stream;
    tile.video.play().catch(() => {});
    renderTileText(tile);
  }

  function onSignal(msg) {
    if (msg.room !== room || !s.pc) return;
    const pc = s.pc;
    const sig = msg.signal || {};
    switch (sig.type) {
      case 'answer':
        step(async () => {
          await pc.setRemoteDescription({ type: 'answer', sdp: sig.sdp });
          await flushCandidates(pc);
        });
        return;
      case 'offer':
        step(async () => {
          await pc.setRemoteDescription({ type: 'offer', sdp: sig.sdp });
          await flushCandidates(pc);
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          send({ type: 'answer', sdp: pc.localDescription.sdp });
        });
        return;
      case 'candidate': {
        const c = sig.candidate;
        if (!c || !c.candidate) return;
        if (pc.remoteDescription) pc.addIceCandidate(c).catch((e) => console.warn('candidate', e));
        else s.pendingCandidates.push(c);
        return;
      }
      case 'error':
        fail(pickMessage(sig.message, sig.message_en) || sig.code);
        return;
      default:
    }
  }

  async function flushCandidates(pc) {
    const list = s.pendingCandidates.splice(0);
    for (const c of list) {
      try {
        await pc.addIceCandidate(c);
      } catch (e) {
        console.warn('candidate', e);
      }
    }
  }

  function onRoom(msg) {
    if (msg.room !== room) return;
    s.info = msg.info || null;
    if (s.state === 'joined' && s.info) {
      const present = new Set(s.info.participants.map((p) => p.id));
      for (const id of [...s.tiles.keys()]) if (id !== 'me' && !present.has(id)) removeTile(id);
    }
    render();
  }

  function onError(msg) {
    if (s.state === 'idle') return;
    if (s.state === 'joined' && msg.code === 'MEDIA_NODE_UNREACHABLE') {
      // The server running the room's media stopped or handed it to another: join again
      // (where the room is now), each page after its own short wait so that they do not
      // all come at once. Nothing for the user to do meanwhile but leave.
      teardown();
      s.moving = true;
      s.error = '';
      render();
      setTimeout(() => { if (s.wanted && s.moving) join(); }, 1000 + Math.random() * 2000);
      return;
    }
    if (s.state === 'joining' || MEDIA_CODES.has(msg.code)) {
      const text = pickMessage(msg.message, msg.message_en) || msg.code;
      if (s.state === 'joining') {
        s.wanted = false;
        teardown();
      }
      fail(text);
    }
  }

  function onStatus({ status }) {
    if (status === 'live') {
      // A new connection: the server forgot our media with the old one.
      if (s.wanted && s.state === 'idle') join();
    } else if (s.state !== 'idle') {
      teardown();
      render();
    }
  }

  const off = [
    hub.on('media_joined', (m) => onJoined(m).catch((e) => fail(e.message))),
    hub.on('media', onSignal),
    hub.on('media_room', onRoom),
    hub.on('error', onError),
    hub.on('status', onStatus),
    hub.on('presence', (msg) => {
      if (msg.room !== room) return;
      for (const m of msg.members || []) names.set(m.user_id, presentName(m));
      render();
    }),
  ];

  // ------------------------------------------------------------ join, leave --

  function join() {
    if (s.state !== 'idle') return;
    s.error = '';
    s.moving = false;
    s.wanted = true;
    if (!s.audio && window.AudioContext) {
      try {
        s.audio = new AudioContext(); // created in the click: allowed to play
      } catch (_) {
        s.audio = null;
      }
    }
    if (s.audio && s.audio.state === 'suspended') s.audio.resume().catch(() => {});
    if (!window.RTCPeerConnection) {
      fail(t('media.unsupported'));
      return;
    }
    if (!hub.send({ type: 'media_join', room })) {
      fail(t('common.network_error'));
      return;
    }
    s.state = 'joining';
    clearInterval(s.levelTimer);
    s.levelTimer = setInterval(measure, LEVEL_MS);
    render();
  }

  function teardown() {
    clearInterval(s.levelTimer);
    s.levelTimer = null;
    if (s.pc) {
      s.pc.close();
      s.pc = null;
    }
    for (const id of [...s.tiles.keys()]) removeTile(id);
    if (s.local) for (const tr of s.local.getTracks()) tr.stop();
    s.local = null;
    s.pendingCandidates = [];
    s.chain = Promise.resolve();
    s.state = 'idle';
    s.role = null;
  }

  function leave({ quiet = false } = {}) {
    if (s.state !== 'idle') hub.send({ type: 'media_leave', room });
    s.wanted = false;
    s.moving = false;
    s.error = '';
    teardown();
    if (!quiet) render();
  }

  const onUnload = () => leave({ quiet: true });
  window.addEventListener('pagehide', onUnload);
  onLangChange(render);
  render();

  return {
    element: panel,
    leave,
    /** Stops everything and lets go of the hub: the page is done with media. */
    destroy() {
      leave({ quiet: true });
      for (const f of off) f();
      window.removeEventListener('pagehide', onUnload);
      if (s.audio) s.audio.close().catch(() => {});
    },
    /** Names may arrive later (presence): relabel the tiles and the watching line. */
    refresh: render,
  };
}
