// section.js: a panel of a page that loads its own data. A 403 hides it
// behind a short note (what a persona may not see is not shown), a 401
// asks to sign in, anything else is an error the panel shows.

import { ApiError } from './api.js';
import { h, replace } from './dom.js';

// a section that loads its own data; a 403 hides it behind a short note,
// a 401 asks to sign in
export function section(title, load, opts = {}) {
  const body = h('div', { class: 'section-body' }, h('p', { class: 'muted loading' }, 'Loading…'));
  const el = h('section', { class: `panel ${opts.class || ''}`, 'aria-busy': 'true' },
    title ? h('h2', {}, title) : null, body);
  Promise.resolve().then(load).then((content) => {
    replace(body, content);
  }).catch((e) => {
    if (e instanceof ApiError && (e.status === 403 || e.status === 401)) {
      el.dataset.forbidden = String(e.status);
      el.classList.add('forbidden');
      replace(body, h('p', { class: 'note' }, e.status === 403
        ? `Not shown: your persona may not see this (403${e.detail ? `: ${e.detail}` : ''}).`
        : `Not shown: sign in with a token that may see this (401${e.detail ? `: ${e.detail}` : ''}).`));
    } else {
      el.dataset.error = '1';
      replace(body, h('p', { class: 'error', role: 'alert' }, `Could not load this: ${e.message}`));
    }
  }).finally(() => el.setAttribute('aria-busy', 'false'));
  return el;
}

