// pages/entry.js: one log entry: its statement (headers and JSON payload)
// and whether its receipt verifies, checked in this browser.

import { h, replace, fmtTime } from '../dom.js';
import { hex } from '../cbor.js';
import { section } from '../section.js';
import { statementOf, receiptBadge } from '../verify.js';

const ALG_NAMES = { [-7]: 'ES256', [-35]: 'ES384', [-8]: 'EdDSA' };

export function headerRows(headers) {
  const rows = [];
  const cwt = headers.get(15) instanceof Map ? headers.get(15) : new Map();
  const iat = cwt.get(6);
  rows.push(['issuer (CWT iss)', cwt.get(1)]);
  rows.push(['subject (CWT sub)', cwt.get(2)]);
  if (typeof iat === 'number') rows.push(['issued at (CWT iat)', fmtTime(new Date(iat * 1000).toISOString().replace(/\.\d+Z$/, 'Z'))]);
  rows.push(['content type', headers.get(3)]);
  rows.push(['algorithm', ALG_NAMES[headers.get(1)] || String(headers.get(1))]);
  if (headers.get(4) instanceof Uint8Array) rows.push(['key id', hex(headers.get(4))]);
  if (Array.isArray(headers.get(33))) rows.push(['x5chain', `${headers.get(33).length} certificate(s)`]);
  else if (headers.get(33) instanceof Uint8Array) rows.push(['x5chain', '1 certificate']);
  return rows.filter(([, v]) => v !== undefined && v !== null);
}

export function entryPage(el, id) {
  const badge = receiptBadge(id);
  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/fleet' }, 'Fleet'), ' › entry'),
    h('h1', {}, 'Entry ', h('code', { class: 'id-full' }, id)),
    h('section', { class: 'panel', id: 'receipt-status' }, h('h2', {}, 'Receipt'), h('p', {}, badge),
      h('p', { class: 'help' }, 'Checked in this browser: the receipt from GET /entries/{id}, the leaf hash of the registered statement, ',
        'the inclusion path folded to the root, and the service key\'s signature over that root (WebCrypto). ',
        h('a', { href: 'https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2', rel: 'noreferrer' }, 'RFC 9162'), ', ',
        h('a', { href: 'https://www.rfc-editor.org/rfc/rfc9052#section-4.4', rel: 'noreferrer' }, 'RFC 9052'), '.'),
      h('dl', { class: 'kv', id: 'receipt-details' })),
    section('Statement', async () => {
      const st = await statementOf(id);
      const kv = h('dl', { class: 'kv' }, headerRows(st.headers).map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]));
      const payload = st.json !== null
        ? h('pre', { class: 'payload', id: 'payload', tabindex: '0' }, JSON.stringify(st.json, null, 2))
        : h('pre', { class: 'payload', id: 'payload', tabindex: '0' }, hex(st.payload));
      return h('div', {}, kv,
        h('p', {}, st.idMatches ? 'The SHA-256 of the registered statement is this entry id.'
          : h('strong', { class: 'error' }, 'The statement served does NOT hash to this entry id.')),
        h('h3', {}, 'Payload'), payload);
    }));
  badge.done.then((r) => {
    const dl = document.getElementById('receipt-details');
    if (!dl) return;
    const rows = [['result', r.reason], ['algorithm', r.alg], ['tree size', r.treeSize], ['leaf index', r.leafIndex],
      ['root (computed)', r.root], ['service key id', r.kid]].filter(([, v]) => v !== undefined);
    replace(dl, rows.map(([k, v]) => [h('dt', {}, k), h('dd', { class: k === 'root (computed)' || k === 'service key id' ? 'id-full' : '' }, String(v))]));
  });
}
