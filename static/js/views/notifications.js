// Notifications: follows, favourites, replies, mentions. Opening the page marks them read.
import { api } from '../api.js';
import { h, mount, timeAgo } from '../dom.js';
import { session } from '../session.js';
import { avatar, displayName, infiniteList, profileHref } from '../components.js';

const VERBS = {
  follow: 'followed you',
  favourite: 'favourited your post',
  reply: 'replied to you',
  mention: 'mentioned you',
};

function notificationItem(n) {
  const account = n.account || {};
  const status = n.status;
  return h('li', { class: ['notification', `n-${n.type}`, !n.read && 'unread'] },
    h('span', { class: 'n-kind', 'aria-hidden': 'true', text: { follow: '＋', favourite: '★', reply: '↩', mention: '@' }[n.type] || '•' }),
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
  const feed = infiniteList(ctx, {
    path: '/notifications',
    list,
    render: notificationItem,
    empty: 'No notifications yet. When someone follows you, favourites or replies to your posts, it shows up here.',
    endText: '',
  });
  mount(ctx.root, h('section', { class: 'notifications' },
    h('header', { class: 'page-head' },
      h('h1', { text: 'Notifications' }),
      h('p', { class: 'muted', text: 'What happened around your rock.' })),
    feed.element));
  // Mark as read once the first page is visible; keep the "new" dots for this visit.
  setTimeout(async () => {
    try {
      await api.post('/notifications/read');
      session.unread = 0;
      session.emit();
    } catch { /* the badge will catch up on the next poll */ }
  }, 800);
}
