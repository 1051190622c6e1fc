// Formatting helpers: money (integer fen), Chinese capital amounts (大写),
// China Standard Time (UTC+8) regardless of the browser's own time zone,
// and countdowns against the server's clock.

const CST_OFFSET_MS = 8 * 60 * 60 * 1000;

// ---------------------------------------------------------------- clock --

// Offset between the server clock and this browser's clock, in ms.
// api.js feeds it from the `Date` header of responses; the server's clock is
// the only clock that counts for deadlines.
let clockOffsetMs = 0;
let clockSamples = 0;

// The hub's pongs carry the server's clock to the millisecond (hub.js): once one came,
// the offset is the one of the quickest round trip among the last few, and the Date
// headers' coarser estimates are no longer used.
let hubSamples = [];

export function noteServerDate(dateHeader, sentAt, receivedAt) {
  if (hubSamples.length) return;
  const server = Date.parse(dateHeader || '');
  if (!Number.isFinite(server)) return;
  // The Date header has one-second resolution: it truncates, so add half.
  const estimate = server + 500 - (sentAt + receivedAt) / 2;
  // Smooth a little so a single slow response does not make the clock jump.
  clockOffsetMs = clockSamples === 0 ? estimate : clockOffsetMs * 0.7 + estimate * 0.3;
  clockSamples += 1;
}

/** A pong's clock: the server's `now` when the ping sent at `sentAt` (this browser's
 *  clock) came back at `receivedAt`; the server read its clock half-way, roughly. */
export function noteHubClock(now, sentAt, receivedAt) {
  const rtt = receivedAt - sentAt;
  if (!Number.isFinite(now) || !(rtt >= 0)) return;
  hubSamples.push({ offset: now + rtt / 2 - receivedAt, rtt });
  if (hubSamples.length > 8) hubSamples = hubSamples.slice(-8);
  const best = hubSamples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
  clockOffsetMs = best.offset;
  clockSamples += 1;
}

/** How this browser's clock is corrected: the offset (ms), the round trip it was
 *  measured over, and from where ('hub', 'http' or null before any answer). */
export function clockInfo() {
  if (hubSamples.length) {
    const best = hubSamples.reduce((a, b) => (b.rtt < a.rtt ? b : a));
    return { offsetMs: Math.round(best.offset), rttMs: best.rtt, source: 'hub' };
  }
  return { offsetMs: Math.round(clockOffsetMs), rttMs: null, source: clockSamples ? 'http' : null };
}

/** Current time by the server's clock (Unix ms). */
export function serverNow() {
  if (hubSamples.length) return Date.now() + Math.round(clockOffsetMs);
  // Ignore sub-second differences: they are below the header's resolution.
  return Date.now() + (Math.abs(clockOffsetMs) < 1500 ? 0 : Math.round(clockOffsetMs));
}

// ---------------------------------------------------------------- money --

function toBigIntFen(fen) {
  if (typeof fen === 'bigint') return fen;
  if (typeof fen === 'number') {
    if (!Number.isFinite(fen)) return null;
    return BigInt(Math.trunc(fen));
  }
  if (typeof fen === 'string' && /^-?\d+$/.test(fen.trim())) return BigInt(fen.trim());
  return null;
}

function groupThousands(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** 123456789 → "1,234,567.89" (no currency sign). */
export function fenToYuan(fen, { grouping = true } = {}) {
  const v = toBigIntFen(fen);
  if (v === null) return '—';
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const yuan = (abs / 100n).toString();
  const cents = (abs % 100n).toString().padStart(2, '0');
  return (neg ? '-' : '') + (grouping ? groupThousands(yuan) : yuan) + '.' + cents;
}

/** 123456789 → "￥1,234,567.89". */
export function formatMoney(fen) {
  const s = fenToYuan(fen);
  if (s === '—') return s;
  return s.startsWith('-') ? '-￥' + s.slice(1) : '￥' + s;
}

/** Plain yuan string for an input box: 123450 → "1234.50". */
export function fenToInput(fen) {
  const s = fenToYuan(fen, { grouping: false });
  return s === '—' ? '' : s;
}

const FULLWIDTH = /[０-９．，]/g;
function halfWidth(s) {
  return s.replace(FULLWIDTH, (c) => {
    if (c === '．') return '.';
    if (c === '，') return ',';
    return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
  });
}

/**
 * Parse a yuan amount typed by a person into integer fen, EXACTLY, by string
 * arithmetic (never float math). Accepts "1234", "1,234.5", "１２３４．５０",
 * a leading ￥/¥. Rejects negatives, more than two decimals, junk.
 * Returns {ok:true, fen} or {ok:false, error} where error is an i18n key.
 */
export function parseYuanToFen(input) {
  let s = halfWidth(String(input ?? '')).trim().replace(/^[￥¥]\s*/, '').replace(/\s+/g, '');
  if (s === '') return { ok: false, error: 'err.amount_required' };
  if (s.includes(',')) {
    // Thousands separators must be well placed: 1,234,567.89
    if (!/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(s)) return { ok: false, error: 'err.amount_format' };
    s = s.replace(/,/g, '');
  }
  const m = /^(\d+)(?:\.(\d*))?$/.exec(s);
  if (!m) {
    if (/^-/.test(s)) return { ok: false, error: 'err.amount_positive' };
    return { ok: false, error: 'err.amount_format' };
  }
  const intPart = m[1];
  const frac = m[2] ?? '';
  if (frac.length > 2) return { ok: false, error: 'err.amount_decimals' };
  const fenBig = BigInt(intPart) * 100n + BigInt((frac + '00').slice(0, 2));
  if (fenBig > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: 'err.amount_too_large' };
  if (fenBig <= 0n) return { ok: false, error: 'err.amount_positive' };
  return { ok: true, fen: Number(fenBig) };
}

// --------------------------------------------------- 大写 (capital numerals) --

const CN_DIGITS = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const CN_UNITS = ['', '拾', '佰', '仟'];
const CN_GROUPS = ['', '万', '亿', '万'];

function integerToCapital(digits) {
  // digits: string without leading zeros, not "0"
  let out = '';
  let zeroPending = false;
  const n = digits.length;
  let groupHasDigit = false;
  let aboveYiHasDigit = false; // any digit in the 亿 and 万亿 groups
  for (let i = 0; i < n; i++) {
    const d = digits.charCodeAt(i) - 48;
    const pos = n - 1 - i; // position from the right
    if (d === 0) {
      zeroPending = out !== '';
    } else {
      if (zeroPending) out += '零';
      zeroPending = false;
      out += CN_DIGITS[d] + CN_UNITS[pos % 4];
      groupHasDigit = true;
      if (pos >= 8) aboveYiHasDigit = true;
    }
    if (pos % 4 === 0) {
      // 亿 closes both the 亿 group and a 万亿 group above it: 壹万贰仟亿.
      const closes = pos === 8 ? aboveYiHasDigit : groupHasDigit;
      if (closes && pos > 0) {
        if (groupHasDigit || pos === 8) out += CN_GROUPS[(pos / 4) % 4];
        // A zero trailing inside a group is not read when the next group's
        // thousands digit follows (壹拾万壹仟); a whole empty group keeps it.
        if (digits.charCodeAt(i + 1) - 48 !== 0) zeroPending = false;
      }
      groupHasDigit = false;
    }
  }
  return out;
}

/**
 * Chinese capital amount (中文大写金额) of an integer fen amount.
 * 123450 → "壹仟贰佰叁拾肆元伍角整"; 123456 → "壹仟贰佰叁拾肆元伍角陆分";
 * 123405 → "壹仟贰佰叁拾肆元零伍分"; 0 → "零元整".
 */
export function amountInWords(fen) {
  const v = toBigIntFen(fen);
  if (v === null) return '';
  const neg = v < 0n;
  const abs = neg ? -v : v;
  const yuan = abs / 100n;
  const jiao = Number((abs % 100n) / 10n);
  const fenD = Number(abs % 10n);
  let out = '';
  if (yuan > 0n) out += integerToCapital(yuan.toString()) + '元';
  if (jiao === 0 && fenD === 0) {
    out = (out || '零元') + '整';
  } else {
    if (jiao > 0) {
      out += CN_DIGITS[jiao] + '角';
    } else if (yuan > 0n) {
      out += '零';
    }
    if (fenD > 0) out += CN_DIGITS[fenD] + '分';
    else out += '整';
  }
  return (neg ? '负' : '') + out;
}

// ----------------------------------------------------------------- time --

function pad(n, w = 2) {
  return String(n).padStart(w, '0');
}

function cstParts(ms) {
  const d = new Date(Number(ms) + CST_OFFSET_MS);
  return {
    y: d.getUTCFullYear(),
    mo: d.getUTCMonth() + 1,
    d: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    wd: d.getUTCDay(),
  };
}

function isTime(ms) {
  return ms !== null && ms !== undefined && ms !== '' && Number.isFinite(Number(ms));
}

/** "2026-01-08 09:30" in China Standard Time. */
export function formatCST(ms, { seconds = false } = {}) {
  if (!isTime(ms)) return '—';
  const p = cstParts(ms);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}${seconds ? ':' + pad(p.s) : ''}`;
}

/**
 * A deadline in China Standard Time as the law counts days: an instant at 00:00 is the
 * end of the day before, "2027-01-05 24:00"; any other as formatCST.
 */
export function formatDeadline(ms) {
  if (!isTime(ms)) return '—';
  const p = cstParts(ms);
  if (p.h !== 0 || p.mi !== 0 || p.s !== 0) return formatCST(ms);
  const q = cstParts(Number(ms) - 1);
  return `${q.y}-${pad(q.mo)}-${pad(q.d)} 24:00`;
}

/** "2026-01-08" in China Standard Time. */
export function formatCSTDate(ms) {
  if (!isTime(ms)) return '—';
  const p = cstParts(ms);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}`;
}

const WEEKDAYS_ZH = ['日', '一', '二', '三', '四', '五', '六'];
const WEEKDAYS_EN = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** Long form with weekday: "2026年1月8日（星期四）09:30" / "Thu 2026-01-08 09:30". */
export function formatCSTLong(ms, lang = 'zh-CN') {
  if (!isTime(ms)) return '—';
  const p = cstParts(ms);
  if (lang === 'en') return `${WEEKDAYS_EN[p.wd]} ${p.y}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}`;
  return `${p.y}年${p.mo}月${p.d}日（星期${WEEKDAYS_ZH[p.wd]}）${pad(p.h)}:${pad(p.mi)}`;
}

/** Value for <input type="datetime-local">, in China Standard Time. */
export function toCSTInputValue(ms) {
  if (!isTime(ms)) return '';
  const p = cstParts(ms);
  return `${p.y}-${pad(p.mo)}-${pad(p.d)}T${pad(p.h)}:${pad(p.mi)}`;
}

/**
 * Read an <input type="datetime-local"> value as China Standard Time (UTC+8)
 * whatever the browser's time zone. Returns Unix ms or null.
 */
export function parseCSTInputValue(value) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$/.exec(String(value || '').trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s] = m.map((x) => (x === undefined ? 0 : Number(x)));
  const ms = Date.UTC(y, mo - 1, d, h, mi, s || 0) - CST_OFFSET_MS;
  // Reject impossible dates such as 02-31 that Date.UTC would roll over.
  const back = cstParts(ms);
  if (back.y !== y || back.mo !== mo || back.d !== d) return null;
  return ms;
}

/** Split a duration into days/hours/minutes/seconds. */
export function splitDuration(ms) {
  const total = Math.max(0, Math.floor(ms / 1000));
  return {
    days: Math.floor(total / 86400),
    hours: Math.floor((total % 86400) / 3600),
    minutes: Math.floor((total % 3600) / 60),
    seconds: total % 60,
  };
}

/** "3天 04:05:06" / "3d 04:05:06"; null when the moment has passed. */
export function formatCountdown(targetMs, lang = 'zh-CN', now = serverNow()) {
  const left = Number(targetMs) - now;
  if (!Number.isFinite(left) || left <= 0) return null;
  const { days, hours, minutes, seconds } = splitDuration(left);
  const hms = `${pad(hours)}:${pad(minutes)}:${pad(seconds)}`;
  if (days > 0) return lang === 'en' ? `${days}d ${hms}` : `${days}天 ${hms}`;
  return hms;
}

/** "30 分钟" / "1 小时 30 分钟" style minutes text. */
export function formatMinutes(mins, lang = 'zh-CN') {
  const n = Number(mins);
  if (!Number.isFinite(n)) return '—';
  const h = Math.floor(n / 60);
  const m = n % 60;
  if (lang === 'en') {
    if (h && m) return `${h} h ${m} min`;
    if (h) return `${h} h`;
    return `${m} min`;
  }
  if (h && m) return `${h} 小时 ${m} 分钟`;
  if (h) return `${h} 小时`;
  return `${m} 分钟`;
}

/** First characters of a hex hash: "3fa9c0d1e2b4…". */
export function shortHash(hash, n = 12) {
  if (!hash) return '—';
  const s = String(hash);
  return s.length > n ? s.slice(0, n) + '…' : s;
}
