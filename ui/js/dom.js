// dom.js: building the page. Text is always set as text (never as HTML),
// so nothing the ledger holds can inject markup into the console.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') Object.assign(el.style, v); // CSSOM: allowed by the CSP, an attribute is not
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// h('a', {href: '#/fleet', class: 'x'}, 'text', child, [more])
export const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
export const svg = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

export const short = (id, n = 12) => (typeof id === 'string' && id.length > n ? `${id.slice(0, n)}…` : id || '');

export const deviceLink = (id) =>
  id ? h('a', { href: `#/device/${id}`, class: 'id', title: id }, short(id)) : h('span', { class: 'muted' }, '—');
export const entryLink = (id) =>
  h('a', { href: `#/entry/${id}`, class: 'id', title: `entry ${id}` }, short(id));

export const tagBadge = (tag) => h('span', { class: `badge tag-${tag}` }, tag);

export function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

export function fmtTime(iso) {
  if (!iso) return '';
  return iso.replace('T', ' ').replace('Z', ' UTC');
}
