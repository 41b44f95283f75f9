// RockStar web app: hash router, navigation shell, and start-up.
import { isLoggedIn, onAuthChange } from './api.js';
import { h, s, mount } from './dom.js';
import { session, loadMe, logout, refreshUnread } from './session.js';
import { avatar, displayName, profileHref, rockAlt } from './components.js';
import { signupView } from './views/signup.js';
import { loginView } from './views/login.js';
import { timelineView } from './views/timeline.js';
import { threadView } from './views/thread.js';
import { profileView } from './views/profile.js';
import { rocksView, rockView } from './views/rocks.js';
import { notificationsView } from './views/notifications.js';
import { settingsView } from './views/settings.js';

const routes = [
  { re: /^\/?$/, view: (ctx) => { ctx.redirect(isLoggedIn() ? '#/home' : '#/signup'); } },
  { re: /^\/signup$/, view: signupView, nav: 'signup' },
  { re: /^\/login$/, view: loginView, nav: 'login' },
  { re: /^\/home$/, view: (ctx) => timelineView(ctx, 'home'), auth: true, nav: 'home' },
  { re: /^\/public$/, view: (ctx) => timelineView(ctx, 'public'), nav: 'public' },
  { re: /^\/@([^/]+)(?:\/(followers|following))?$/, view: (ctx, m) => profileView(ctx, decodeURIComponent(m[1]), m[2] || 'posts'), nav: 'profile' },
  { re: /^\/statuses\/([^/]+)$/, view: (ctx, m) => threadView(ctx, decodeURIComponent(m[1])) },
  { re: /^\/rocks$/, view: rocksView, nav: 'rocks' },
  { re: /^\/rocks\/([^/]+)$/, view: (ctx, m) => rockView(ctx, decodeURIComponent(m[1])), nav: 'rocks' },
  { re: /^\/notifications$/, view: notificationsView, auth: true, nav: 'notifications' },
  { re: /^\/settings$/, view: settingsView, auth: true, nav: 'settings' },
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const aside = document.getElementById('aside');
let cleanups = [];
let renderSeq = 0;
let currentNav = null;

function icon(d) {
  return s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false', class: 'icon' }, s('path', { d, fill: 'currentColor' }));
}
const ICONS = {
  home: 'M12 3l9 8h-3v9h-5v-6h-2v6H6v-9H3z',
  public: 'M12 2a10 10 0 100 20 10 10 0 000-20zm6.9 6h-3a15.7 15.7 0 00-1.4-3.6A8 8 0 0118.9 8zM12 4c.8 1.2 1.5 2.5 1.9 4h-3.8c.4-1.5 1.1-2.8 1.9-4zM4.3 14a8.2 8.2 0 010-4h3.4a16.5 16.5 0 000 4zm.8 2h3a15.7 15.7 0 001.4 3.6A8 8 0 015.1 16zm3-8h-3a8 8 0 014.4-3.6A15.7 15.7 0 008.1 8zM12 20c-.8-1.2-1.5-2.5-1.9-4h3.8c-.4 1.5-1.1 2.8-1.9 4zm2.3-6H9.7a14.7 14.7 0 010-4h4.6a14.7 14.7 0 010 4zm.3 5.6c.6-1.1 1.1-2.3 1.4-3.6h3a8 8 0 01-4.4 3.6zm1.7-5.6a16.5 16.5 0 000-4h3.4a8.2 8.2 0 010 4z',
  rocks: 'M4 17c-1-5 2-10 8-11 5 0 8 3 8 8s-3 7-8 7c-4 0-7-1-8-4z',
  bell: 'M12 22a2 2 0 002-2h-4a2 2 0 002 2zm6-6V11c0-3.1-1.6-5.6-4.5-6.3V4a1.5 1.5 0 00-3 0v.7C7.6 5.4 6 7.9 6 11v5l-2 2v1h16v-1z',
  settings: 'M19.4 13a7.5 7.5 0 000-2l2.1-1.6-2-3.5-2.5 1a7.4 7.4 0 00-1.7-1l-.4-2.7h-4l-.4 2.7a7.4 7.4 0 00-1.7 1l-2.5-1-2 3.5L4.6 11a7.5 7.5 0 000 2l-2.1 1.6 2 3.5 2.5-1a7.4 7.4 0 001.7 1l.4 2.7h4l.4-2.7a7.4 7.4 0 001.7-1l2.5 1 2-3.5zM12 15.5a3.5 3.5 0 110-7 3.5 3.5 0 010 7z',
  login: 'M10 17l5-5-5-5v3H3v4h7zm3-14v2h6v14h-6v2h8V3z',
  signup: 'M15 12a4 4 0 10-4-4 4 4 0 004 4zm-9-2V7H4v3H1v2h3v3h2v-3h3v-2zm9 4c-2.7 0-8 1.3-8 4v2h16v-2c0-2.7-5.3-4-8-4z',
  logout: 'M16 17v-3H9v-4h7V7l5 5zM14 2a2 2 0 012 2v2h-2V4H5v16h9v-2h2v2a2 2 0 01-2 2H5a2 2 0 01-2-2V4a2 2 0 012-2z',
  refresh: 'M17.7 6.3A8 8 0 1020 12h-2a6 6 0 11-1.8-4.2L13 11h7V4z',
};

const NAV_ICON = { notifications: 'bell' };

function navLink(key, href, label, extra, shortLabel) {
  // The short label is only shown on the phone tab bar and hidden from readers.
  return h('a', { href, class: 'nav-link', 'data-nav': key, 'aria-current': currentNav === key ? 'page' : null },
    icon(ICONS[NAV_ICON[key] || key] || ICONS.rocks),
    h('span', { class: shortLabel ? 'nav-label nav-label-long' : 'nav-label', text: label }),
    shortLabel ? h('span', { class: 'nav-label nav-label-short', 'aria-hidden': 'true', text: shortLabel }) : null,
    extra || null);
}

function renderNav() {
  const me = session.me;
  const items = [];
  // The nav is rebuilt on every session change (e.g. the unread badge): keep keyboard focus.
  const focused = nav.contains(document.activeElement) ? document.activeElement.dataset.nav : null;
  if (me || session.unreachable) {
    const badge = session.unread > 0
      ? h('span', { class: 'badge', text: session.unread > 99 ? '99+' : String(session.unread), 'aria-label': `${session.unread} unread` })
      : null;
    items.push(
      navLink('home', '#/home', 'Home'),
      navLink('public', '#/public', 'Public'),
      navLink('rocks', '#/rocks', 'Rocks'),
      navLink('notifications', '#/notifications', 'Notifications', badge, 'Alerts'),
      me
        ? h('a', { href: profileHref(me.username), class: 'nav-link nav-me', 'data-nav': 'profile', 'aria-current': currentNav === 'profile-me' ? 'page' : null },
          avatar(me, 'xs'), h('span', { class: 'nav-label', text: 'Profile' }))
        : reconnectButton(),
      navLink('settings', '#/settings', 'Settings'),
    );
    const out = h('button', { type: 'button', class: 'nav-link nav-logout', 'data-nav': 'logout' }, icon(ICONS.logout), h('span', { class: 'nav-label', text: 'Log out' }));
    out.addEventListener('click', async () => {
      await logout();
      location.hash = '#/login';
    });
    items.push(out);
  } else {
    items.push(
      navLink('public', '#/public', 'Public'),
      navLink('rocks', '#/rocks', 'Rocks'),
      navLink('login', '#/login', 'Log in'),
      navLink('signup', '#/signup', 'Sign up'),
    );
  }
  mount(nav, h('div', { class: 'nav-items' }, items));
  if (focused) {
    const again = nav.querySelector(`[data-nav="${focused}"]`);
    if (again) again.focus();
  }
  renderAside();
}

/** Logged in, but the account could not be loaded: say so, and offer to try now. */
function reconnectButton() {
  const btn = h('button', { type: 'button', class: 'nav-link nav-reconnect', 'data-nav': 'reconnect', title: 'Your account could not be loaded. Try again now.' },
    icon(ICONS.refresh), h('span', { class: 'nav-label', text: 'Reconnect' }));
  btn.addEventListener('click', () => { btn.disabled = true; loadMe(); });
  return h('span', { role: 'status', class: 'nav-status' }, btn);
}

function renderAside() {
  const me = session.me;
  if (!me || !me.rock) {
    mount(aside, h('section', { class: 'aside-card aside-about' },
      h('h2', { text: 'Nobody shows a face here' }),
      h('p', { text: 'Take one selfie, and we find the rock that looks most like you. The photo is used once, in memory, and never stored. From then on, your rock is you.' }),
      isLoggedIn() ? null : h('a', { class: 'btn btn-primary', href: '#/signup', text: 'Find my rock' })));
    return;
  }
  const rock = me.rock;
  mount(aside, h('section', { class: 'aside-card' },
    h('p', { class: 'eyebrow', text: 'Your Rockelganger' }),
    h('a', { href: `#/rocks/${encodeURIComponent(rock.id)}`, class: 'aside-rock' },
      h('img', { src: rock.image_url || rock.face_url, alt: rockAlt(rock), class: 'aside-rock-img' }),
      h('span', { class: 'aside-rock-name', text: rock.name || 'Unnamed rock' })),
    h('p', { class: 'muted' }, `${displayName(me)} · @${me.username}`)));
}

function setNavCurrent(key) {
  currentNav = key;
  for (const a of nav.querySelectorAll('[data-nav]')) {
    const isMe = a.classList.contains('nav-me');
    const on = isMe ? key === 'profile-me' : a.dataset.nav === key;
    if (on) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
}

/** The current hash, its path and the route it matches (if any). */
function currentRoute() {
  const hash = location.hash || '#/';
  const path = hash.slice(1).split('?')[0];
  return { hash, path, route: routes.find((r) => r.re.test(path)) };
}

async function render() {
  const { hash, path, route } = currentRoute();
  if (!hash.startsWith('#/')) return; // in-page anchors such as the skip link
  const seq = ++renderSeq;
  for (const fn of cleanups) { try { fn(); } catch { /* ignore */ } }
  cleanups = [];

  const ctx = {
    root: main,
    params: new URLSearchParams(hash.split('?')[1] || ''),
    onCleanup: (fn) => cleanups.push(fn),
    isCurrent: () => seq === renderSeq,
    redirect: (to) => { location.replace(to); },
    title: (t) => { document.title = t ? `${t} · RockStar` : 'RockStar'; },
  };

  let navKey = route && route.nav;
  if (navKey === 'profile') {
    const m = path.match(/^\/@([^/]+)/);
    let name = null;
    try { name = m && decodeURIComponent(m[1]); } catch { /* a malformed escape is not my profile */ }
    navKey = session.me && name === session.me.username ? 'profile-me' : null;
  }
  setNavCurrent(navKey);
  document.body.dataset.route = (route && route.nav) || 'other';

  if (!route) {
    ctx.title('Not found');
    mount(main, h('section', { class: 'card empty-state' },
      h('h1', { text: 'Nothing under this rock' }),
      h('p', { text: 'That page does not exist.' }),
      h('a', { href: '#/', class: 'btn btn-primary', text: 'Go home' })));
    return;
  }
  if (route.auth && !isLoggedIn()) {
    ctx.redirect(`#/login?next=${encodeURIComponent(hash)}`);
    return;
  }
  mount(main, h('div', { class: 'loading-page', role: 'status' }, h('div', { class: 'spinner', 'aria-hidden': 'true' }), h('span', { class: 'visually-hidden', text: 'Loading' })));
  try {
    await route.view(ctx, path.match(route.re));
  } catch (err) {
    if (!ctx.isCurrent()) return;
    console.error(err);
    mount(main, h('section', { class: 'card empty-state' },
      h('h1', { text: 'That did not work' }),
      h('p', { text: err && err.message ? err.message : 'Something went wrong.' }),
      h('a', { href: '#/', class: 'btn', text: 'Go home' })));
  }
  if (ctx.isCurrent() && document.activeElement === document.body && lastHash !== null) {
    main.focus({ preventScroll: true });
  }
  lastHash = hash;
}
let lastHash = null;

document.getElementById('skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

session.onChange(renderNav);
onAuthChange((token) => {
  if (!token && session.me) { session.me = null; session.emit(); }
  // A token that expired or was revoked: leave pages that need one for the login page.
  if (!token) {
    const { hash, route } = currentRoute();
    if (route && route.auth && !hash.startsWith('#/login')) {
      location.replace(`#/login?next=${encodeURIComponent(hash)}`);
    }
  }
});

// Scroll positions by history entry, so that Back returns the reader to where they were.
history.scrollRestoration = 'manual';
const scrolls = new Map();
let entry = null;

/** Tags the current history entry with an id and its depth within RockStar (0 for the
 * first page, one more for each page opened from another); returns its saved scroll
 * position when it is revisited. */
function enterEntry() {
  const state = history.state;
  if (state && state.entry) {
    entry = state.entry;
    session.depth = state.depth || 0;
    return scrolls.has(entry) ? scrolls.get(entry) : null;
  }
  session.depth = entry === null ? 0 : session.depth + 1;
  entry = `${Date.now().toString(36)}.${Math.random().toString(36).slice(2)}`;
  history.replaceState({ ...(state || {}), entry, depth: session.depth }, '');
  return null;
}
window.addEventListener('scroll', () => { if (entry) scrolls.set(entry, window.scrollY); }, { passive: true });

/** Scrolls back to `y` as the page fills (a feed loads more as it is scrolled), until the
 * reader scrolls themselves, the page changes, or 4 s pass. */
async function restoreScroll(y) {
  const seq = renderSeq;
  const until = Date.now() + 4000;
  let moved = false;
  const stop = () => { moved = true; };
  const events = ['wheel', 'touchstart', 'keydown', 'mousedown'];
  for (const ev of events) window.addEventListener(ev, stop, { passive: true });
  try {
    while (!moved && seq === renderSeq && Date.now() < until) {
      window.scrollTo(0, y);
      if (Math.abs(window.scrollY - y) < 2) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const ev of events) window.removeEventListener(ev, stop);
  }
}

window.addEventListener('hashchange', async () => {
  const saved = enterEntry();
  window.scrollTo(0, 0);
  await render();
  if (saved) restoreScroll(saved);
});

async function start() {
  enterEntry();
  renderNav();
  if (isLoggedIn()) await loadMe();
  render();
  setInterval(() => { if (!document.hidden) refreshUnread(); }, 30000);
}
start();
