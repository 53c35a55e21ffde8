// api.js: the console's requests to waybill serve. Every request carries
// the persona token of the session (sessionStorage, never localStorage: it
// is gone when the tab closes) as `Authorization: Bearer <token>`, and an
// answer that is not 2xx becomes an ApiError with the status and the RFC
// 9290 problem details (CBOR: -1 title, -2 detail) the service sent.

import { decode } from './cbor.js';

const TOKEN_KEY = 'waybill.token';
const PUBLIC_KEY = 'waybill.public';
const PERSONA_KEY = 'waybill.persona';

// the service's routes are siblings of /ui/ (also behind a path prefix)
export const BASE = location.pathname.replace(/\/ui(\/.*)?$/, '');

export class ApiError extends Error {
  constructor(status, title, detail, path) {
    super(`${status} ${title}${detail ? `: ${detail}` : ''}`);
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.path = path;
  }
}

export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY) || '',
  isPublic: () => sessionStorage.getItem(PUBLIC_KEY) === '1',
  signedIn: () => !!sessionStorage.getItem(TOKEN_KEY) || sessionStorage.getItem(PUBLIC_KEY) === '1',
  persona: () => {
    try {
      return JSON.parse(sessionStorage.getItem(PERSONA_KEY) || 'null');
    } catch {
      return null;
    }
  },
  signIn(token, persona) {
    sessionStorage.removeItem(PUBLIC_KEY);
    sessionStorage.setItem(TOKEN_KEY, token);
    if (persona) sessionStorage.setItem(PERSONA_KEY, JSON.stringify(persona));
    else sessionStorage.removeItem(PERSONA_KEY);
  },
  signInPublic() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(PERSONA_KEY);
    sessionStorage.setItem(PUBLIC_KEY, '1');
  },
  signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(PUBLIC_KEY);
    sessionStorage.removeItem(PERSONA_KEY);
  },
};

async function problemOf(res) {
  let title = res.statusText || 'Error', detail = '';
  try {
    const body = new Uint8Array(await res.arrayBuffer());
    const ctype = res.headers.get('Content-Type') || '';
    if (ctype.startsWith('application/concise-problem-details+cbor') && body.length) {
      const p = decode(body);
      if (p instanceof Map) {
        if (typeof p.get(-1) === 'string') title = p.get(-1);
        if (typeof p.get(-2) === 'string') detail = p.get(-2);
      }
    } else if (body.length && ctype.startsWith('text/')) {
      detail = new TextDecoder().decode(body).slice(0, 300);
    }
  } catch {
    /* the status says enough */
  }
  return { title, detail };
}

// fetch(path) with the session's token; throws ApiError unless 2xx
export async function apiFetch(path, accept, token = session.token()) {
  const headers = {};
  if (accept) headers.Accept = accept;
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(BASE + path, { headers, cache: 'no-store', credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, 'Network error', `the service did not answer (${e.message})`, path);
  }
  if (!res.ok) {
    const { title, detail } = await problemOf(res);
    throw new ApiError(res.status, title, detail, path);
  }
  return res;
}

export const getJSON = async (path, token) => (await apiFetch(path, 'application/json', token)).json();

// bytes of a 200, or null for 204 (an entry queued, not yet in the log)
export async function getBytes(path, accept) {
  const res = await apiFetch(path, accept);
  if (res.status === 204) return null;
  return new Uint8Array(await res.arrayBuffer());
}

// Who the token names, if the service says: GET /whoami answers
// {"persona", "kind"} (docs/personas.md); a service without that route
// answers 404 and the console names the persona by what it may see.
export async function whoami(token) {
  try {
    const o = await getJSON('/whoami', token);
    if (o && typeof o === 'object' && typeof o.persona === 'string')
      return { name: o.persona, kind: typeof o.kind === 'string' ? o.kind : '' };
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 0)) throw e;
  }
  return null;
}
