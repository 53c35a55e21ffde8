// pages/device.js: one device: what the ledger knows of it, its journey as
// a timeline (manufactured, assembled, shipped, received, attested,
// tagged), its place in the rack tree, the firmware its attestations
// measured with the reviews of that firmware, and its findings. Every
// entry shown carries a receipt badge: the receipt is verified in this
// browser (verify.js), not taken from the server's word.

import { getJSON, getBytes } from '../api.js';
import { decode, hex } from '../cbor.js';
import { openStatement } from '../receipt.js';
import { h, replace, short, deviceLink, entryLink, tagBadge, fmtTime } from '../dom.js';
import { section } from '../section.js';
import { statementOf, receiptBadge } from '../verify.js';
import { findingsTable } from './findings.js';

const MILESTONE = {
  manifest: 'manufactured', assembly: 'assembled', replacement: 'replaced', custody: 'in custody',
  intake: 'received', attestation: 'attested', finding: 'tagged', resolution: 'resolved',
  revocation: 'revoked', decommission: 'decommissioned', firmware: 'firmware released', review: 'reviewed',
  issuer: 'governance',
};

// the milestone and a line of what the entry says about this device
function describe(kind, p, id) {
  if (!p || typeof p !== 'object') return { milestone: MILESTONE[kind] || kind, detail: [] };
  switch (kind) {
    case 'manifest': {
      const d = (p.devices || []).find((x) => x.id === id);
      return { milestone: 'manufactured', detail: [`by ${p.manufacturer}`, d ? `: ${d.class} ${d.model}, serial ${d.serial}` : ''] };
    }
    case 'assembly': {
      if (p.parent === id)
        return { milestone: 'assembled', detail: [`${(p.children || []).length} part(s) placed in it: `,
          (p.children || []).map((c) => c.slot).join(', ')] };
      const c = (p.children || []).find((x) => x.id === id);
      return { milestone: 'assembled', detail: [`placed in slot ${c ? c.slot : '?'} of `, deviceLink(p.parent)] };
    }
    case 'replacement':
      return { milestone: 'replaced', detail: [`slot ${p.slot} of `, deviceLink(p.parent), `: `, deviceLink(p.old), ' → ',
        deviceLink(p.new), ` (ticket ${p.ticket})`] };
    case 'custody':
      return p.event === 'ship'
        ? { milestone: 'shipped', detail: [`${p.from} → ${p.to}, shipment ${p.shipment}`, p.seals ? `, seals ${p.seals.join(', ')}` : ''] }
        : { milestone: 'received', detail: [`at ${p.to} from ${p.from}, shipment ${p.shipment}`] };
    case 'intake':
      return { milestone: 'received', detail: [`intake at ${p.site}, shipment ${p.shipment}: `, h('span', { class: `verdict-${p.verdict}` }, p.verdict)] };
    case 'attestation':
      return { milestone: 'attested', detail: [p.target === id ? '' : ['as part of ', deviceLink(p.target), ', '],
        `${p.phase} at ${p.site}: `, h('span', { class: `verdict-${p.verdict}` }, p.verdict),
        p.failed_check ? ` (${p.failed_check})` : '', p.reasons ? ` — ${p.reasons.join('; ')}` : ''] };
    case 'finding':
      return { milestone: 'tagged', detail: [tagBadge(p.tag), ` ${p.rule}: ${p.reason}`] };
    case 'resolution':
      return { milestone: 'resolved', detail: [`finding ${short(p.finding_id)}`] };
    case 'revocation':
      return { milestone: 'revoked', detail: [`${p.target_kind} ${short(p.target)}`, p.reason ? `: ${p.reason}` : ''] };
    case 'decommission':
      return { milestone: 'decommissioned', detail: [p.site ? `at ${p.site}` : ''] };
    default:
      return { milestone: MILESTONE[kind] || kind, detail: [] };
  }
}

function timeline(j, id, badges) {
  if (!j.entries.length) return h('p', { class: 'muted' }, 'No entry.');
  return h('ol', { class: 'timeline', id: 'journey' }, j.entries.map((e) => {
    const badge = receiptBadge(e.entry_id);
    badges.push(badge);
    const ms = h('span', { class: `milestone ms-${MILESTONE[e.kind] || e.kind}` }, MILESTONE[e.kind] || e.kind);
    const detail = h('p', { class: 'detail' });
    statementOf(e.entry_id).then((st) => {
      const d = describe(e.kind, st.json, id);
      ms.textContent = d.milestone;
      ms.className = `milestone ms-${d.milestone.replace(/\s+/g, '-')}`;
      replace(detail, d.detail);
    }).catch(() => {});
    return h('li', { class: 'event', dataset: { kind: e.kind, entry: e.entry_id } },
      h('div', { class: 'when' }, h('time', { datetime: e.time }, fmtTime(e.time)), h('small', {}, `entry ${e.index}`)),
      h('div', { class: 'what' },
        h('p', { class: 'head' }, ms, ' ', h('span', { class: 'kind' }, e.kind), ' · signed by ', h('strong', {}, e.issuer),
          ' · ', entryLink(e.entry_id)),
        detail, badge));
  }));
}

// ---- the rack tree ----

function treeNode(node, path, here, depth) {
  const onPath = path.includes(node.id);
  const items = (node.slots || []).map((s) => {
    const sub = s.tree ? treeNode(s.tree, path, here, depth + 1) : null;
    const mismatch = s.match === false;
    const isHere = s.expected === here;
    const head = h('span', { class: `slot${isHere ? ' here' : ''}`, 'aria-current': isHere ? 'true' : null },
      h('span', { class: 'slot-name' }, s.slot), ' ', deviceLink(s.expected),
      s.tree && s.tree.class ? h('span', { class: 'muted' }, ` ${s.tree.class}`) : null,
      isHere ? h('strong', { class: 'here-label' }, ' ← this device') : null,
      mismatch ? h('span', { class: 'mismatch' }, ' last attestation saw ',
        s.last_attested ? deviceLink(s.last_attested) : 'nothing', ' here') : null);
    if (!sub) return h('li', {}, head);
    if (path.includes(s.expected) || depth < 0) return h('li', {}, head, sub);
    return h('li', {}, h('details', {}, h('summary', {}, head), sub));
  });
  return items.length ? h('ul', { class: 'tree' }, items) : null;
}

async function rackTree(journey, id) {
  const path = [id];
  let cur = journey, note = null;
  for (let depth = 0; cur.placed_in && depth < 8; depth++) {
    const parent = cur.placed_in.parent;
    try {
      cur = await getJSON(`/devices/${parent}`);
    } catch (e) {
      if (e.status === 403 || e.status === 401) {
        note = h('p', { class: 'note' }, 'The parent above ', deviceLink(parent), ' is not shown: your persona may not see it.');
        path.unshift(parent);
        break;
      }
      throw e;
    }
    path.unshift(parent);
  }
  const root = note ? path[1] : path[0];
  const tree = await getJSON(`/devices/${root}/tree`);
  if (root === id && !(tree.slots || []).length)
    return h('p', { class: 'muted', id: 'tree' }, 'Not placed in a rack or blade now, and it holds no parts.');
  const rootHead = h('p', { class: `tree-root${root === id ? ' here' : ''}` }, h('strong', {}, tree.class || 'device'), ' ', deviceLink(root),
    root === id ? h('strong', { class: 'here-label' }, ' ← this device') : null);
  return h('div', { id: 'tree' }, note, rootHead, treeNode(tree, path, id, 0));
}

// ---- firmware and reviews, from the device passport ----

async function firmwarePanel(id, journey, badges) {
  const bytes = await getBytes(`/devices/${id}/passport`, 'application/cbor');
  const pp = decode(bytes, { shortest: false });
  const entries = pp instanceof Map && Array.isArray(pp.get('entries')) ? pp.get('entries') : [];
  const firmware = new Map(), reviews = [], measured = new Map();
  const parent = journey.placed_in;
  for (const e of entries) {
    if (!(e instanceof Map) || !(e.get('statement') instanceof Uint8Array)) continue;
    const st = openStatement(e.get('statement'));
    const ctype = String(st.headers.get(3) || '');
    const m = /^application\/vnd\.waybill\.([a-z]+)\+json$/.exec(ctype);
    if (!m) continue;
    let p;
    try {
      p = JSON.parse(new TextDecoder().decode(st.payload));
    } catch {
      continue;
    }
    const entryId = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', st.registered)));
    const stBytes = e.get('statement');
    if (m[1] === 'firmware') firmware.set(p.digest, { p, entryId, bytes: stBytes });
    else if (m[1] === 'review') reviews.push({ p, entryId, bytes: stBytes });
    else if (m[1] === 'attestation') {
      // what was measured on this device: its own components, or the
      // component of its slot in the parent that was attested
      for (const x of p.measurements || []) {
        const mine = p.target === id || (parent && p.target === parent.parent && x.component === parent.slot);
        if (!mine) continue;
        const seen = measured.get(x.digest) || new Set();
        seen.add(x.component);
        measured.set(x.digest, seen);
      }
    }
  }
  const shown = [...firmware.entries()].filter(([d]) => measured.has(d));
  const unreleased = [...measured.keys()].filter((d) => !firmware.has(d));
  if (!shown.length && !unreleased.length)
    return h('p', { class: 'muted', id: 'firmware' }, 'No attestation of this device measured firmware yet.');
  const rows = shown.map(([digest, { p, entryId, bytes }]) => {
    const b = receiptBadge(entryId, bytes);
    badges.push(b);
    const revs = reviews.filter((r) => r.p.firmware_digest === digest);
    return h('tr', { class: 'fw', dataset: { digest } },
      h('td', {}, [...measured.get(digest)].join(', ')),
      h('td', {}, `${p.vendor} ${p.fw_version}`, h('br'), h('small', { class: 'muted' }, `${p.class}, svn ${p.svn}`)),
      h('td', {}, h('code', { class: 'id', title: digest }, short(digest, 16))),
      h('td', {}, entryLink(entryId), h('br'), b),
      h('td', {}, revs.length ? h('ul', { class: 'reviews' }, revs.map((r) => {
        const rb = receiptBadge(r.entryId, r.bytes);
        badges.push(rb);
        const issues = r.p.issues || [];
        const worst = issues.reduce((m, i) => Math.max(m, i.cvss), 0);
        return h('li', {}, h('strong', {}, r.p.reviewer), ` (${r.p.framework}): `,
          issues.length ? `${issues.length} issue(s), highest CVSS ` : 'no issues',
          issues.length ? h('span', { class: worst >= 7 ? 'cvss high' : 'cvss' }, worst.toFixed(1)) : null,
          ' ', entryLink(r.entryId), ' ', rb);
      })) : h('span', { class: 'warn' }, 'not reviewed')));
  });
  return h('div', { id: 'firmware' },
    h('table', { class: 'firmware' },
      h('thead', {}, h('tr', {}, ['measured as', 'firmware', 'SHA-384', 'release entry', 'reviews'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)),
    unreleased.length ? h('p', { class: 'warn' }, `${unreleased.length} measured image(s) that no vendor released: `,
      unreleased.map((d) => h('code', { title: d }, `${short(d, 16)} `))) : null);
}

export function devicePage(el, id) {
  const journeyP = getJSON(`/devices/${id}`);
  const badges = [];
  const summary = h('p', { id: 'receipt-summary', role: 'status', 'aria-live': 'polite', dataset: { done: '0' } },
    'Checking every receipt in this browser…');
  let firmwareDone;
  const firmwareLoaded = new Promise((resolve) => (firmwareDone = resolve));

  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/fleet' }, 'Fleet'), ' › device'),
    h('h1', {}, 'Device ', h('code', { class: 'id-full' }, id)),
    section(null, async () => {
      const j = await journeyP;
      const rows = [['class', j.class], ['manufacturer', j.manufacturer], ['model', j.model], ['serial', j.serial],
        ['supplier', j.supplier], ['state', j.state], ['site', j.site],
        ['placed in', j.placed_in ? [deviceLink(j.placed_in.parent), ` slot ${j.placed_in.slot}`] : null],
        ['revoked', j.revoked ? 'yes' : null], ['decommissioned', j.decommissioned ? 'yes' : null],
        ['last passing attestation', j.last_attested ? fmtTime(j.last_attested) : null]].filter(([, v]) => v);
      return h('div', {}, h('dl', { class: 'kv', id: 'device-facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])), summary);
    }, { class: 'device-summary' }),
    section('Journey', async () => timeline(await journeyP, id, badges), { class: 'journey' }),
    section('Place in the rack tree', async () => rackTree(await journeyP, id), { class: 'rack-tree' }),
    section('Firmware and reviews', async () => {
      try {
        return await firmwarePanel(id, await journeyP, badges);
      } finally {
        firmwareDone();
      }
    }, { class: 'firmware-panel' }),
    section('Findings', async () => findingsTable((await journeyP).findings || [],
      { showDevice: false, none: 'No finding about this device.' }), { class: 'device-findings' }));

  // the summary: once the journey's and the firmware's badges are all done
  (async () => {
    try {
      await journeyP;
    } catch {
      summary.textContent = '';
      return;
    }
    await firmwareLoaded;
    await new Promise((r) => setTimeout(r, 0));
    const results = await Promise.all(badges.map((b) => b.done));
    const ok = results.filter((r) => r.ok).length, hidden = results.filter((r) => r.forbidden).length;
    const bad = results.length - ok - hidden;
    summary.dataset.done = '1';
    summary.dataset.verified = String(ok);
    summary.dataset.failed = String(bad);
    summary.dataset.forbidden = String(hidden);
    summary.className = bad ? 'failed' : 'verified';
    const also = hidden ? ` (${hidden} not checked: your persona may not read those statements)` : '';
    summary.textContent = bad
      ? `${bad} of ${results.length - hidden} receipts did NOT verify in this browser; ${ok} verified${also}.`
      : `All ${ok} receipts checked verified in this browser against the service key${also}.`;
  })();
}
