// receipt.js: verifies waybill's COSE receipts (RFC 9942, vds 1
// RFC9162_SHA256; docs/receipts.md) in the browser, with WebCrypto, against
// the service's COSE Key Set (/.well-known/scitt-keys). Nothing here takes
// the server's word: the leaf hash, the root and the signature are all
// computed from the bytes.
//
//   1. decode the receipt strictly: COSE_Sign1 (tag 18) with a protected
//      header holding alg, kid and 395 (vds) = 1, an unprotected 396 with
//      exactly one inclusion proof (-1), and a detached (nil) payload;
//   2. leaf = SHA-256(0x00 || registered statement)       (RFC 9162 §2.1.1)
//   3. fold the inclusion path into the root               (RFC 9162 §2.1.3.2)
//   4. find the key whose kid is the receipt's, check that its curve is the
//      receipt's alg, and verify the signature over
//      ["Signature1", protected, h'', root]                (RFC 9052 §4.4)

import { CborError, Tagged, decode, sigStructure, registeredStatement, concat, equalBytes, hex, base64url } from './cbor.js';

export class VerifyError extends Error {}

const ALGS = {
  [-7]: { name: 'ES256', curve: 'P-256', hash: 'SHA-256', sigLen: 64 },
  [-35]: { name: 'ES384', curve: 'P-384', hash: 'SHA-384', sigLen: 96 },
  [-8]: { name: 'EdDSA', curve: 'Ed25519', sigLen: 64 },
};
const EC2_CURVES = { 1: 'P-256', 2: 'P-384' };

const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));

// a COSE_Sign1 [protected, unprotected, payload, signature], tag 18 optional
export function coseSign1(bytes, what) {
  let v;
  try {
    v = decode(bytes);
  } catch (e) {
    throw new VerifyError(`${what} is not valid CBOR: ${e.message}`);
  }
  if (v instanceof Tagged) {
    if (v.tag !== 18) throw new VerifyError(`${what}: tag ${v.tag}, not 18 (COSE_Sign1)`);
    v = v.value;
  }
  if (!Array.isArray(v) || v.length !== 4)
    throw new VerifyError(`${what} is not a COSE_Sign1 (an array of 4)`);
  const [prot, unprot, payload, signature] = v;
  if (!(prot instanceof Uint8Array) || !(unprot instanceof Map) || !(signature instanceof Uint8Array) ||
      !(payload === null || payload instanceof Uint8Array))
    throw new VerifyError(`${what}: COSE_Sign1 fields of the wrong types`);
  let headers;
  try {
    headers = prot.length ? decode(prot) : new Map();
  } catch (e) {
    throw new VerifyError(`${what}: protected header is not valid CBOR: ${e.message}`);
  }
  if (!(headers instanceof Map)) throw new VerifyError(`${what}: protected header is not a map`);
  return { protectedBytes: prot, headers, unprotected: unprot, payload, signature };
}

// decodes a receipt's parts (step 1) without checking anything cryptographic
export function parseReceipt(bytes) {
  const r = coseSign1(bytes, 'receipt');
  const alg = r.headers.get(1), kid = r.headers.get(4), vds = r.headers.get(395);
  if (!(alg in ALGS)) throw new VerifyError(`receipt alg ${alg}: not ES256, ES384 or EdDSA`);
  if (!(kid instanceof Uint8Array)) throw new VerifyError('receipt has no kid (header 4)');
  if (vds !== 1) throw new VerifyError(`receipt vds ${vds}: not 1 (RFC9162_SHA256)`);
  if (r.headers.has(2)) throw new VerifyError('receipt has critical headers this verifier does not know');
  if (r.payload !== null) throw new VerifyError('receipt payload is not detached (nil)');
  const proofs = r.unprotected.get(396);
  if (!(proofs instanceof Map) || proofs.size !== 1 || !proofs.has(-1))
    throw new VerifyError('receipt header 396 must hold exactly one inclusion proof (-1)');
  const inc = proofs.get(-1);
  if (!Array.isArray(inc) || inc.length !== 1 || !(inc[0] instanceof Uint8Array))
    throw new VerifyError('receipt: 396 -1 must be an array of one bstr');
  let proof;
  try {
    proof = decode(inc[0]);
  } catch (e) {
    throw new VerifyError(`receipt: inclusion proof is not valid CBOR: ${e.message}`);
  }
  if (!Array.isArray(proof) || proof.length !== 3 || !Array.isArray(proof[2]))
    throw new VerifyError('receipt: inclusion proof is not [tree_size, leaf_index, [hashes]]');
  const [treeSize, leafIndex, path] = proof;
  const isUint = (x) => (typeof x === 'number' && Number.isInteger(x) && x >= 0) || (typeof x === 'bigint' && x >= 0n);
  if (!isUint(treeSize) || !isUint(leafIndex))
    throw new VerifyError('receipt: tree_size and leaf_index must be unsigned integers');
  for (const h of path)
    if (!(h instanceof Uint8Array) || h.length !== 32)
      throw new VerifyError('receipt: an inclusion path hash is not 32 bytes');
  return { ...r, alg, algName: ALGS[alg].name, kid, treeSize: BigInt(treeSize), leafIndex: BigInt(leafIndex), path };
}

// RFC 9162 §2.1.3.2: the root from a leaf hash, its index, the tree size
// and the inclusion path
export async function rootFromPath(leaf, leafIndex, treeSize, path) {
  if (leafIndex >= treeSize)
    throw new VerifyError(`leaf index ${leafIndex} is not below the tree size ${treeSize}`);
  let fn = leafIndex, sn = treeSize - 1n, r = leaf;
  for (const p of path) {
    if (sn === 0n) throw new VerifyError('inclusion path is longer than the tree allows');
    if ((fn & 1n) === 1n || fn === sn) {
      r = await sha256(concat([Uint8Array.of(1), p, r]));
      while ((fn & 1n) === 0n && fn !== 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = await sha256(concat([Uint8Array.of(1), r, p]));
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new VerifyError('inclusion path is shorter than the tree needs');
  return r;
}

// ---- the service's keys ----

// parses a COSE Key Set (CBOR array of COSE_Key maps) into
// [{kid, kidHex, alg, kty, crv, key: CryptoKey | null, error}]
export async function importKeySet(bytes) {
  let set;
  try {
    set = decode(bytes);
  } catch (e) {
    throw new VerifyError(`the service's key set is not valid CBOR: ${e.message}`);
  }
  if (!Array.isArray(set)) throw new VerifyError("the service's key set is not a COSE Key Set (array)");
  const keys = [];
  for (const k of set) {
    if (!(k instanceof Map)) continue;
    const kty = k.get(1), kid = k.get(2), alg = k.get(3), crv = k.get(-1), x = k.get(-2), y = k.get(-3);
    const entry = { kid, kidHex: kid instanceof Uint8Array ? hex(kid) : '', alg, kty, key: null, error: null };
    try {
      if (kty === 2 && EC2_CURVES[crv] && x instanceof Uint8Array && y instanceof Uint8Array) {
        entry.crv = EC2_CURVES[crv];
        entry.key = await crypto.subtle.importKey('jwk',
          { kty: 'EC', crv: entry.crv, x: base64url(x), y: base64url(y), ext: true },
          { name: 'ECDSA', namedCurve: entry.crv }, false, ['verify']);
      } else if (kty === 1 && crv === 6 && x instanceof Uint8Array) {
        entry.crv = 'Ed25519';
        entry.key = await crypto.subtle.importKey('raw', x, { name: 'Ed25519' }, false, ['verify']);
      } else {
        entry.error = `key type ${kty} curve ${crv} is not supported`;
      }
    } catch (e) {
      entry.error = `this browser cannot import the key: ${e.message}`;
    }
    keys.push(entry);
  }
  return keys;
}

// verify(receiptBytes, statementBytes, keys): {ok, reason, ...details}.
// statementBytes is the registered statement (tag 18, empty unprotected map).
export async function verifyReceipt(receiptBytes, statementBytes, keys) {
  let r;
  try {
    r = parseReceipt(receiptBytes);
  } catch (e) {
    return { ok: false, reason: e.message };
  }
  const details = { alg: r.algName, kid: hex(r.kid), treeSize: r.treeSize, leafIndex: r.leafIndex };
  try {
    const leaf = await sha256(concat([Uint8Array.of(0), statementBytes]));
    const root = await rootFromPath(leaf, r.leafIndex, r.treeSize, r.path);
    details.root = hex(root);
    const k = keys.find((x) => equalBytes(x.kid, r.kid));
    if (!k) throw new VerifyError(`no key of the service has the receipt's kid ${hex(r.kid).slice(0, 16)}…`);
    if (!k.key) throw new VerifyError(`the service key ${k.kidHex.slice(0, 16)}…: ${k.error}`);
    const a = ALGS[r.alg];
    if (k.alg !== undefined && k.alg !== r.alg)
      throw new VerifyError(`the receipt says ${a.name} but the key is for alg ${k.alg}`);
    if (k.crv !== a.curve) throw new VerifyError(`the receipt says ${a.name} but the key is on ${k.crv}`);
    if (r.signature.length !== a.sigLen)
      throw new VerifyError(`a ${a.name} signature is ${a.sigLen} bytes, not ${r.signature.length}`);
    const tbs = sigStructure(r.protectedBytes, root);
    const params = a.curve === 'Ed25519' ? { name: 'Ed25519' } : { name: 'ECDSA', hash: a.hash };
    const good = await crypto.subtle.verify(params, k.key, r.signature, tbs);
    if (!good)
      throw new VerifyError('the signature does not verify over the root this inclusion path gives: the receipt or the statement was changed');
    return { ok: true, reason: `${a.name} signature by the service key over the root of a tree of ${r.treeSize} entries; leaf ${r.leafIndex}`, ...details };
  } catch (e) {
    if (!(e instanceof VerifyError) && !(e instanceof CborError)) throw e;
    return { ok: false, reason: e.message, ...details };
  }
}

// a transparent statement (or a signed statement) taken apart: the
// registered statement's bytes, its headers and payload, and the receipts
// it carries in unprotected header 394
export function openStatement(bytes) {
  const s = coseSign1(bytes, 'statement');
  if (!(s.payload instanceof Uint8Array)) throw new VerifyError('statement payload is detached');
  const receipts = s.unprotected.get(394);
  return {
    headers: s.headers,
    payload: s.payload,
    registered: registeredStatement(s.protectedBytes, s.payload, s.signature),
    receipts: Array.isArray(receipts) ? receipts : [],
  };
}
