// A post with the posts it answers (ancestors) and the replies to it (descendants).
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { session } from '../session.js';
import { composeBox, statusCard, displayName, loginHref } from '../components.js';
import { describeError } from '../errors.js';

export async function threadView(ctx, id) {
  ctx.title('Thread');
  let status;
  let context = { ancestors: [], descendants: [] };
  let contextError = null;
  try {
    const [s, c] = await Promise.all([
      api.get(`/statuses/${encodeURIComponent(id)}`),
      // The post alone is still worth showing; say so when its thread could not load.
      api.get(`/statuses/${encodeURIComponent(id)}/context`).catch((err) => { contextError = err; return { data: null }; }),
    ]);
    status = s.data;
    context = c.data || context;
  } catch (err) {
    if (!ctx.isCurrent()) return;
    mount(ctx.root, h('section', { class: 'card empty-state' },
      h('h1', { text: 'Post not found' }),
      h('p', { text: describeError(err) }),
      h('a', { href: '#/public', class: 'btn', text: 'Back to the public timeline' })));
    return;
  }
  if (!ctx.isCurrent()) return;
  ctx.title(`${displayName(status.account)}: “${(status.text || '').slice(0, 40)}”`);

  const replies = h('div', { class: 'thread-replies', 'aria-label': 'Replies' });
  // Every card here shows replies made from it in the thread, and counts them on the main post.
  const card = (st) => statusCard(st, {
    inThread: true,
    onReplied: (r) => { replies.append(card(r)); main.addReply(); },
  });
  replies.append(...(context.descendants || []).map(card));
  if (contextError) {
    const retry = h('button', { type: 'button', class: 'btn btn-outline', text: 'Try again' });
    retry.addEventListener('click', () => threadView(ctx, id));
    replies.append(h('p', { class: 'field-error', role: 'alert' },
      `The replies could not be loaded. ${describeError(contextError)} `, retry));
  }
  const main = statusCard(status, {
    focus: true,
    inThread: true,
    onReplied: (r) => replies.append(card(r)),
    // Nothing to reply to any more: the composer goes, the replies stay readable.
    onDeleted: () => {
      composer.replaceWith(h('p', { class: 'card muted', role: 'status', text: 'This post was deleted.' }));
    },
  });

  const composer = session.me
    ? h('div', { class: 'card compose-card' }, composeBox({
      replyTo: status,
      label: `Reply to ${displayName(status.account)}`,
      initialText: status.account && session.me.username !== status.account.username ? `@${status.account.username} ` : '',
      submitLabel: 'Reply',
      onPosted: (r) => { replies.append(card(r)); main.addReply(); },
    }))
    : h('p', { class: 'card muted' }, h('a', { href: loginHref(), text: 'Log in' }), ' to reply.');

  mount(ctx.root, h('section', { class: 'thread' },
    h('header', { class: 'page-head' },
      h('a', { href: '#/home', class: 'back-link', text: '← Back' }),
      h('h1', { text: 'Thread' })),
    h('div', { class: 'thread-ancestors' }, (context.ancestors || []).map((a) => statusCard(a, { inThread: true }))),
    main,
    composer,
    replies));
  const back = ctx.root.querySelector('.back-link');
  back.addEventListener('click', (e) => {
    // Back only within RockStar: a thread opened from a link elsewhere goes home.
    if (session.depth > 0) { e.preventDefault(); history.back(); }
  });
  main.scrollIntoView({ block: 'center' });
}
