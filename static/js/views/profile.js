// A member's profile: rock avatar, names, bio, counts, posts, followers, following.
import { api } from '../api.js';
import { h, mount, toast } from '../dom.js';
import { session } from '../session.js';
import { accountRow, avatar, displayName, followButton, infiniteList, profileHref, relationshipToggle, statusCard, composeBox } from '../components.js';
import { describeError } from '../errors.js';

/** A profile counter; `number` is the node showing the figure (kept to update it). */
function count(number, label, href, current) {
  const inner = [h('strong', {}, number), h('span', { text: label })];
  return href
    ? h('a', { href, class: 'count-link', 'aria-current': current ? 'page' : null }, inner)
    : h('span', { class: 'count-link' }, inner);
}

/** Mute / Block style toggle, with a toast saying what happened, then `after(on)`. */
function toggleButton(account, verbOn, verbOff, key, labelOn, labelOff, after) {
  const past = { mute: 'Muted', unmute: 'Unmuted', block: 'Blocked', unblock: 'Unblocked' };
  return relationshipToggle(account, {
    key,
    verbOn,
    verbOff,
    className: 'btn btn-ghost btn-small',
    paint(btn, on) {
      btn.textContent = on ? labelOff : labelOn;
      btn.setAttribute('aria-pressed', String(on));
    },
    onChange(on) {
      toast(`${past[on ? verbOn : verbOff]} @${account.username}`);
      if (after) after(on);
    },
  });
}

export async function profileView(ctx, username, tab) {
  ctx.title(`@${username}`);
  let account;
  try {
    ({ data: account } = await api.get(`/accounts/${encodeURIComponent(username)}`));
  } catch (err) {
    if (!ctx.isCurrent()) return;
    mount(ctx.root, h('section', { class: 'card empty-state' },
      h('h1', { text: 'No such rock-holder' }),
      h('p', { text: err.status === 404 ? `Nobody goes by @${username} here.` : describeError(err) }),
      h('a', { href: '#/public', class: 'btn', text: 'Browse the public timeline' })));
    return;
  }
  if (!ctx.isCurrent()) return;
  ctx.title(`${displayName(account)} (@${account.username})`);
  const me = session.me;
  const isMe = me && me.username === account.username;
  const base = profileHref(account.username);
  const rock = account.rock;

  const figure = (n) => h('span', { text: String(n ?? 0) });
  const followers = figure(account.followers_count);
  const posts = figure(account.statuses_count);
  // The server's counts after a change (another member may have followed meanwhile).
  async function refreshCounts() {
    try {
      const { data } = await api.get(`/accounts/${encodeURIComponent(account.username)}`);
      if (!ctx.isCurrent()) return;
      followers.textContent = String(data.followers_count ?? 0);
      posts.textContent = String(data.statuses_count ?? 0);
    } catch { /* the counts stay as they were */ }
  }
  const actions = [];
  if (isMe) {
    actions.push(h('a', { href: '#/settings', class: 'btn btn-outline', text: 'Edit profile' }));
  } else if (me) {
    actions.push(followButton(account, refreshCounts));
    actions.push(toggleButton(account, 'mute', 'unmute', 'muting', 'Mute', 'Unmute'));
    // Blocking also ends following both ways and hides posts: draw the profile afresh.
    actions.push(toggleButton(account, 'block', 'unblock', 'blocking', 'Block', 'Unblock',
      () => { if (ctx.isCurrent()) profileView(ctx, username, tab); }));
  }
  if (account.relationship && account.relationship.followed_by && !isMe) {
    actions.push(h('span', { class: 'chip', text: 'Follows you' }));
  }

  const header = h('header', { class: 'profile-head card' },
    h('div', { class: 'profile-banner', 'aria-hidden': 'true' }),
    h('div', { class: 'profile-top' },
      avatar(account, 'xl'),
      h('div', { class: 'profile-actions' }, actions)),
    h('h1', { class: 'profile-name', text: displayName(account) }),
    h('p', { class: 'handle', text: `@${account.username}` }),
    account.note ? h('p', { class: 'profile-note', text: account.note }) : null,
    rock ? h('p', { class: 'profile-rock' }, 'Rocks as ',
      h('a', { href: `#/rocks/${encodeURIComponent(rock.id)}`, text: rock.name || 'an unnamed rock' })) : null,
    h('div', { class: 'profile-counts' },
      count(posts, 'Posts', base, tab === 'posts'),
      count(followers, 'Followers', `${base}/followers`, tab === 'followers'),
      count(figure(account.following_count), 'Following', `${base}/following`, tab === 'following')));

  let body;
  if (tab === 'followers' || tab === 'following') {
    const list = h('ul', { class: 'account-list card', 'aria-label': tab === 'followers' ? 'Followers' : 'Following' });
    const feed = infiniteList(ctx, {
      path: `/accounts/${encodeURIComponent(account.username)}/${tab}`,
      list,
      render: (a) => accountRow(a),
      limit: 40,
      empty: tab === 'followers' ? 'No followers yet.' : 'Not following anyone yet.',
      endText: '',
    });
    body = feed.element;
  } else {
    const feed = infiniteList(ctx, {
      path: `/accounts/${encodeURIComponent(account.username)}/statuses`,
      render: (st) => statusCard(st, isMe ? { onDeleted: refreshCounts } : {}),
      empty: isMe ? 'You have not posted yet. Say hello!' : 'No posts yet.',
    });
    feed.list.setAttribute('aria-label', `Posts by ${displayName(account)}`);
    body = h('div', {},
      isMe ? h('div', { class: 'card compose-card' }, composeBox({ onPosted: (st) => { feed.prepend(st); refreshCounts(); } })) : null,
      feed.element);
  }

  mount(ctx.root, h('section', { class: 'profile' },
    header,
    h('nav', { class: 'tabs', 'aria-label': 'Profile sections' },
      h('a', { href: base, class: 'tab', 'aria-current': tab === 'posts' ? 'page' : null, text: 'Posts' }),
      h('a', { href: `${base}/followers`, class: 'tab', 'aria-current': tab === 'followers' ? 'page' : null, text: 'Followers' }),
      h('a', { href: `${base}/following`, class: 'tab', 'aria-current': tab === 'following' ? 'page' : null, text: 'Following' })),
    body));
}
