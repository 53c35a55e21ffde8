// chart.js: open findings over time, stacked by tag, as an SVG drawn here
// (no chart library). Each finding is open from its "time" until its
// "closed_time" (GET /findings). When every finding was raised within the
// same minute (a simulated fleet registers in seconds), time says nothing
// and the x axis becomes the log position ("index", "closed_index").

import { h, svg } from './dom.js';

export const TAGS = ['evict', 'investigate', 'remediate'];

// the step series: [{x, counts: {tag: n}}] after the events at x
export function openSeries(findings) {
  const ts = findings.map((f) => Date.parse(f.time)).filter((t) => !Number.isNaN(t));
  const useTime = ts.length === findings.length && ts.length > 0 &&
    Math.max(...ts) - Math.min(...ts) >= 60000;
  const events = [];
  for (const f of findings) {
    if (!TAGS.includes(f.tag)) continue;
    const open = useTime ? Date.parse(f.time) : f.index;
    events.push({ x: open, tag: f.tag, d: 1 });
    if (f.status !== 'open') {
      const close = useTime ? Date.parse(f.closed_time) : f.closed_index;
      if (close !== undefined && !Number.isNaN(close)) events.push({ x: close, tag: f.tag, d: -1 });
    }
  }
  events.sort((a, b) => a.x - b.x);
  const counts = { evict: 0, investigate: 0, remediate: 0 };
  const series = [];
  for (const e of events) {
    counts[e.tag] += e.d;
    const last = series[series.length - 1];
    if (last && last.x === e.x) last.counts = { ...counts };
    else series.push({ x: e.x, counts: { ...counts } });
  }
  return { series, useTime };
}

// an integer step of 1, 2 or 5 times a power of ten giving at most 5 ticks
function niceStep(n) {
  if (n <= 5) return 1;
  const raw = n / 5, p = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * p).find((st) => st >= raw);
}

function label(x, useTime) {
  if (!useTime) return `entry ${x}`;
  return new Date(x).toISOString().slice(0, 16).replace('T', ' ');
}

// the chart, with a title, a description, a legend and the data as a table
export function findingsChart(findings) {
  const { series, useTime } = openSeries(findings);
  if (!series.length) return h('p', { class: 'muted' }, 'No findings yet.');
  const W = 720, H = 240, L = 44, R = 16, T = 14, B = 40;
  const x0 = series[0].x, x1Raw = series[series.length - 1].x;
  const x1 = x1Raw > x0 ? x1Raw + (x1Raw - x0) * 0.04 : x0 + 1;
  const total = (c) => c.evict + c.investigate + c.remediate;
  const peak = Math.max(...series.map((p) => total(p.counts)), 1);
  const step = niceStep(peak);
  const yMax = Math.ceil(peak / step) * step;
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => H - B - (y / yMax) * (H - T - B);

  const parts = [];
  // grid and y axis
  for (let v = 0; v <= yMax; v += step) {
    parts.push(svg('line', { x1: L, x2: W - R, y1: sy(v), y2: sy(v), class: 'grid' }));
    parts.push(svg('text', { x: L - 6, y: sy(v) + 4, class: 'tick', 'text-anchor': 'end' }, String(v)));
  }
  // stacked step areas, bottom to top: evict, investigate, remediate
  let below = series.map(() => 0);
  for (const tag of TAGS) {
    const top = series.map((p, i) => below[i] + p.counts[tag]);
    let d = '';
    const pts = [];
    series.forEach((p, i) => {
      const xa = sx(p.x), xb = i + 1 < series.length ? sx(series[i + 1].x) : sx(x1);
      pts.push([xa, sy(top[i])], [xb, sy(top[i])]);
    });
    const base = [];
    series.forEach((p, i) => {
      const xa = sx(p.x), xb = i + 1 < series.length ? sx(series[i + 1].x) : sx(x1);
      base.push([xa, sy(below[i])], [xb, sy(below[i])]);
    });
    d = `M${pts.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L')}` +
      `L${base.reverse().map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join('L')}Z`;
    parts.push(svg('path', { d, class: `area tag-${tag}` }));
    below = top;
  }
  // x axis
  parts.push(svg('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, class: 'axis' }));
  parts.push(svg('text', { x: L, y: H - B + 16, class: 'tick', 'text-anchor': 'start' }, label(x0, useTime)));
  if (x1Raw > x0)
    parts.push(svg('text', { x: sx(x1Raw), y: H - B + 16, class: 'tick', 'text-anchor': 'end' }, label(x1Raw, useTime)));
  parts.push(svg('text', { x: (L + W - R) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' },
    useTime ? 'time (UTC)' : 'position in the log (the findings were raised within one minute)'));

  const last = series[series.length - 1].counts;
  const desc = `Open findings: ${last.evict} evict, ${last.investigate} investigate, ${last.remediate} remediate now; ` +
    `at most ${Math.max(...series.map((p) => total(p.counts)))} open at once.`;
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-labelledby': 'chart-title chart-desc' },
    svg('title', { id: 'chart-title' }, 'Open findings over time, by tag'),
    svg('desc', { id: 'chart-desc' }, desc), parts);
  const legend = h('ul', { class: 'legend' },
    TAGS.map((t) => h('li', {}, h('span', { class: `swatch tag-${t}`, 'aria-hidden': 'true' }), `${t} (${last[t]} open)`)));
  const table = h('details', { class: 'chart-data' }, h('summary', {}, 'The data as a table'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, useTime ? 'time' : 'log index'),
      TAGS.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, series.map((p) => h('tr', {}, h('td', {}, label(p.x, useTime).replace('entry ', '')),
      TAGS.map((t) => h('td', { class: 'num' }, String(p.counts[t]))))))));
  return h('figure', { class: 'chart-figure' }, chart, legend, table);
}
