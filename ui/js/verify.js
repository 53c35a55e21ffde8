// verify.js: one entry checked in the browser. The service's key set is
// fetched once per page load; for each entry the console fetches
//   GET /entries/{id}/statement   the transparent statement, from which it
//                                 rebuilds the registered statement and
//                                 checks that its SHA-256 is the entry id;
//   GET /entries/{id}             the receipt (application/cose),
// and verifies that receipt over the registered statement (receipt.js).
// The receipt inside the transparent statement is not used: the one
// checked is the one GET /entries/{id} serves.

import { getBytes, ApiError } from './api.js';
import { hex } from './cbor.js';
import { importKeySet, verifyReceipt, openStatement, VerifyError } from './receipt.js';
import { h, replace } from './dom.js';

let keysPromise = null;

export function serviceKeys() {
  if (!keysPromise) {
    keysPromise = getBytes('/.well-known/scitt-keys', 'application/cbor').then(importKeySet);
    keysPromise.catch(() => {
      keysPromise = null; // try again next time
    });
  }
  return keysPromise;
}

const statements = new Map(); // entry id -> Promise of the opened statement

function opened(st, id) {
  return (async () => {
    const digest = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', st.registered)));
    st.idMatches = digest === id;
    st.json = null;
    try {
      st.json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(st.payload));
    } catch {
      /* not JSON: shown in hex */
    }
    return st;
  })();
}

// the entry's statement: {headers, payload, registered, idMatches, json}
// from GET /entries/{id}/statement, or from bytes the page already holds
// (a passport's transparent statement)
export function statementOf(id, bytes) {
  if (!statements.has(id)) {
    const p = (async () => {
      if (!bytes) bytes = await getBytes(`/entries/${id}/statement`, 'application/cose');
      if (!bytes) throw new VerifyError('the entry is queued: not yet in the log');
      return opened(openStatement(bytes), id);
    })();
    p.catch(() => statements.delete(id));
    statements.set(id, p);
  }
  return statements.get(id);
}

// {ok, reason, treeSize, leafIndex, alg, kid} for one entry (forbidden: the
// persona may not read its statement); never throws
export async function verifyEntry(id, bytes) {
  try {
    const [keys, st] = await Promise.all([serviceKeys(), statementOf(id, bytes)]);
    if (!st.idMatches)
      return { ok: false, reason: 'the statement served is not this entry: its SHA-256 differs from the entry id' };
    const receipt = await getBytes(`/entries/${id}`, 'application/cose');
    if (!receipt) return { ok: false, pending: true, reason: 'the entry is queued: no receipt yet' };
    return await verifyReceipt(receipt, st.registered, keys);
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403))
      return { ok: false, forbidden: true, reason: `not checked: your persona may not read this entry (${e.status})` };
    if (e instanceof ApiError) return { ok: false, reason: `could not fetch it: ${e.message}`, status: e.status };
    if (e instanceof VerifyError) return { ok: false, reason: e.message };
    return { ok: false, reason: `error: ${e.message}` };
  }
}

// a badge that fills in when the check is done: data-state is checking,
// verified, failed or forbidden (the browser tests read it)
export function receiptBadge(id, bytes) {
  const el = h('span', { class: 'receipt checking', dataset: { entry: id, state: 'checking' }, role: 'status' },
    'checking receipt…');
  el.done = verifyEntry(id, bytes).then((r) => {
    const state = r.ok ? 'verified' : r.forbidden ? 'forbidden' : 'failed';
    el.dataset.state = state;
    el.className = `receipt ${state}`;
    el.title = r.reason;
    replace(el, r.ok ? '✓ receipt verified' : r.forbidden ? 'receipt not checked' : '✗ receipt NOT verified',
      r.ok ? null : h('span', { class: 'why' }, `: ${r.reason}`));
    return r;
  });
  return el;
}

// runs fns with at most n at a time
export async function limited(n, fns) {
  const out = new Array(fns.length);
  let next = 0;
  const worker = async () => {
    while (next < fns.length) {
      const i = next++;
      out[i] = await fns[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, fns.length) }, worker));
  return out;
}
