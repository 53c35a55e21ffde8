// pages/fleet.js: the fleet overview (GET /fleet, GET /findings) and the
// list of devices in one state (GET /fleet?state=S).

import { getJSON } from '../api.js';
import { h, replace, deviceLink, tagBadge } from '../dom.js';
import { section } from '../section.js';
import { findingsChart, TAGS } from '../chart.js';

function countTable(caption, obj, linkOf) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h('p', { class: 'muted' }, 'None.');
  const max = Math.max(...entries.map(([, n]) => n), 1);
  return h('table', { class: 'counts' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, caption.split(' by ')[1] || 'name'),
      h('th', { scope: 'col', class: 'num' }, 'count'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'share')))),
    h('tbody', {}, entries.map(([k, n]) => h('tr', { dataset: { key: k } },
      h('th', { scope: 'row' }, linkOf ? h('a', { href: linkOf(k) }, k) : k),
      h('td', { class: 'num' }, String(n)),
      h('td', { class: 'bar-cell', 'aria-hidden': 'true' },
        h('span', { class: 'bar', style: { width: `${Math.round((100 * n) / max)}%` } }))))));
}

export function fleetPage(el) {
  const fleet = getJSON('/fleet');
  replace(el,
    h('h1', {}, 'Fleet overview'),
    section(null, async () => {
      const f = await fleet;
      return h('div', { class: 'cards', id: 'fleet-summary' },
        h('div', { class: 'card' }, h('span', { class: 'big', id: 'n-devices' }, String(f.devices)), h('span', {}, 'devices')),
        h('div', { class: 'card' }, h('span', { class: 'big' }, String(f.tagged_devices)), h('span', {}, 'tagged devices')),
        h('a', { class: 'card', href: '#/findings?status=open' }, h('span', { class: 'big', id: 'n-open' }, String(f.open_findings)),
          h('span', {}, 'open findings')));
    }, { class: 'summary' }),
    h('div', { class: 'grid2' },
      section('Devices by state', async () => countTable('devices by state', (await fleet).by_state,
        (k) => `#/devices?state=${encodeURIComponent(k)}`), { class: 'by-state' }),
      section('Devices by site', async () => countTable('devices by site', (await fleet).by_site), { class: 'by-site' })),
    h('div', { class: 'grid2' },
      section('Open findings by tag', async () => {
        const byTag = (await fleet).open_findings_by_tag || {};
        return h('ul', { class: 'tag-cards' }, TAGS.map((t) => h('li', {},
          h('a', { href: `#/findings?status=open&tag=${t}`, class: `tag-card tag-${t}`, dataset: { tag: t } },
            h('span', { class: 'big' }, String(byTag[t] || 0)), tagBadge(t)))));
      }, { class: 'by-tag' }),
      section('Open findings by rule', async () => countTable('open findings by rule', (await fleet).open_findings_by_rule,
        (k) => `#/findings?status=open&rule=${encodeURIComponent(k)}`), { class: 'by-rule' })),
    section('Open findings over time', async () => findingsChart(await getJSON('/findings')), { class: 'over-time' }));
}

export function devicesPage(el, params) {
  const state = params.get('state') || '';
  replace(el,
    h('p', { class: 'crumbs' }, h('a', { href: '#/fleet' }, 'Fleet'), ' › devices'),
    h('h1', {}, state ? `Devices ${state}` : 'Devices'),
    section(null, async () => {
      if (!state) return h('p', {}, 'Pick a state on the fleet overview.');
      const f = await getJSON(`/fleet?state=${encodeURIComponent(state)}`);
      const ids = f.ids || [];
      if (!ids.length) return h('p', { class: 'muted' }, 'No device is in this state.');
      return h('div', {}, h('p', {}, `${ids.length} device${ids.length === 1 ? '' : 's'}:`),
        h('ul', { class: 'id-list' }, ids.map((id) => h('li', {}, deviceLink(id)))));
    }));
}
