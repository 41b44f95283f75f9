// Who is logged in, and their unread notification count.
import { api, getToken, setToken } from './api.js';

const listeners = new Set();

export const session = {
  me: null,
  unread: 0,
  onChange(fn) { listeners.add(fn); },
  emit() { for (const fn of listeners) fn(this); },
};

/** Loads the current account if a token is held. Returns the account or null. */
export async function loadMe() {
  if (!getToken()) { session.me = null; session.emit(); return null; }
  try {
    const { data } = await api.get('/accounts/verify_credentials');
    session.me = data;
  } catch (err) {
    if (err.status === 401) setToken(null);
    session.me = null;
  }
  session.emit();
  return session.me;
}

export function startSession(token, account) {
  setToken(token);
  session.me = account || null;
  session.emit();
}

export async function logout() {
  try { await api.del('/sessions/current'); } catch { /* token is dropped either way */ }
  setToken(null);
  session.me = null;
  session.unread = 0;
  session.emit();
}

export async function refreshUnread() {
  if (!session.me) return;
  try {
    const { data } = await api.get('/notifications', { limit: 40 });
    const items = Array.isArray(data) ? data : [];
    const unread = items.filter((n) => !n.read).length;
    if (unread !== session.unread) { session.unread = unread; session.emit(); }
  } catch { /* the badge is best-effort */ }
}
