// Who is logged in, and their unread notification count.
import { api, getToken, setToken } from './api.js';

const listeners = new Set();

export const session = {
  me: null,
  /** A token is held but the account could not be loaded (server busy, offline). */
  unreachable: false,
  unread: 0,
  /** How many RockStar pages lie behind this one in the tab's history (see app.js). */
  depth: 0,
  onChange(fn) { listeners.add(fn); },
  emit() { for (const fn of listeners) fn(this); },
};

/**
 * Loads the current account if a token is held. Returns the account or null. A failure
 * other than 401 (server busy, network) keeps the token and tries again a few times.
 */
let retry = null;

export async function loadMe(attempt = 0) {
  clearTimeout(retry);
  if (!getToken()) { session.me = null; session.unreachable = false; session.emit(); return null; }
  try {
    // A server that hangs must not leave the first page blank: give up after 10 s (and retry).
    const { data } = await api.get('/accounts/verify_credentials', undefined, { signal: AbortSignal.timeout(10_000) });
    session.me = data;
    session.unreachable = false;
    refreshUnread();
  } catch (err) {
    session.me = null;
    // Still logged in (the token is kept): the nav says the account could not be reached.
    session.unreachable = err.status !== 401;
    if (err.status === 401) setToken(null);
    // Not sooner than the server asked (Retry-After on 429 and 503).
    else if (attempt < 5) retry = setTimeout(() => loadMe(attempt + 1), Math.max(2000 * 2 ** attempt, 1000 * (err.retryAfter || 0)));
  }
  session.emit();
  return session.me;
}

export function startSession(token, account) {
  setToken(token);
  session.me = account || null;
  session.unreachable = false;
  session.unread = 0;
  session.emit();
  refreshUnread();
}

/** Forgets the session here only (the server has already ended it: a deleted account). */
export function endSession() {
  clearTimeout(retry);
  setToken(null);
  session.me = null;
  session.unreachable = false;
  session.unread = 0;
  session.emit();
}

export async function logout() {
  try { await api.del('/sessions/current'); } catch { /* token is dropped either way */ }
  endSession();
}

export async function refreshUnread() {
  if (!session.me) return;
  try {
    const { data } = await api.get('/notifications/unread_count');
    const unread = Number(data && data.count) || 0;
    if (unread !== session.unread) { session.unread = unread; session.emit(); }
  } catch { /* the badge is best-effort */ }
}
