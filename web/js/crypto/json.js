// A strict JSON reader for the KB1 header, the package manifest and the trailer, which
// accepts exactly what the Rust side (serde_json + serde derive) accepts, so both give
// the same error code for the same bytes. JSON.parse alone cannot: it lets duplicate
// keys through (last wins), accepts lone surrogate escapes, loses integer precision and
// the text of numbers ("1" vs "1.0"), and knows nothing of serde's rules (structs may
// also be written as arrays; a missing Option field is null).
//
// parse() works on UTF-8 bytes and returns a syntax tree; the decoders below turn it into
// values, throwing DecodeError where serde would fail. The parser is iterative, so deep
// nesting cannot overflow the stack.

export class DecodeError extends Error {
  constructor(message) {
    super(message);
    this.name = 'DecodeError';
  }
}

// Nodes: {t: 'obj', entries: [[keyNode, valueNode], ...]} | {t: 'arr', items: [...]} |
// {t: 'str', v: string, ok: boolean} | {t: 'num', raw: string} | {t: 'bool', v} | {t: 'null'}.
// A string node's `ok` is false when its bytes are not UTF-8 or it holds a lone surrogate
// escape: serde_json rejects such a string wherever it is deserialised, but not inside a
// value it skips (an unknown field of a struct that allows them).

const lenientUtf8 = new TextDecoder('utf-8', { ignoreBOM: true });
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True unless `s` holds a lone surrogate (which has no UTF-8 form). */
export function wellFormed(s) {
  return typeof s.isWellFormed === 'function' ? s.isWellFormed() : !LONE_SURROGATE.test(s);
}

const ESCAPES = { 0x22: '"', 0x5c: '\\', 0x2f: '/', 0x62: '\b', 0x66: '\f', 0x6e: '\n', 0x72: '\r', 0x74: '\t' };

/** Parses RFC 8259 JSON from UTF-8 bytes into a syntax tree; throws DecodeError. */
export function parse(bytes) {
  const n = bytes.length;
  let i = 0;
  const fail = (what) => {
    throw new DecodeError(`JSON: ${what} at byte ${i}`);
  };
  const ws = () => {
    while (i < n) {
      const c = bytes[i];
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
  };
  const expect = (c, what) => {
    ws();
    if (bytes[i] !== c) fail(`expected ${what}`);
    i++;
  };

  function string() {
    // bytes[i] is the opening quote.
    i++;
    let out = '';
    let ok = true;
    let run = i;
    const flush = (end) => {
      if (end > run) {
        const part = bytes.subarray(run, end);
        try {
          out += strictUtf8.decode(part);
        } catch (_) {
          ok = false;
          out += lenientUtf8.decode(part);
        }
      }
    };
    for (;;) {
      if (i >= n) fail('unterminated string');
      const c = bytes[i];
      if (c === 0x22) {
        flush(i);
        i++;
        break;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      flush(i);
      i++;
      const e = bytes[i];
      if (e === 0x75) {
        const hex = String.fromCharCode(...bytes.subarray(i + 1, i + 5));
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('invalid \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 5;
      } else if (e in ESCAPES) {
        out += ESCAPES[e];
        i++;
      } else {
        fail('invalid escape');
      }
      run = i;
    }
    return { t: 'str', v: out, ok: ok && wellFormed(out) };
  }

  function number() {
    const start = i;
    if (bytes[i] === 0x2d) i++;
    const digits = () => {
      const from = i;
      while (i < n && bytes[i] >= 0x30 && bytes[i] <= 0x39) i++;
      if (i === from) fail('invalid number');
    };
    if (bytes[i] === 0x30) {
      i++;
      if (i < n && bytes[i] >= 0x30 && bytes[i] <= 0x39) fail('leading zero');
    } else {
      digits();
    }
    if (bytes[i] === 0x2e) {
      i++;
      digits();
    }
    if (bytes[i] === 0x65 || bytes[i] === 0x45) {
      i++;
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
      digits();
    }
    // ASCII only; decoded rather than spread into fromCharCode, which a long number would overflow.
    return { t: 'num', raw: lenientUtf8.decode(bytes.subarray(start, i)) };
  }

  function literal(text, node) {
    for (let k = 0; k < text.length; k++) {
      if (bytes[i + k] !== text.charCodeAt(k)) fail('invalid literal');
    }
    i += text.length;
    return node;
  }

  function key() {
    ws();
    if (bytes[i] !== 0x22) fail('expected a string key');
    const k = string();
    expect(0x3a, "':'");
    return k;
  }

  // Containers being filled, innermost last: {node, key} (key for objects).
  const stack = [];
  let value;
  outer: for (;;) {
    ws();
    const c = bytes[i];
    if (c === 0x7b || c === 0x5b) {
      i++;
      const node = c === 0x7b ? { t: 'obj', entries: [] } : { t: 'arr', items: [] };
      ws();
      if (bytes[i] === (c === 0x7b ? 0x7d : 0x5d)) {
        i++;
        value = node;
      } else {
        stack.push({ node, key: c === 0x7b ? key() : null });
        continue;
      }
    } else if (c === 0x22) {
      value = string();
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      value = number();
    } else if (c === 0x74) {
      value = literal('true', { t: 'bool', v: true });
    } else if (c === 0x66) {
      value = literal('false', { t: 'bool', v: false });
    } else if (c === 0x6e) {
      value = literal('null', { t: 'null' });
    } else {
      fail(i >= n ? 'unexpected end' : 'expected a value');
    }
    // Attach the finished value to its container; close containers that end here.
    for (;;) {
      const top = stack[stack.length - 1];
      if (!top) break outer;
      const isObj = top.node.t === 'obj';
      if (isObj) top.node.entries.push([top.key, value]);
      else top.node.items.push(value);
      ws();
      const d = bytes[i];
      if (d === 0x2c) {
        i++;
        if (isObj) top.key = key();
        continue outer;
      }
      if (d !== (isObj ? 0x7d : 0x5d)) fail(isObj ? "expected ',' or '}'" : "expected ',' or ']'");
      i++;
      stack.pop();
      value = top.node;
    }
  }
  ws();
  if (i !== n) fail('trailing characters');
  return value;
}

// ------------------------------------------------------------------ decoders --
// Each takes a node and returns a JS value or throws DecodeError, following serde's
// rules for the Rust type named.

/** String (must be valid UTF-8 without lone surrogates). */
export function str(node) {
  if (node.t !== 'str' || !node.ok) throw new DecodeError('expected a string');
  return node.v;
}

/** Option<String>: null or a string. */
export function optStr(node) {
  return node.t === 'null' ? null : str(node);
}

// serde_json reads a number without fraction or exponent as an integer (u64, or i64 when
// negative, "-0" being a float); anything else, or an integer out of range, is a float,
// which no integer type accepts.
function integer(node, min, max, what) {
  if (node.t !== 'num' || !/^-?(0|[1-9][0-9]*)$/.test(node.raw) || node.raw === '-0') {
    throw new DecodeError(`expected ${what}`);
  }
  const v = BigInt(node.raw);
  if (v < min || v > max) throw new DecodeError(`${what} out of range`);
  return v;
}

/** u32, as a Number. */
export function u32(node) {
  return Number(integer(node, 0n, 0xffffffffn, 'u32'));
}

/**
 * u64 as a Number. Values above 2^53 - 1 are refused here although Rust accepts them:
 * they only occur as document sizes, which no package can then satisfy, so both sides
 * end with PACKAGE_MALFORMED.
 */
export function u64(node) {
  return Number(integer(node, 0n, BigInt(Number.MAX_SAFE_INTEGER), 'size'));
}

/** i64: a Number when it is a safe integer, else a BigInt. */
export function i64(node) {
  const v = integer(node, -(2n ** 63n), 2n ** 63n - 1n, 'i64');
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Vec<T>. */
export function vec(decode) {
  return (node) => {
    if (node.t !== 'arr') throw new DecodeError('expected an array');
    return node.items.map(decode);
  };
}

/**
 * A struct: `fields` is [name, decode, {optional}] in declaration order. As serde_json
 * does, accepts an object (each field at most once; a missing optional field is null;
 * unknown fields refused when denyUnknown, else skipped unseen) or an array holding every
 * field in declaration order.
 */
export function struct(fields, { denyUnknown = true } = {}) {
  return (node) => {
    const out = {};
    if (node.t === 'arr') {
      if (node.items.length !== fields.length) throw new DecodeError('wrong number of struct fields');
      fields.forEach(([name, decode], k) => {
        out[name] = decode(node.items[k]);
      });
      return out;
    }
    if (node.t !== 'obj') throw new DecodeError('expected an object');
    const byName = new Map(fields.map((f) => [f[0], f]));
    const seen = new Set();
    for (const [k, v] of node.entries) {
      const name = str(k);
      const field = byName.get(name);
      if (!field) {
        if (denyUnknown) throw new DecodeError(`unknown field ${name}`);
        continue;
      }
      if (seen.has(name)) throw new DecodeError(`duplicate field ${name}`);
      seen.add(name);
      out[name] = field[1](v);
    }
    for (const [name, , opts] of fields) {
      if (seen.has(name)) continue;
      if (opts && opts.optional) out[name] = null;
      else throw new DecodeError(`missing field ${name}`);
    }
    return out;
  };
}

/** Any node, unchecked (serde_json::Value fields are checked by their user). */
export function raw(node) {
  return node;
}

/**
 * Canonical JSON as src/ledger/mod.rs canonical_json (docs/ledger.md): compact, object
 * keys sorted at every depth, strings escaped as JSON.stringify (and serde_json) do.
 * Keys sort by UTF-16 code units, which is their UTF-8 byte order for the keys used here.
 */
export function canonicalJson(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
}
