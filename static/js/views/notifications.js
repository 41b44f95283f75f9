// Notifications: follows, favourites, replies, mentions. Opening the page marks them read.
import { api } from '../api.js';
import { h, s, mount, timeAgo } from '../dom.js';
import { session } from '../session.js';
import { avatar, displayName, infiniteList, profileHref } from '../components.js';

const VERBS = {
  follow: 'followed you',
  favourite: 'favourited your post',
  reply: 'replied to you',
  mention: 'mentioned you',
};

const KIND_ICONS = {
  follow: 'M15 12a4 4 0 10-4-4 4 4 0 004 4zm-9-2V7H4v3H1v2h3v3h2v-3h3v-2zm9 4c-2.7 0-8 1.3-8 4v2h16v-2c0-2.7-5.3-4-8-4z',
  favourite: 'M12 17.3l6.2 3.7-1.6-7 5.4-4.7-7.1-.6L12 2 9.1 8.7 2 9.3l5.4 4.7-1.6 7z',
  reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
  mention: 'M12 2a10 10 0 000 20h5v-2h-5a8 8 0 118-8v1.4c0 .8-.7 1.6-1.5 1.6s-1.5-.8-1.5-1.6V12a5 5 0 10-1.5 3.5A3.5 3.5 0 0018.5 17c1.9 0 3.5-1.6 3.5-3.6V12A10 10 0 0012 2zm0 13a3 3 0 110-6 3 3 0 010 6z',
};

function kindIcon(type) {
  return s('svg', { viewBox: '0 0 24 24', class: 'icon', 'aria-hidden': 'true', focusable: 'false' },
    s('path', { d: KIND_ICONS[type] || KIND_ICONS.mention, fill: 'currentColor' }));
}

function notificationItem(n) {
  const account = n.account || {};
  const status = n.status;
  return h('li', { class: ['notification', `n-${n.type}`, !n.read && 'unread'] },
    h('span', { class: 'n-kind', 'aria-hidden': 'true' }, kindIcon(n.type)),
    h('a', { href: profileHref(account.username || ''), class: 'n-avatar', tabindex: '-1', 'aria-hidden': 'true' }, avatar(account, 'sm')),
    h('div', { class: 'n-body' },
      h('p', { class: 'n-line' },
        h('a', { href: profileHref(account.username || ''), class: 'n-who', text: displayName(account) }),
        ` ${VERBS[n.type] || n.type} `,
        timeAgo(n.created_at),
        !n.read ? h('span', { class: 'visually-hidden', text: ' (new)' }) : null),
      status ? h('a', { href: `#/statuses/${encodeURIComponent(status.id)}`, class: 'n-status', text: status.text || 'View post' }) : null));
}

export async function notificationsView(ctx) {
  ctx.title('Notifications');
  const list = h('ul', { class: 'notification-list card', 'aria-label': 'Notifications' });
  let marked = false;
  const feed = infiniteList(ctx, {
    path: '/notifications',
    list,
    render: notificationItem,
    // Mark read up to the newest one shown, once it is on screen; keep the "new" dots
    // for this visit. Later arrivals stay unread.
    onPage(items) {
      if (marked || items.length === 0) return;
      marked = true;
      const upTo = items[0].id;
      const timer = setTimeout(async () => {
        try {
          const { data } = await api.post('/notifications/read', { up_to_id: upTo });
          session.unread = Number(data && data.unread) || 0;
          session.emit();
        } catch { /* the badge will catch up on the next poll */ }
      }, 800);
      ctx.onCleanup(() => clearTimeout(timer));
    },
    empty: 'No notifications yet. When someone follows you, favourites or replies to your posts, it shows up here.',
    endText: '',
  });
  mount(ctx.root, h('section', { class: 'notifications' },
    h('header', { class: 'page-head' },
      h('h1', { text: 'Notifications' }),
      h('p', { class: 'muted', text: 'What happened around your rock.' })),
    feed.element));
}
