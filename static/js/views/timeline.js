// Home and public timelines, with the composer on top of home.
import { h, mount } from '../dom.js';
import { session } from '../session.js';
import { composeBox, infiniteList, statusCard } from '../components.js';

export async function timelineView(ctx, which) {
  const isHome = which === 'home';
  ctx.title(isHome ? 'Home' : 'Public');

  const feed = infiniteList(ctx, {
    path: `/timelines/${which}`,
    render: (status) => statusCard(status),
    empty: isHome
      ? 'Your home timeline is quiet. Post something, or follow people from the public timeline.'
      : 'No posts yet. Be the first to say something.',
  });
  feed.list.classList.add('feed');
  feed.list.setAttribute('aria-label', isHome ? 'Home timeline' : 'Public timeline');

  const composer = session.me
    ? composeBox({ label: 'New post', onPosted: (status) => feed.prepend(status) })
    : null;

  mount(ctx.root, h('section', { class: 'timeline' },
    h('header', { class: 'page-head' },
      h('h1', { text: isHome ? 'Home' : 'Public' }),
      h('p', { class: 'muted', text: isHome ? 'You and the people you follow.' : 'Everyone on RockStar, newest first.' }),
      h('nav', { class: 'tabs', 'aria-label': 'Timelines' },
        session.me ? h('a', { href: '#/home', class: 'tab', 'aria-current': isHome ? 'page' : null, text: 'Home' }) : null,
        h('a', { href: '#/public', class: 'tab', 'aria-current': isHome ? null : 'page', text: 'Public' }))),
    composer ? h('div', { class: 'card compose-card' }, composer) : null,
    feed.element));
}
