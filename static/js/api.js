// The only door to the server: the public REST API under /api/v1.
// The bearer token lives in memory and sessionStorage (per tab, gone when the tab
// closes); the strict CSP keeps injected scripts from running in the first place.

const BASE = '/api/v1';
const TOKEN_KEY = 'rockstar.token';

let token = null;
try { token = sessionStorage.getItem(TOKEN_KEY); } catch { token = null; }

const listeners = new Set();

export function getToken() { return token; }
export function isLoggedIn() { return Boolean(token); }

export function setToken(value) {
  token = value || null;
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* storage disabled: memory only */ }
  for (const fn of listeners) fn(token);
}

export function onAuthChange(fn) { listeners.add(fn); }

export class ApiError extends Error {
  constructor(status, code, message, retryAfter = null) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

function parseRetryAfter(value) {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const when = Date.parse(value);
  return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

/** Parses an RFC 8288 Link header into {next: url, prev: url}. */
export function parseLink(header) {
  const out = {};
  if (!header) return out;
  for (const part of header.split(',')) {
    const m = part.match(/<([^>]*)>\s*;\s*rel="?([^";]+)"?/);
    if (m) out[m[2].trim()] = m[1];
  }
  return out;
}

/**
 * request('GET', '/timelines/home', {query: {limit: 20}})
 * Options: json (body), form (FormData), query, auth (default true).
 * Resolves to {data, headers, status}; rejects with ApiError.
 */
export async function request(method, path, opts = {}) {
  let url = path.startsWith('http') || path.startsWith('/api/') ? path : BASE + path;
  if (opts.query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') params.set(k, v);
    }
    const qs = params.toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  const sent = opts.auth !== false ? token : null;
  if (sent) headers.Authorization = `Bearer ${sent}`;
  let body;
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.json);
  } else if (opts.form) {
    body = opts.form;
  }

  let res;
  try {
    res = await fetch(url, { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'We could not reach RockStar. Check your connection and try again.');
  }

  let data = null;
  const type = res.headers.get('Content-Type') || '';
  if (res.status !== 204) {
    if (type.includes('json')) {
      try { data = await res.json(); } catch { data = null; }
    } else {
      try { await res.text(); } catch { /* ignore */ }
    }
  }

  if (!res.ok) {
    const code = (data && data.error) || `http_${res.status}`;
    const message = (data && data.message) || res.statusText || 'Something went wrong.';
    const err = new ApiError(res.status, code, message, parseRetryAfter(res.headers.get('Retry-After')));
    // Only the token this request carried has ended: a slow answer to a request sent before
    // a new log-in must not end the new session.
    if (res.status === 401 && sent && token === sent) {
      setToken(null);
    }
    throw err;
  }
  return { data, headers: res.headers, status: res.status };
}

export const api = {
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, json, opts) => request('POST', path, { ...opts, json }),
  patch: (path, json, opts) => request('PATCH', path, { ...opts, json }),
  del: (path, opts) => request('DELETE', path, opts),
  upload: (path, form, opts) => request('POST', path, { ...opts, form }),
};

/**
 * A cursor over a paginated list endpoint. Follows the Link rel="next" URL when the
 * server sends one, else asks for items older than the last id it saw.
 */
export class Pager {
  constructor(path, { limit = 20, query = {} } = {}) {
    this.path = path;
    this.limit = limit;
    this.query = query;
    this.nextUrl = null;
    this.maxId = null;
    this.done = false;
    this.loading = false;
  }

  async next() {
    if (this.done || this.loading) return [];
    this.loading = true;
    try {
      let res;
      if (this.nextUrl) {
        res = await request('GET', this.nextUrl);
      } else {
        res = await request('GET', this.path, { query: { ...this.query, limit: this.limit, max_id: this.maxId } });
      }
      const items = Array.isArray(res.data) ? res.data : (res.data && res.data.items) || [];
      const links = parseLink(res.headers.get('Link'));
      const nextUrl = links.next ? toRelative(links.next) : null;
      if (items.length === 0) {
        this.done = true;
      } else if (nextUrl) {
        this.nextUrl = nextUrl;
      } else {
        this.nextUrl = null;
        this.maxId = items[items.length - 1].id;
        if (items.length < this.limit) this.done = true;
      }
      return items;
    } finally {
      this.loading = false;
    }
  }
}

// Link URLs may be absolute; keep requests on our own origin.
function toRelative(url) {
  try {
    const u = new URL(url, location.origin);
    if (u.origin !== location.origin) return null;
    return u.pathname + u.search;
  } catch {
    return null;
  }
}

/** A random key for `Idempotency-Key` (crypto.randomUUID needs a secure context). */
export function newIdempotencyKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
