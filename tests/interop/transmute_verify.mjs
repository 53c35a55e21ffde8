// transmute_verify.mjs: verify waybill's receipts (RFC 9942, vds 1
// RFC9162_SHA256) and transparent statements (RFC 9943, receipts in
// unprotected header 394) with an independent implementation,
// @transmute/cose 0.2.11, and make the tampered variants that
// test_transmute.sh then feeds to both transmute and `waybill verify`.
//
// usage: node transmute_verify.mjs MODULES_DIR WORK URL
//   MODULES_DIR  the folder holding node_modules/@transmute/cose
//   WORK         holds statements.tsv (NAME<TAB>ISSUER_PEM<TAB>PAYLOAD, one
//                line per registered statement, files WORK/st/NAME.cose,
//                .cose.receipt and .cose.transparent from `waybill submit`)
//   URL          the running service
// writes WORK/scitt-keys.cbor (the COSE Key Set as served),
// WORK/tampered/NAME.KIND.cose and WORK/tampered.tsv (FILE<TAB>ISSUER_PEM).
// Prints one line per check and exits 1 if any expectation failed.
//
// Only what waybill publishes is trusted: the service key comes from
// GET /.well-known/scitt-keys and is turned into a JWK by transmute's own
// convertCoseKeyToJsonWebKey (which needs alg, label 3, in the COSE Key);
// issuer keys come from their PEM files; keys are looked up by the kid
// (label 4) of the COSE_Sign1 being verified.
import { createRequire } from 'node:module'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

const [modulesDir, work, url] = process.argv.slice(2)
if (!modulesDir || !work || !url) {
  console.error('usage: node transmute_verify.mjs MODULES_DIR WORK URL')
  process.exit(2)
}
const require = createRequire(path.join(path.resolve(modulesDir), 'package.json'))
const cose = require('@transmute/cose')
const { cbor } = cose
const coseVersion = require('@transmute/cose/package.json').version
if (coseVersion !== '0.2.11') {
  console.error(`transmute: expected @transmute/cose 0.2.11, found ${coseVersion}`)
  process.exit(1)
}

let failures = 0
const fail = (msg) => { failures++; console.log('FAIL: ' + msg) }
const hex = (b) => Buffer.from(b).toString('hex')
const sha256 = (...parts) => crypto.createHash('sha256').update(Buffer.concat(parts)).digest()

// ---- keys ----------------------------------------------------------------
const trust = new Map() // hex(kid) -> public JWK with alg
// a COSE_Sign1, tagged (18) or not, as its array
const sign1Array = (bytes) => {
  const d = cbor.decodeFirstSync(Buffer.from(bytes))
  return d instanceof cbor.Tagged ? d.value : d
}
const kidOf = (sign1) => {
  const kid = cbor.decodeFirstSync(sign1Array(sign1)[0]).get(4)
  if (!kid) throw new Error('no kid (4) in the protected header')
  return typeof kid === 'string' ? hex(Buffer.from(kid, 'utf8')) : hex(kid)
}
const resolve = async (sign1) => {
  const kid = kidOf(sign1)
  const jwk = trust.get(kid)
  if (!jwk) throw new Error('unknown kid ' + kid)
  return jwk
}

const res = await fetch(url + '/.well-known/scitt-keys')
if (res.status !== 200) throw new Error(`GET /.well-known/scitt-keys: ${res.status}`)
const keySetBytes = Buffer.from(await res.arrayBuffer())
fs.writeFileSync(path.join(work, 'scitt-keys.cbor'), keySetBytes)
const keySet = cbor.decodeFirstSync(keySetBytes)
if (!Array.isArray(keySet) || keySet.length === 0) throw new Error('scitt-keys is not a non-empty COSE Key Set')
for (const k of keySet) {
  const kid = k.get(2)
  if (!kid) throw new Error('service key without kid (2)')
  // transmute converts only keys with a fully specified alg (3)
  const jwk = await cose.key.convertCoseKeyToJsonWebKey(k)
  trust.set(hex(typeof kid === 'string' ? Buffer.from(kid, 'utf8') : kid), jwk)
  console.log(`service key kid ${hex(kid)}: alg ${jwk.alg} ${jwk.crv}`)
}

const curveAlg = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' }
const issuerKey = (pemFile) => {
  const pub = crypto.createPublicKey(fs.readFileSync(pemFile))
  const jwk = pub.export({ format: 'jwk' })
  jwk.alg = curveAlg[jwk.crv]
  if (!jwk.alg) throw new Error(`${pemFile}: not an ECDSA key transmute can use`)
  // waybill's kid: SHA-256 of the SubjectPublicKeyInfo DER
  return { kid: hex(sha256(pub.export({ type: 'spki', format: 'der' }))), jwk }
}

// ---- the two ways transmute verifies -------------------------------------
// A transparent statement: the issuer's signature, then every receipt in 394
// over leaf = SHA-256(0x00 || statement with its unprotected header = {}).
// transmute accepts a statement with no receipt at all, so insist on one.
const verifyTransparent = async (bytes) => {
  const payload = sign1Array(bytes)[2]
  const receipts = await cose.receipt.get(bytes)
  if (receipts.length < 1) throw new Error('no receipt in header 394')
  const v = await cose.receipt.verifier({ resolve })
  const out = await v.verify({ coseSign1: new Uint8Array(bytes), payload })
  if (out.receipts.length !== receipts.length) throw new Error('not every receipt was verified')
  return out
}
// A receipt on its own, for the registered statement's bytes.
const verifyReceipt = async (registered, receipt) =>
  cose.receipt.inclusion.verify({
    entry: await cose.receipt.leaf(new Uint8Array(registered)),
    receipt: new Uint8Array(receipt),
    verifier: cose.detached.verifier({ resolver: { resolve } }),
  })

// ---- RFC 9162 §2.1.3.2, to choose index/size changes that alter the root --
// The receipt signs only the root (its detached payload); tree_size and
// leaf_index sit unprotected in 396. A change that yields the same root
// (e.g. index 0: size 3 -> 4 with the same path) is not a forgery any
// verifier could see, so the tamper cases take only changes this reference
// says give no root or a different one.
const rootFromPath = (leaf, index, size, pathHashes) => {
  if (index >= size) return null
  let fn = index; let sn = size - 1; let r = leaf
  for (const p of pathHashes) {
    if (sn === 0) return null
    if ((fn & 1) || fn === sn) {
      r = sha256(Buffer.from([1]), p, r)
      if (!(fn & 1)) while (!(fn & 1) && fn !== 0) { fn >>= 1; sn >>= 1 }
    } else {
      r = sha256(Buffer.from([1]), r, p)
    }
    fn >>= 1; sn >>= 1
  }
  return sn === 0 ? r : null
}

// ---- tampering by decode / change / re-encode ----------------------------
// Re-encoding an unchanged waybill statement must give back the same bytes,
// so each variant differs from the original only where it was changed.
const decodeTS = (bytes) => {
  const { tag, value } = cbor.decodeFirstSync(bytes)
  const rec = cbor.decodeFirstSync(value[1].get(394)[0])
  const proof = cbor.decodeFirstSync(rec.value[1].get(396).get(-1)[0])
  return { tag, value, rec, proof }
}
const encodeTS = ({ value, rec, proof }) => {
  const r = rec.value.slice()
  r[1] = new Map([[396, new Map([[-1, [cbor.encode(proof)]]])]])
  const v = value.slice()
  v[1] = new Map([[394, [cbor.encode(new cbor.Tagged(18, r))]]])
  return Buffer.from(cbor.encode(new cbor.Tagged(18, v)))
}
const flip = (b, at) => { const c = Buffer.from(b); c[at] ^= 0x01; return c }

// ---- run -----------------------------------------------------------------
const lines = fs.readFileSync(path.join(work, 'statements.tsv'), 'utf8').trim().split('\n')
const stmts = lines.map((l) => {
  const [name, pem, payloadFile] = l.split('\t')
  const base = path.join(work, 'st', name + '.cose')
  const ik = issuerKey(pem)
  trust.set(ik.kid, ik.jwk)
  return {
    name, pem, payload: fs.readFileSync(payloadFile), issuerKid: ik.kid,
    statement: fs.readFileSync(base),
    receipt: fs.readFileSync(base + '.receipt'),
    transparent: fs.readFileSync(base + '.transparent'),
  }
})

let verified = 0
// RFC 9943: Signed_Statement, Receipt and Transparent_Statement are all
// #6.18(COSE_Sign1); transmute needs the tag (receipt.remove/add/get).
const tagged = (bytes) => bytes.length > 0 && bytes[0] === 0xd2
const asTagged = (bytes) => (tagged(bytes) ? bytes
  : Buffer.from(cbor.encode(new cbor.Tagged(18, sign1Array(bytes)))))
for (const s of stmts) {
  try {
    if (!tagged(s.transparent)) {
      throw new Error(`the transparent statement waybill wrote starts with 0x${hex(s.transparent.subarray(0, 1))}, ` +
                      'not tag 18 (0xd2); RFC 9943 Transparent_Statement = #6.18(COSE_Sign1)')
    }
    if (kidOf(s.statement) !== s.issuerKid) throw new Error('statement kid is not SHA-256(SPKI) of the issuer key')
    const out = await verifyTransparent(s.transparent)
    if (!Buffer.from(out.payload).equals(s.payload)) throw new Error('verified payload differs from the signed file')
    // the registered statement is the submitted one with uhdr = {}; its
    // SHA-256 is the entry id the service serves the receipt under
    const registered = Buffer.from(await cose.receipt.remove(asTagged(s.statement)))
    const root = await verifyReceipt(registered, s.receipt)
    if (hex(root) !== hex(out.receipts[0])) throw new Error('standalone receipt gives another root')
    const inTS = Buffer.from((await cose.receipt.get(s.transparent))[0])
    if (!inTS.equals(s.receipt)) throw new Error('receipt file differs from the receipt in 394')
    const id = hex(sha256(registered))
    const got = await fetch(`${url}/entries/${id}`)
    if (got.status !== 200) throw new Error(`GET /entries/${id}: ${got.status}`)
    await verifyReceipt(registered, Buffer.from(await got.arrayBuffer()))
    const served = await fetch(`${url}/entries/${id}/statement`)
    if (served.status !== 200) throw new Error(`GET /entries/${id}/statement: ${served.status}`)
    await verifyTransparent(Buffer.from(await served.arrayBuffer()))
    const { proof } = decodeTS(s.transparent)
    console.log(`verified ${s.name}: entry ${proof[1]} of ${proof[0]}, root ${hex(root).slice(0, 16)}…`)
    verified++
  } catch (e) {
    fail(`${s.name}: not verified by transmute: ${e.message}`)
  }
}

fs.mkdirSync(path.join(work, 'tampered'), { recursive: true })
const tsv = []
let rejected = 0
for (let i = 0; i < stmts.length; i++) {
  const s = stmts[i]
  if (!tagged(s.transparent)) { fail(`${s.name}: untagged transparent statement, no variants made`); continue }
  const orig = decodeTS(s.transparent)
  if (!encodeTS(orig).equals(s.transparent)) {
    fail(`${s.name}: re-encoding the unchanged statement changes its bytes; cannot tamper precisely`)
    continue
  }
  const [size, index, ipath] = orig.proof
  if (ipath.length === 0) { fail(`${s.name}: empty inclusion path`); continue }
  const leaf = sha256(Buffer.from([0]), Buffer.from(await cose.receipt.remove(asTagged(s.statement))))
  const root = rootFromPath(leaf, index, size, ipath)
  const changesRoot = (idx, sz) => {
    const r = rootFromPath(leaf, idx, sz, ipath)
    return r === null || !r.equals(root)
  }
  const variants = {}
  // 1. a byte of the statement's payload
  { const t = decodeTS(s.transparent); t.value[2] = flip(t.value[2], t.value[2].length >> 1); variants.payload = encodeTS(t) }
  // 2. a byte of the receipt's signature
  { const t = decodeTS(s.transparent); t.rec.value[3] = flip(t.rec.value[3], 7); variants['receipt-signature'] = encodeTS(t) }
  // 3. a byte of the inclusion path
  { const t = decodeTS(s.transparent); t.proof[2] = ipath.map((h, k) => (k === 0 ? flip(h, 31) : h)); variants['inclusion-path'] = encodeTS(t) }
  // 4. the leaf index: the sibling, else a neighbour, that moves the root
  {
    const idx = [index ^ 1, index - 1, index + 1].find((x) => x >= 0 && x < size && changesRoot(x, size))
    if (idx === undefined) fail(`${s.name}: no in-range leaf index changes the root`)
    else { const t = decodeTS(s.transparent); t.proof[1] = idx; variants['leaf-index'] = encodeTS(t) }
  }
  // 5. the tree size: the nearest one that moves the root
  {
    const sz = [size + 1, size - 1, size + 2, size * 2].find((x) => x > index && changesRoot(index, x))
    if (sz === undefined) fail(`${s.name}: no tree size changes the root`)
    else { const t = decodeTS(s.transparent); t.proof[0] = sz; variants['tree-size'] = encodeTS(t) }
  }
  // 6. another statement's (genuine) receipt
  {
    let k = (i + 1) % stmts.length
    while (!tagged(stmts[k].transparent)) k = (k + 1) % stmts.length
    const other = stmts[k]
    const t = decodeTS(s.transparent); const o = decodeTS(other.transparent)
    t.rec = o.rec; t.proof = o.proof; variants['other-receipt'] = encodeTS(t)
  }
  for (const [kind, bytes] of Object.entries(variants)) {
    const file = path.join(work, 'tampered', `${s.name}.${kind}.cose`)
    fs.writeFileSync(file, bytes)
    tsv.push(`${file}\t${s.pem}`)
    try {
      await verifyTransparent(bytes)
      fail(`${s.name}.${kind}: transmute ACCEPTED a tampered statement`)
    } catch (e) {
      console.log(`rejected ${s.name}.${kind}: ${e.message}`)
      rejected++
    }
  }
}
fs.writeFileSync(path.join(work, 'tampered.tsv'), tsv.join('\n') + '\n')
console.log(`transmute ${coseVersion}: ${verified}/${stmts.length} receipts verified, ` +
            `${rejected}/${tsv.length} tampered variants rejected`)
process.exit(failures ? 1 : 0)
