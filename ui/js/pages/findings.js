// pages/findings.js: findings with filters (GET /findings?status=&tag=&
// rule=&device=), each linked to its own entry and to the entries that
// prove it (its evidence).

import { getJSON } from '../api.js';
import { h, replace, deviceLink, entryLink, tagBadge, fmtTime } from '../dom.js';
import { section } from '../section.js';
import { TAGS } from '../chart.js';

// the rules of docs/anomalies.md
const RULES = ['unknown-identity', 'clone', 'unauthorized-swap', 'custody-gap', 'seal-mismatch',
  'revoked-in-service', 'firmware-unreleased', 'firmware-revoked', 'firmware-unreviewed',
  'firmware-vulnerable', 'evidence-invalid', 'evidence-stale', 'production-gate',
  'attestation-failed', 'intake-failed', 'attestation-overdue'];
const STATUSES = ['open', 'resolved', 'withdrawn'];

function select(name, label, values, current) {
  return h('div', { class: 'field' }, h('label', { for: `f-${name}` }, label),
    h('select', { id: `f-${name}`, name },
      h('option', { value: '' }, 'any'),
      values.map((v) => h('option', { value: v, selected: v === current }, v))));
}

export function findingsTable(list, { showDevice = true, none = 'No finding matches.' } = {}) {
  if (!list.length) return h('p', { class: 'muted', id: 'no-findings' }, none);
  return h('table', { class: 'findings' },
    h('thead', {}, h('tr', {},
      ['raised', 'tag', 'rule', 'status', showDevice ? 'device' : null, 'site', 'reason', 'evidence']
        .filter(Boolean).map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, list.map((f) => h('tr', { class: 'finding', dataset: { finding: f.id, tag: f.tag, rule: f.rule } },
      h('td', {}, f.entry_id ? entryLink(f.entry_id) : null, h('br'), h('small', {}, fmtTime(f.time) || `entry ${f.index}`)),
      h('td', {}, tagBadge(f.tag)),
      h('td', {}, f.rule),
      h('td', {}, h('span', { class: `status status-${f.status}` }, f.status)),
      showDevice ? h('td', {}, deviceLink(f.device)) : null,
      h('td', { class: 'site' }, f.site || ''),
      h('td', { class: 'reason' }, f.reason),
      h('td', {}, h('ul', { class: 'evidence' }, (f.evidence || []).map((id) => h('li', {}, entryLink(id)))))))));
}

export function findingsPage(el, params) {
  const cur = Object.fromEntries(['status', 'tag', 'rule', 'device'].map((k) => [k, params.get(k) || '']));
  const form = h('form', {
    class: 'filters', id: 'findings-filters', onsubmit: (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      for (const k of ['status', 'tag', 'rule', 'device']) {
        const v = form.elements[k].value.trim();
        if (v) q.set(k, v);
      }
      location.hash = `#/findings${q.toString() ? `?${q}` : ''}`;
    },
  },
  select('status', 'Status', STATUSES, cur.status),
  select('tag', 'Tag', TAGS, cur.tag),
  select('rule', 'Rule', RULES, cur.rule),
  h('div', { class: 'field wide' }, h('label', { for: 'f-device' }, 'Device id'),
    h('input', { id: 'f-device', name: 'device', value: cur.device, pattern: '[0-9a-f]{64}', spellcheck: 'false',
      placeholder: '64 hex digits', autocomplete: 'off' })),
  h('div', { class: 'field' }, h('button', { type: 'submit' }, 'Filter')));
  const q = new URLSearchParams(Object.entries(cur).filter(([, v]) => v));
  replace(el, h('h1', {}, 'Findings'),
    h('p', {}, 'What does not add up in the ledger, newest first. Each finding links to its own entry and to the entries that prove it.'),
    form,
    section(null, async () => {
      const list = await getJSON(`/findings${q.toString() ? `?${q}` : ''}`);
      return h('div', {}, h('p', { class: 'count', id: 'findings-count' }, `${list.length} finding${list.length === 1 ? '' : 's'}`),
        findingsTable(list));
    }, { class: 'findings-list' }));
}
