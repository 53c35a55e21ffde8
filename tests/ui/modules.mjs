// modules.mjs: the console's verification modules (ui/js/cbor.js,
// ui/js/receipt.js) run directly in Node (same WebCrypto API as the
// browser), no browser needed:
//   - the CBOR decoder on RFC 8949 Appendix A examples, and every strictness
//     rule refused with a reason;
//   - the RFC 9162 inclusion fold against a reference Merkle tree for every
//     leaf of every tree size 1..33, and wrong paths refused;
//   - receipts made here (ES256, ES384, Ed25519) verify, and a flipped
//     signature, root, path, index or kid, an alg that is not the key's, a
//     wrong vds, an attached payload, a second proof, do not.
// Usage: node modules.mjs SRC (the source tree). Exit 1 on any failure.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const src = process.argv[2];
const load = (f) => import(pathToFileURL(path.join(src, 'ui', 'js', f)).href);
const cbor = await load('cbor.js');
const rc = await load('receipt.js');

let failures = 0, passed = 0;
const check = (cond, what) => {
  if (cond) passed++;
  else {
    failures++;
    console.log(`FAIL ${what}`);
  }
};
const hexb = (s) => Uint8Array.from(s.match(/../g) || [], (x) => parseInt(x, 16));
const same = (a, b) => JSON.stringify(a, (k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? cbor.hex(v) : v instanceof Map ? [...v] : v)) ===
  JSON.stringify(b, (k, v) => (typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? cbor.hex(v) : v instanceof Map ? [...v] : v));

// ---- decoding: RFC 8949 Appendix A ----
const good = [
  ['00', 0], ['17', 23], ['1818', 24], ['1903e8', 1000], ['1a000f4240', 1000000],
  ['1b000000e8d4a51000', 1000000000000], ['1bffffffffffffffff', 18446744073709551615n],
  ['20', -1], ['3903e7', -1000], ['3bffffffffffffffff', -18446744073709551616n],
  ['4401020304', hexb('01020304')], ['40', new Uint8Array(0)], ['6449455446', 'IETF'],
  ['62c3bc', '\u00fc'], ['80', []], ['83010203', [1, 2, 3]], ['8301820203820405', [1, [2, 3], [4, 5]]],
  ['a201020304', new Map([[1, 2], [3, 4]])], ['a26161016162820203', new Map([['a', 1], ['b', [2, 3]]])],
  ['f4', false], ['f5', true], ['f6', null], ['f7', undefined], ['f93c00', 1], ['f97bff', 65504],
  ['fb3ff199999999999a', 1.1], ['fa47c35000', 100000],
];
for (const [h, want] of good) {
  let got;
  try {
    got = cbor.decode(hexb(h));
  } catch (e) {
    got = e;
  }
  check(same(got, want), `decode ${h}: ${String(got)}`);
}
const tagged = cbor.decode(hexb('c11a514b67b0'));
check(tagged instanceof cbor.Tagged && tagged.tag === 1 && tagged.value === 1363896240, 'decode a tag');

const bad = [
  ['1817', 'shortest'], ['190017', 'shortest'], ['1a0000ffff', 'shortest'], ['1b00000000ffffffff', 'shortest'],
  ['5817' + '00'.repeat(23), 'shortest'], ['5f4101ff', 'indefinite'], ['9fff', 'indefinite'], ['bfff', 'indefinite'],
  ['a201020103', 'duplicate'], ['0000', 'trailing'], ['62c328', 'UTF-8'], ['5affffffff', 'length'],
  ['8301', 'length'], ['830102', 'length'], ['820102' + '03', 'trailing'], ['a14000', 'map key'], ['1c', 'reserved'], ['ff', 'break'], ['f818', 'simple'],
  ['81'.repeat(65) + '00', 'nested'], ['', 'truncated'],
];
for (const [h, says] of bad) {
  let err = null;
  try {
    cbor.decode(hexb(h));
  } catch (e) {
    err = e;
  }
  check(err instanceof cbor.CborError && err.message.includes(says), `refuse ${h.slice(0, 20)}: ${err ? err.message : 'accepted'}`);
}
check(same(cbor.decode(hexb('1b0000000000000005'), { shortest: false }), 5), 'shortest: false accepts a long integer');

// ---- encoding ----
check(cbor.hex(cbor.sigStructure(hexb('a10126'), hexb('0102'))) === '846a5369676e61747572653143a101264042' + '0102',
  'Sig_structure ["Signature1", h\'a10126\', h\'\', h\'0102\']');
const reg = hexb('d28443a10126a04474657374420102');
check(cbor.equalBytes(cbor.registeredStatement(hexb('a10126'), hexb('74657374'), hexb('0102')), reg), 'registered statement bytes');

// ---- RFC 9162: the fold against a reference tree ----
const sha = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));
const leafHash = (d) => sha(cbor.concat([Uint8Array.of(0), d]));
const nodeHash = (l, r) => sha(cbor.concat([Uint8Array.of(1), l, r]));
const split = (n) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
async function mth(leaves) {
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return nodeHash(await mth(leaves.slice(0, k)), await mth(leaves.slice(k)));
}
async function proof(m, leaves) {
  if (leaves.length === 1) return [];
  const k = split(leaves.length);
  return m < k ? [...await proof(m, leaves.slice(0, k)), await mth(leaves.slice(k))]
    : [...await proof(m - k, leaves.slice(k)), await mth(leaves.slice(0, k))];
}
let folds = 0;
for (let n = 1; n <= 33; n++) {
  const leaves = [];
  for (let i = 0; i < n; i++) leaves.push(await leafHash(Uint8Array.of(i, n)));
  const root = await mth(leaves);
  for (let m = 0; m < n; m++) {
    const p = await proof(m, leaves);
    const got = await rc.rootFromPath(leaves[m], BigInt(m), BigInt(n), p);
    check(cbor.equalBytes(got, root), `fold leaf ${m} of ${n}`);
    folds++;
    if (p.length) {
      let err = null;
      try {
        await rc.rootFromPath(leaves[m], BigInt(m), BigInt(n), p.slice(1));
      } catch (e) {
        err = e;
      }
      check(err instanceof rc.VerifyError, `short path refused, leaf ${m} of ${n}`);
    }
  }
}
{
  let err = null;
  try {
    await rc.rootFromPath(new Uint8Array(32), 3n, 3n, []);
  } catch (e) {
    err = e;
  }
  check(err && /not below/.test(err.message), 'leaf index = tree size refused');
}

// ---- receipts made here ----
// a tiny encoder for what a receipt holds
const enc = (v) => {
  const head = (maj, n) => {
    if (n < 24) return [maj << 5 | n];
    if (n < 256) return [maj << 5 | 24, n];
    if (n < 65536) return [maj << 5 | 25, n >> 8, n & 255];
    return [maj << 5 | 26, n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255];
  };
  if (v === null) return Uint8Array.of(0xf6);
  if (typeof v === 'number') return Uint8Array.from(v >= 0 ? head(0, v) : head(1, -1 - v));
  if (typeof v === 'string') return cbor.encodeTstr(v);
  if (v instanceof Uint8Array) return cbor.encodeBstr(v);
  if (Array.isArray(v)) return cbor.concat([Uint8Array.from(head(4, v.length)), ...v.map(enc)]);
  if (v instanceof Map) return cbor.concat([Uint8Array.from(head(5, v.size)), ...[...v].flatMap(([k, x]) => [enc(k), enc(x)])]);
  if (v instanceof cbor.Tagged) return cbor.concat([Uint8Array.from(head(6, v.tag)), enc(v.value)]);
  throw new Error('enc');
};
const b64u = (s) => Uint8Array.from(Buffer.from(s, 'base64url'));

async function makeKey(alg) {
  if (alg === -8) {
    const kp = await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify']);
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', kp.publicKey));
    const kid = await sha(raw);
    return { kp, kid, cose: new Map([[1, 1], [2, kid], [3, -8], [-1, 6], [-2, raw]]), params: { name: 'Ed25519' } };
  }
  const curve = alg === -7 ? 'P-256' : 'P-384';
  const kp = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
  const jwk = await crypto.subtle.exportKey('jwk', kp.publicKey);
  const kid = await sha(new Uint8Array(await crypto.subtle.exportKey('spki', kp.publicKey)));
  return {
    kp, kid, cose: new Map([[1, 2], [2, kid], [3, alg], [-1, alg === -7 ? 1 : 2], [-2, b64u(jwk.x)], [-3, b64u(jwk.y)]]),
    params: { name: 'ECDSA', hash: alg === -7 ? 'SHA-256' : 'SHA-384' },
  };
}

async function receipt(key, alg, { statement, leaves, m, kid = key.kid, vds = 1, payload = null, extraProof = false, headerAlg = alg }) {
  const prot = enc(new Map([[1, headerAlg], [4, kid], [15, new Map([[1, 'test/log'], [6, 1700000000]])], [395, vds]]));
  const n = leaves.length;
  const root = await mth(leaves);
  const path = await proof(m, leaves);
  const proofs = new Map([[-1, [enc([n, m, path])]]]);
  if (extraProof) proofs.set(-2, [enc([n, n, []])]);
  const sig = new Uint8Array(await crypto.subtle.sign(key.params, key.kp.privateKey, cbor.sigStructure(prot, root)));
  return enc(new cbor.Tagged(18, [prot, new Map([[396, proofs]]), payload, sig]));
}

for (const [alg, name] of [[-7, 'ES256'], [-35, 'ES384'], [-8, 'EdDSA']]) {
  const key = await makeKey(alg);
  const other = await makeKey(alg);
  const keys = await rc.importKeySet(enc([other.cose, key.cose]));
  const statements = [];
  for (let i = 0; i < 11; i++) statements.push(cbor.registeredStatement(enc(new Map([[1, alg]])), Uint8Array.of(i), Uint8Array.of(9, i)));
  const leaves = await Promise.all(statements.map(leafHash));
  const m = 6;
  const good1 = await receipt(key, alg, { statement: statements[m], leaves, m });
  const r = await rc.verifyReceipt(good1, statements[m], keys);
  check(r.ok && r.treeSize === 11n && r.leafIndex === 6n, `${name}: a receipt verifies (${r.reason})`);
  const expectFail = async (bytes, st, says, what) => {
    const x = await rc.verifyReceipt(bytes, st, keys);
    check(!x.ok && x.reason.includes(says), `${name}: ${what} refused: ${x.reason}`);
  };
  const flip = (b, i) => {
    const c = b.slice();
    c[i < 0 ? c.length + i : i] ^= 1;
    return c;
  };
  await expectFail(flip(good1, -1), statements[m], 'signature does not verify', 'a flipped signature bit');
  await expectFail(good1, statements[m + 1], 'signature does not verify', 'another statement');
  await expectFail(good1, flip(statements[m], 5), 'signature does not verify', 'a changed statement');
  await expectFail(await receipt(key, alg, { statement: statements[m], leaves, m, kid: new Uint8Array(32) }), statements[m], 'no key', 'an unknown kid');
  await expectFail(await receipt(key, alg, { statement: statements[m], leaves, m, vds: 2 }), statements[m], 'vds', 'vds 2');
  await expectFail(await receipt(key, alg, { statement: statements[m], leaves, m, payload: new Uint8Array(32) }), statements[m], 'detached', 'an attached payload');
  await expectFail(await receipt(key, alg, { statement: statements[m], leaves, m, extraProof: true }), statements[m], 'exactly one', 'a second proof');
  await expectFail(await receipt(key, alg, { statement: statements[m], leaves, m, headerAlg: alg === -7 ? -35 : -7 }), statements[m], 'the key', 'an alg that is not the key\'s');
  await expectFail(good1.slice(0, -3), statements[m], 'CBOR', 'a truncated receipt');
  // the path of another leaf of the same tree
  const r3 = await receipt(key, alg, { statement: statements[3], leaves, m: 3 });
  await expectFail(r3, statements[m], 'signature does not verify', 'the receipt of another leaf');
}

console.log(`modules: ${passed} checks passed (${good.length} decodings, ${bad.length} refusals, ${folds} inclusion folds, receipts in ES256, ES384 and EdDSA)${failures ? `, ${failures} FAILED` : ''}`);
process.exit(failures ? 1 : 0);
