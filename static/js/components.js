// Shared pieces: avatars, status cards, the composer, follow buttons, infinite lists.
import { api, Pager, newIdempotencyKey } from './api.js';
import { h, s, timeAgo, charCount, toast } from './dom.js';
import { describeError } from './errors.js';
import { session } from './session.js';

export const MAX_CHARS = 500;
const MAX_MEDIA = 4;

function encodeName(username) {
  return encodeURIComponent(username);
}

export function profileHref(username) {
  return `#/@${encodeName(username)}`;
}

export function rockAlt(rock) {
  return rock && rock.name ? `Rock avatar: ${rock.name}` : 'Rock avatar';
}

/** A pebble-shaped rock avatar. size: 'sm' | 'md' | 'lg' | 'xl'. */
export function avatar(account, size = 'md') {
  const rock = account && account.rock;
  const src = rock && (rock.face_url || rock.image_url || rock.photo_url);
  if (src) {
    return h('img', { class: `avatar avatar-${size}`, src, alt: rockAlt(rock), loading: 'lazy', decoding: 'async', width: 96, height: 96 });
  }
  return h('span', { class: `avatar avatar-${size} avatar-empty`, role: 'img', 'aria-label': rockAlt(rock) }, pebbleIcon());
}

export function pebbleIcon() {
  return s('svg', { viewBox: '0 0 48 48', 'aria-hidden': 'true', focusable: 'false', class: 'pebble-icon' },
    s('path', { d: 'M9 27c-2-9 5-19 16-19s17 7 16 16-7 17-17 17S11 36 9 27z', fill: 'currentColor', opacity: '.85' }),
    s('circle', { cx: '19', cy: '23', r: '2.4', fill: '#1f2124' }),
    s('circle', { cx: '30', cy: '22', r: '2.4', fill: '#1f2124' }),
    s('path', { d: 'M19 32c3 2 7 2 10 0', stroke: '#1f2124', 'stroke-width': '2', fill: 'none', 'stroke-linecap': 'round' }));
}

export function displayName(account) {
  return (account && (account.display_name || account.username)) || 'unknown';
}

function icon(name) {
  const paths = {
    reply: 'M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z',
    star: 'M12 17.3l6.2 3.7-1.6-7 5.4-4.7-7.1-.6L12 2 9.1 8.7 2 9.3l5.4 4.7-1.6 7z',
    trash: 'M6 19a2 2 0 002 2h8a2 2 0 002-2V7H6v12zM19 4h-3.5l-1-1h-5l-1 1H5v2h14V4z',
    image: 'M21 19V5a2 2 0 00-2-2H5a2 2 0 00-2 2v14a2 2 0 002 2h14a2 2 0 002-2zM8.5 13.5l2.5 3 3.5-4.5 4.5 6H5l3.5-4.5z',
  };
  return s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', focusable: 'false', class: 'icon' },
    s('path', { d: paths[name], fill: 'currentColor' }));
}

function mediaGrid(media) {
  if (!media || media.length === 0) return null;
  return h('div', { class: `media-grid media-${Math.min(media.length, 4)}` },
    media.map((m) => h('a', { href: m.url, target: '_blank', rel: 'noopener', class: 'media-item' },
      h('img', { src: m.preview_url || m.url, alt: m.description || 'Attached image (faces removed)', loading: 'lazy' }))));
}

/** The login page, coming back here afterwards. */
export function loginHref() {
  const here = location.hash || '#/home';
  return here.startsWith('#/login') ? here : `#/login?next=${encodeURIComponent(here)}`;
}

/**
 * One post. opts: {focus: bool (thread's main post), onDeleted(), onReplied(status)}.
 * The card's `addReply()` counts a reply posted from elsewhere on the page.
 */
export function statusCard(status, opts = {}) {
  const account = status.account || {};
  const me = session.me;
  const isMine = me && account.id === me.id;

  const favCount = h('span', { class: 'count', text: status.favourites_count || 0 });
  const replyCount = h('span', { class: 'count', text: status.replies_count || 0 });
  const favBtn = h('button', {
    type: 'button', class: 'action fav', 'aria-pressed': String(Boolean(status.favourited)),
    'aria-label': status.favourited ? 'Remove favourite' : 'Favourite',
  }, icon('star'), favCount);
  const replyBtn = h('button', { type: 'button', class: 'action reply', 'aria-expanded': 'false', 'aria-label': 'Reply' }, icon('reply'), replyCount);
  const replySlot = h('div', { class: 'reply-slot' });

  const article = h('article', {
    class: ['status', opts.focus && 'status-focus'], 'data-id': status.id,
    'aria-label': `Post by ${displayName(account)}`,
  },
  h('a', { href: profileHref(account.username || ''), class: 'status-avatar', tabindex: '-1', 'aria-hidden': 'true' }, avatar(account, 'md')),
  h('div', { class: 'status-main' },
    h('header', { class: 'status-head' },
      h('a', { href: profileHref(account.username || ''), class: 'status-name' },
        h('span', { class: 'name', text: displayName(account) }),
        h('span', { class: 'handle', text: `@${account.username || ''}` })),
      h('a', { href: `#/statuses/${encodeURIComponent(status.id)}`, class: 'status-time', 'aria-label': 'Open thread' }, timeAgo(status.created_at))),
    status.in_reply_to_id && !opts.inThread
      ? h('a', { class: 'status-context', href: `#/statuses/${encodeURIComponent(status.in_reply_to_id)}`, text: 'Reply in a thread' })
      : null,
    h('p', { class: 'status-text', text: status.text || '' }),
    mediaGrid(status.media_attachments || status.media),
    h('footer', { class: 'status-actions' },
      replyBtn, favBtn,
      isMine ? h('button', { type: 'button', class: 'action delete', 'aria-label': 'Delete post' }, icon('trash')) : null),
    replySlot));

  favBtn.addEventListener('click', async () => {
    if (!session.me) { location.hash = loginHref(); return; }
    const was = favBtn.getAttribute('aria-pressed') === 'true';
    favBtn.disabled = true;
    try {
      const { data } = await api.post(`/statuses/${encodeURIComponent(status.id)}/${was ? 'unfavourite' : 'favourite'}`);
      const now = data && typeof data.favourited === 'boolean' ? data.favourited : !was;
      const count = data && typeof data.favourites_count === 'number'
        ? data.favourites_count
        : Math.max(0, Number(favCount.textContent) + (now ? 1 : -1));
      favBtn.setAttribute('aria-pressed', String(now));
      favBtn.setAttribute('aria-label', now ? 'Remove favourite' : 'Favourite');
      favCount.textContent = String(count);
    } catch (err) {
      toast(describeError(err), 'error');
    } finally {
      favBtn.disabled = false;
    }
  });

  replyBtn.addEventListener('click', () => {
    if (!session.me) { location.hash = loginHref(); return; }
    if (replySlot.firstChild) {
      replySlot.replaceChildren();
      replyBtn.setAttribute('aria-expanded', 'false');
      return;
    }
    replyBtn.setAttribute('aria-expanded', 'true');
    const mention = account.username && (!me || account.username !== me.username) ? `@${account.username} ` : '';
    const composer = composeBox({
      replyTo: status,
      initialText: mention,
      label: `Reply to ${displayName(account)}`,
      submitLabel: 'Reply',
      onPosted: (reply) => {
        replyCount.textContent = String(Number(replyCount.textContent) + 1);
        replySlot.replaceChildren();
        replyBtn.setAttribute('aria-expanded', 'false');
        toast('Reply posted');
        if (opts.onReplied) opts.onReplied(reply);
        replyBtn.focus();
      },
    });
    replySlot.replaceChildren(composer);
    const ta = composer.querySelector('textarea');
    ta.focus();
    ta.setSelectionRange(ta.value.length, ta.value.length);
  });

  // A reply posted elsewhere on the page (the thread's own composer) counts here too.
  article.addReply = () => { replyCount.textContent = String(Number(replyCount.textContent) + 1); };

  const delBtn = article.querySelector('.action.delete');
  if (delBtn) {
    delBtn.addEventListener('click', async () => {
      if (delBtn.disabled || !window.confirm('Delete this post? This cannot be undone.')) return;
      delBtn.disabled = true; // one DELETE, however often it is confirmed
      try {
        await api.del(`/statuses/${encodeURIComponent(status.id)}`);
        toast('Post deleted');
        article.classList.add('status-gone');
        setTimeout(() => article.remove(), 250);
        if (opts.onDeleted) opts.onDeleted();
      } catch (err) {
        delBtn.disabled = false;
        toast(describeError(err), 'error');
      }
    });
  }
  return article;
}

let composerSeq = 0;

/**
 * The post composer. opts: {replyTo, initialText, label, submitLabel, onPosted(status)}
 */
export function composeBox(opts = {}) {
  const id = `compose-${++composerSeq}`;
  const media = []; // {id, url, preview_url}
  let uploading = 0;
  // A post in flight: Ctrl+Enter and the button must not send it again.
  let sending = false;

  const textarea = h('textarea', {
    id, name: 'text', rows: opts.replyTo ? 3 : 4, maxlength: String(MAX_CHARS * 4),
    placeholder: opts.replyTo ? 'Write your reply…' : "What's shaking on your rock?",
    'aria-describedby': `${id}-count`,
  });
  textarea.value = opts.initialText || '';
  const counter = h('span', { id: `${id}-count`, class: 'char-count', 'aria-live': 'polite' });
  const fileInput = h('input', { type: 'file', id: `${id}-file`, accept: 'image/jpeg,image/png,image/webp', class: 'visually-hidden' });
  const attachLabel = h('label', { for: `${id}-file`, class: 'btn btn-ghost btn-icon attach', title: 'Add an image' },
    icon('image'), h('span', { class: 'visually-hidden', text: 'Add an image' }));
  const previews = h('div', { class: 'media-previews', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', text: opts.submitLabel || 'Post' });
  const errorSlot = h('div', { class: 'compose-error' });

  const form = h('form', { class: ['composer', opts.replyTo && 'composer-reply'], novalidate: true },
    h('label', { for: id, class: opts.replyTo ? 'visually-hidden' : 'composer-label', text: opts.label || 'New post' }),
    textarea,
    previews,
    errorSlot,
    h('div', { class: 'composer-bar' }, fileInput, attachLabel, counter, submit));

  function update() {
    const n = charCount(textarea.value);
    const left = MAX_CHARS - n;
    counter.textContent = String(left);
    counter.setAttribute('aria-label', `${left} characters left`);
    counter.classList.toggle('warn', left <= 50 && left >= 0);
    counter.classList.toggle('over', left < 0);
    // The API needs text, images or not.
    const empty = textarea.value.trim() === '';
    submit.disabled = empty || left < 0 || uploading > 0 || sending;
    submit.title = empty && media.length ? 'Add some text to post your image' : '';
  }

  // One key per draft: a retry after a lost response cannot post twice; an edit is a new draft.
  let idempotencyKey = null;
  textarea.addEventListener('input', () => { idempotencyKey = null; update(); });
  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      // requestSubmit is missing before Safari 16; clicking the button runs the same checks.
      if (form.requestSubmit) form.requestSubmit(); else form.querySelector('button[type=submit]')?.click();
    }
  });

  fileInput.addEventListener('change', async () => {
    const file = fileInput.files && fileInput.files[0];
    fileInput.value = '';
    if (!file) return;
    if (media.length + uploading >= MAX_MEDIA) { toast(`Up to ${MAX_MEDIA} images per post.`, 'error'); return; }
    const placeholder = h('figure', { class: 'media-preview uploading' },
      h('div', { class: 'spinner', 'aria-hidden': 'true' }),
      h('figcaption', { text: 'Removing faces…' }));
    previews.append(placeholder);
    uploading += 1; update();
    try {
      const fd = new FormData();
      fd.append('file', file, file.name || 'image.jpg');
      const { data } = await api.upload('/media', fd);
      media.push(data);
      idempotencyKey = null;
      const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-small', text: 'Remove' });
      const fig = h('figure', { class: 'media-preview' },
        h('img', { src: data.preview_url || data.url, alt: 'Your image as it will be posted, faces removed' }),
        h('figcaption', { text: 'Faces removed. This is what others will see.' }),
        remove);
      remove.addEventListener('click', () => {
        const i = media.indexOf(data);
        if (i >= 0) media.splice(i, 1);
        idempotencyKey = null;
        fig.remove(); update(); textarea.focus();
      });
      placeholder.replaceWith(fig);
    } catch (err) {
      placeholder.remove();
      toast(describeError(err), 'error');
    } finally {
      uploading -= 1; update();
    }
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    update();
    if (submit.disabled) return;
    sending = true;
    textarea.readOnly = true;
    update();
    errorSlot.replaceChildren();
    const body = { text: textarea.value };
    if (opts.replyTo) body.in_reply_to_id = opts.replyTo.id;
    if (media.length) body.media_ids = media.map((m) => m.id);
    idempotencyKey = idempotencyKey || newIdempotencyKey();
    try {
      const { data } = await api.post('/statuses', body, { headers: { 'Idempotency-Key': idempotencyKey } });
      idempotencyKey = null;
      textarea.value = '';
      media.length = 0;
      previews.replaceChildren();
      if (opts.onPosted) opts.onPosted(data);
    } catch (err) {
      errorSlot.replaceChildren(h('p', { class: 'field-error', role: 'alert', text: describeError(err) }));
    } finally {
      sending = false;
      textarea.readOnly = false;
      update();
    }
  });

  update();
  return form;
}

/**
 * A button that flips one relationship with `account` (`key`: following, muting,
 * blocking) by posting `verbOn` or `verbOff`, trusting the relationship the server returns.
 * `paint(btn, on)` draws it; `onChange(on, data)` runs after each change.
 */
export function relationshipToggle(account, { key, verbOn, verbOff, className, paint, onChange }) {
  let on = Boolean(account.relationship && account.relationship[key]);
  const btn = h('button', { type: 'button', class: className });
  btn.addEventListener('click', async () => {
    if (!session.me) { location.hash = loginHref(); return; }
    btn.disabled = true;
    try {
      const { data } = await api.post(`/accounts/${encodeName(account.username)}/${on ? verbOff : verbOn}`);
      const rel = data && (data.relationship || data);
      on = rel && typeof rel[key] === 'boolean' ? rel[key] : !on;
      paint(btn, on);
      if (onChange) onChange(on, data);
    } catch (err) {
      toast(describeError(err), 'error');
    } finally {
      btn.disabled = false;
    }
  });
  paint(btn, on);
  return btn;
}

/** Follow / Unfollow toggle for an account with an optional relationship. */
export function followButton(account, onChange) {
  return relationshipToggle(account, {
    key: 'following',
    verbOn: 'follow',
    verbOff: 'unfollow',
    className: 'btn follow-btn',
    paint(btn, following) {
      btn.textContent = following ? 'Following' : 'Follow';
      btn.classList.toggle('btn-primary', !following);
      btn.classList.toggle('btn-outline', following);
      btn.setAttribute('aria-pressed', String(following));
      btn.setAttribute('aria-label', `${following ? 'Unfollow' : 'Follow'} @${account.username}`);
    },
    onChange,
  });
}

/** A compact account row for member lists. */
export function accountRow(account) {
  const me = session.me;
  return h('li', { class: 'account-row' },
    h('a', { href: profileHref(account.username), class: 'account-link' },
      avatar(account, 'md'),
      h('span', { class: 'account-names' },
        h('span', { class: 'name', text: displayName(account) }),
        h('span', { class: 'handle', text: `@${account.username}` }),
        account.note ? h('span', { class: 'account-note', text: account.note }) : null)),
    me && me.username !== account.username ? followButton(account) : null);
}

/**
 * Infinite scroll on API pagination: an IntersectionObserver on a sentinel, plus a
 * real button for keyboard users and for browsers that skip the observer.
 */
export function infiniteList(ctx, { path, query, limit = 20, render, list, empty = 'Nothing here yet.', endText = "You've reached bedrock.", onPage = null }) {
  const pager = new Pager(path, { limit, query });
  const container = list || h('div', { class: 'feed', 'aria-busy': 'false' });
  const more = h('button', { type: 'button', class: 'btn btn-outline load-more', text: 'Load more' });
  const status = h('p', { class: 'feed-status', role: 'status' });
  const footer = h('div', { class: 'feed-footer' }, status, more);
  const seen = new Set();
  let count = 0;

  // After a 429 or 503, not before the server's Retry-After.
  let notBefore = 0;

  async function load() {
    if (pager.done || pager.loading || Date.now() < notBefore) return;
    container.setAttribute('aria-busy', 'true');
    status.textContent = 'Loading…';
    // A keyboard user who pressed the button keeps focus on it while the page loads.
    const focused = document.activeElement === more;
    if (focused) more.disabled = true; else more.hidden = true;
    try {
      const items = await pager.next();
      more.textContent = 'Load more';
      for (const item of items) {
        if (item && item.id !== undefined && seen.has(item.id)) continue;
        if (item && item.id !== undefined) seen.add(item.id);
        container.append(render(item));
        count += 1;
      }
      if (onPage && ctx.isCurrent()) onPage(items);
      if (pager.done) {
        status.textContent = count === 0 ? empty : endText;
        footer.classList.toggle('feed-empty', count === 0);
        more.hidden = true;
        if (focused) { status.setAttribute('tabindex', '-1'); status.focus(); }
        observer.disconnect();
      } else {
        status.textContent = '';
        more.hidden = false;
        // The observer only fires on changes: if the footer is still in view, keep going.
        requestAnimationFrame(() => {
          if (footer.isConnected && footer.getBoundingClientRect().top < window.innerHeight + 600) load();
        });
      }
    } catch (err) {
      status.textContent = describeError(err);
      more.hidden = false;
      more.textContent = 'Try again';
      if (err.retryAfter) {
        notBefore = Date.now() + err.retryAfter * 1000;
        setTimeout(() => { more.disabled = false; }, err.retryAfter * 1000);
      }
    } finally {
      more.disabled = Date.now() < notBefore;
      container.setAttribute('aria-busy', 'false');
    }
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) load();
  }, { rootMargin: '600px 0px' });
  observer.observe(footer);
  ctx.onCleanup(() => observer.disconnect());
  more.addEventListener('click', load);
  load();

  return {
    element: h('div', { class: 'infinite' }, container, footer),
    list: container,
    prepend(item) {
      if (item && item.id !== undefined) {
        if (seen.has(item.id)) return;
        seen.add(item.id);
      }
      container.prepend(render(item));
      count += 1;
      if (footer.classList.contains('feed-empty')) {
        footer.classList.remove('feed-empty');
        status.textContent = endText;
      }
    },
    load,
  };
}
