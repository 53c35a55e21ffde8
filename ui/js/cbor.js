// cbor.js: a small strict CBOR (RFC 8949) decoder and the few encoders the
// console needs (COSE Sig_structure, the registered statement).
//
// Strict means: definite lengths only, every integer and length in its
// shortest form (RFC 8949 §4.2.1, what waybill's receipts and statements
// use; see decode's option for the one exception), no duplicate map
// keys, map keys that are integers or text only, text that is valid UTF-8,
// no trailing bytes after the top-level item, at most 64 levels of nesting,
// and no length larger than the bytes left. Anything else throws a
// CborError saying what and where.
//
// Values: unsigned and negative integers as Number when safe, BigInt
// otherwise; byte strings as Uint8Array; text as string; arrays as Array;
// maps as Map (keys Number or string); tags as Tagged; false, true, null,
// undefined; floats as Number.

export class CborError extends Error {}

export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true });

class Reader {
  constructor(bytes, shortest) {
    this.b = bytes;
    this.p = 0;
    this.shortest = shortest;
  }
  need(n) {
    if (n > this.b.length - this.p)
      throw new CborError(`truncated: ${n} bytes needed at offset ${this.p}, ${this.b.length - this.p} left`);
  }
  byte() {
    this.need(1);
    return this.b[this.p++];
  }
  bytes(n) {
    this.need(n);
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }
}

// the argument of an initial byte: a Number, or a BigInt above 2^53 - 1
function argument(r, info, at) {
  if (info < 24) return info;
  let v;
  if (info === 24) {
    v = r.byte();
    if (r.shortest && v < 24) throw new CborError(`offset ${at}: integer not in its shortest form`);
    return v;
  }
  if (info === 25) {
    const x = r.bytes(2);
    v = (x[0] << 8) | x[1];
    if (r.shortest && v < 0x100) throw new CborError(`offset ${at}: integer not in its shortest form`);
    return v;
  }
  if (info === 26) {
    const x = r.bytes(4);
    v = ((x[0] << 24) >>> 0) + ((x[1] << 16) | (x[2] << 8) | x[3]);
    if (r.shortest && v < 0x10000) throw new CborError(`offset ${at}: integer not in its shortest form`);
    return v;
  }
  if (info === 27) {
    const x = r.bytes(8);
    let big = 0n;
    for (const byte of x) big = (big << 8n) | BigInt(byte);
    if (r.shortest && big < 0x100000000n) throw new CborError(`offset ${at}: integer not in its shortest form`);
    return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (info === 31) throw new CborError(`offset ${at}: indefinite length`);
  throw new CborError(`offset ${at}: reserved additional information ${info}`);
}

function length(r, info, at) {
  const n = argument(r, info, at);
  if (typeof n !== 'number' || n > r.b.length - r.p)
    throw new CborError(`offset ${at}: length ${n} is more than the ${r.b.length - r.p} bytes left`);
  return n;
}

function halfFloat(h) {
  const exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}

function item(r, depth) {
  if (depth > MAX_DEPTH) throw new CborError(`nested more than ${MAX_DEPTH} levels`);
  const at = r.p;
  const ib = r.byte();
  const major = ib >> 5, info = ib & 0x1f;
  switch (major) {
    case 0:
      return argument(r, info, at);
    case 1: {
      const n = argument(r, info, at);
      return typeof n === 'bigint' || n >= Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
    }
    case 2:
      return r.bytes(length(r, info, at)).slice();
    case 3: {
      const raw = r.bytes(length(r, info, at));
      try {
        return utf8.decode(raw);
      } catch {
        throw new CborError(`offset ${at}: text string is not valid UTF-8`);
      }
    }
    case 4: {
      const n = length(r, info, at);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = item(r, depth + 1);
      return out;
    }
    case 5: {
      const n = length(r, info, at);
      const out = new Map();
      for (let i = 0; i < n; i++) {
        const kat = r.p;
        const k = item(r, depth + 1);
        if (typeof k !== 'number' && typeof k !== 'string')
          throw new CborError(`offset ${kat}: map key is neither an integer nor text`);
        if (out.has(k)) throw new CborError(`offset ${kat}: duplicate map key ${JSON.stringify(k)}`);
        out.set(k, item(r, depth + 1));
      }
      return out;
    }
    case 6: {
      const tag = argument(r, info, at);
      return new Tagged(tag, item(r, depth + 1));
    }
    default: {
      // major 7: simple values and floats
      if (info === 20) return false;
      if (info === 21) return true;
      if (info === 22) return null;
      if (info === 23) return undefined;
      if (info === 25) {
        const x = r.bytes(2);
        return halfFloat((x[0] << 8) | x[1]);
      }
      if (info === 26) return new DataView(r.bytes(4).slice().buffer).getFloat32(0);
      if (info === 27) return new DataView(r.bytes(8).slice().buffer).getFloat64(0);
      if (info === 31) throw new CborError(`offset ${at}: unexpected break`);
      throw new CborError(`offset ${at}: unsupported simple value ${info}`);
    }
  }
}

// decode(bytes): the one CBOR item that bytes hold, strictly. With
// {shortest: false}, integers and lengths in a longer form than needed are
// accepted (a device passport writes its indexes as 64-bit integers);
// everything else stays strict.
export function decode(bytes, { shortest = true } = {}) {
  if (!(bytes instanceof Uint8Array)) bytes = new Uint8Array(bytes);
  const r = new Reader(bytes, shortest);
  const v = item(r, 0);
  if (r.p !== bytes.length)
    throw new CborError(`${bytes.length - r.p} trailing byte(s) after the item`);
  return v;
}

// ---- encoding: only what the console builds ----

function head(major, n) {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [(major << 5) | 26, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  throw new CborError('encoding: length over 2^32');
}

export function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export const encodeBstr = (b) => concat([Uint8Array.from(head(2, b.length)), b]);
export const encodeTstr = (s) => {
  const b = new TextEncoder().encode(s);
  return concat([Uint8Array.from(head(3, b.length)), b]);
};
export const encodeArrayHead = (n) => Uint8Array.from(head(4, n));

// the COSE Sig_structure of a COSE_Sign1 (RFC 9052 §4.4):
// ["Signature1", body_protected, external_aad, payload]
export function sigStructure(protectedBytes, payload, externalAad = new Uint8Array(0)) {
  return concat([encodeArrayHead(4), encodeTstr('Signature1'), encodeBstr(protectedBytes),
    encodeBstr(externalAad), encodeBstr(payload)]);
}

// the registered statement (RFC 9943; docs/receipts.md): tag 18, the
// COSE_Sign1 array with an empty unprotected map, shortest lengths
export function registeredStatement(protectedBytes, payload, signature) {
  return concat([Uint8Array.of(0xd2, 0x84), encodeBstr(protectedBytes), Uint8Array.of(0xa0),
    encodeBstr(payload), encodeBstr(signature)]);
}

// ---- helpers ----

export const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function fromHex(s) {
  if (!/^([0-9a-f]{2})*$/.test(s)) throw new CborError('not lowercase hex');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(2 * i, 2), 16);
  return out;
}

export function base64url(b) {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function equalBytes(a, b) {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
