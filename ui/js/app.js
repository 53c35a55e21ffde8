// app.js: the web console's shell: sign-in, the header, and the hash
// routes of the single page (docs/console.md):
//
//   #/signin             paste a persona token
//   #/fleet              fleet overview (default)
//   #/devices?state=S    the devices in a state
//   #/findings?status=&tag=&rule=&device=
//   #/device/<id>        a device: journey, rack tree, firmware, receipts
//   #/entry/<id>         one entry: statement and receipt, verified here

import { ApiError, getJSON, session, whoami } from './api.js';
import { h, replace } from './dom.js';
import { fleetPage, devicesPage } from './pages/fleet.js';
import { findingsPage } from './pages/findings.js';
import { devicePage } from './pages/device.js';
import { entryPage } from './pages/entry.js';

const main = () => document.getElementById('main');

function personaLabel() {
  const p = session.persona();
  if (p && p.name) return `${p.name}${p.kind ? ` (${p.kind})` : ''}`;
  if (session.token()) return 'a persona token';
  return 'public (no token)';
}

function renderHeader() {
  const who = document.getElementById('who');
  const route = location.hash.split('?')[0];
  for (const a of document.querySelectorAll('nav.main-nav a')) {
    if (a.getAttribute('href') === route || (route === '' && a.getAttribute('href') === '#/fleet'))
      a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!session.signedIn()) {
    replace(who, h('a', { href: '#/signin' }, 'Sign in'));
    return;
  }
  replace(who, h('span', { id: 'persona' }, 'Signed in as ', h('strong', {}, personaLabel())), ' ',
    h('button', {
      type: 'button', class: 'link', onclick: () => {
        // a fresh page: nothing fetched with this token stays in memory
        session.signOut();
        location.hash = '#/signin';
        location.reload();
      },
    }, 'Sign out'));
}

function signinPage(el) {
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false',
    'aria-describedby': 'token-help', required: true,
  });
  const status = h('p', { id: 'signin-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', {
    class: 'signin', onsubmit: async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      replace(status, 'Checking the token…');
      status.className = '';
      try {
        const persona = await whoami(token);
        // the fleet overview is what most personas may read; its answer
        // tells a token the service does not know (401) from one whose
        // persona may not see the overview (403)
        let note = '';
        try {
          await getJSON('/fleet', token);
        } catch (e) {
          if (!(e instanceof ApiError) || e.status !== 403) throw e;
          note = 'this persona may not see the fleet overview (403)';
        }
        session.signIn(token, persona);
        replace(status, note ? `Signed in; ${note}.` : 'Signed in.');
        location.hash = '#/fleet';
      } catch (e) {
        status.className = 'error';
        replace(status, e instanceof ApiError && e.status === 401
          ? `The service did not accept this token (401${e.detail ? `: ${e.detail}` : ''}).`
          : `Could not sign in: ${e.message}`);
      }
    },
  },
  h('label', { for: 'token' }, 'Persona token'),
  input,
  h('p', { id: 'token-help', class: 'help' },
    'The bearer token your operator gave you. It stays in this tab (session storage) and is sent as ',
    h('code', {}, 'Authorization: Bearer'), ' with every request.'),
  h('div', { class: 'actions' },
    h('button', { type: 'submit', id: 'signin-button' }, 'Sign in'),
    h('button', {
      type: 'button', class: 'secondary', id: 'public-button', onclick: () => {
        session.signInPublic();
        location.hash = '#/fleet';
      },
    }, 'Continue without a token')),
  status);
  replace(el, h('section', { class: 'panel narrow' }, h('h1', {}, 'Sign in'),
    h('p', {}, 'The console shows what your persona may read: a supplier its own devices, a datacenter its sites, an auditor everything. ',
      'Without a token you see what the public sees.'), form));
  input.focus();
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/fleet';
  const [path, query = ''] = raw.split('?');
  return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query) };
}

export function render() {
  const el = main();
  const { parts, params } = parseHash();
  renderHeader();
  if (parts[0] !== 'signin' && !session.signedIn()) {
    location.hash = '#/signin';
    return;
  }
  const page = parts[0];
  const id = parts[1] || '';
  el.dataset.page = page;
  if (page === 'signin') signinPage(el);
  else if (page === 'fleet') fleetPage(el);
  else if (page === 'devices') devicesPage(el, params);
  else if (page === 'findings') findingsPage(el, params);
  else if (page === 'device' && /^[0-9a-f]{64}$/.test(id)) devicePage(el, id);
  else if (page === 'entry' && /^[0-9a-f]{64}$/.test(id)) entryPage(el, id);
  else replace(el, h('section', { class: 'panel' }, h('h1', {}, 'Not found'), h('p', {}, 'No such page. '),
    h('a', { href: '#/fleet' }, 'Back to the fleet')));
  el.focus({ preventScroll: true });
}

function goToDevice(ev) {
  ev.preventDefault();
  const input = document.getElementById('goto-id');
  const v = input.value.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(v)) {
    location.hash = `#/device/${v}`;
    input.value = '';
    input.removeAttribute('aria-invalid');
  } else {
    input.setAttribute('aria-invalid', 'true');
  }
}

window.addEventListener('hashchange', render);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('goto').addEventListener('submit', goToDevice);
  document.getElementById('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main().focus();
  });
  render();
});
