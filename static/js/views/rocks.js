// The rock gallery and one rock's page: members who share it and the names the
// community gives it.
import { api } from '../api.js';
import { h, mount, plural, toast } from '../dom.js';
import { session } from '../session.js';
import { accountRow, infiniteList, loginHref, rockAlt } from '../components.js';
import { describeError } from '../errors.js';

// The rock list and detail may name these photo_url / members; accounts say image_url.
function photoOf(rock) { return rock.image_url || rock.photo_url; }
function membersOf(rock) { return typeof rock.members_count === 'number' ? rock.members_count : rock.members; }

function rockTile(rock) {
  const count = membersOf(rock);
  const members = typeof count === 'number' ? plural(count, 'member', 'members') : null;
  return h('li', { class: 'rock-tile' },
    h('a', { href: `#/rocks/${encodeURIComponent(rock.id)}`, class: 'rock-tile-link' },
      h('img', { src: rock.face_url || photoOf(rock), alt: `Rock: ${rock.name || 'unnamed'}`, loading: 'lazy', decoding: 'async', width: 200, height: 200 }),
      h('span', { class: 'rock-tile-name', text: rock.name || 'Unnamed rock' }),
      rock.community_name && rock.community_name !== rock.name
        ? h('span', { class: 'rock-tile-meta', text: `“${rock.community_name}”` }) : null,
      members ? h('span', { class: 'rock-tile-meta', text: members }) : null));
}

export async function rocksView(ctx) {
  ctx.title('Rock gallery');
  const grid = h('ul', { class: 'rock-grid', 'aria-label': 'Rocks' });
  const feed = infiniteList(ctx, {
    path: '/rocks',
    list: grid,
    limit: 36,
    render: rockTile,
    empty: 'The gallery is empty.',
    endText: 'That is every rock we have.',
  });
  mount(ctx.root, h('section', { class: 'rocks' },
    h('header', { class: 'page-head' },
      h('h1', { text: 'The rock gallery' }),
      h('p', { class: 'muted', text: 'Every face-like stone a person can be matched to. Open one to see who shares it and what the community calls it.' })),
    feed.element));
}

export async function rockView(ctx, id) {
  ctx.title('Rock');
  let rock;
  try {
    ({ data: rock } = await api.get(`/rocks/${encodeURIComponent(id)}`));
  } catch (err) {
    if (!ctx.isCurrent()) return;
    mount(ctx.root, h('section', { class: 'card empty-state' },
      h('h1', { text: 'Rock not found' }),
      h('p', { text: describeError(err) }),
      h('a', { href: '#/rocks', class: 'btn', text: 'Back to the gallery' })));
    return;
  }
  if (!ctx.isCurrent()) return;
  const name = rock.name || 'Unnamed rock';
  ctx.title(name);
  const isMine = session.me && session.me.rock && String(session.me.rock.id) === String(rock.id);

  // What the community calls it: the top-voted name, repainted after each vote.
  const knownAs = h('p', { class: 'rock-known-as' });
  const paintKnownAs = (top) => {
    knownAs.textContent = top && top !== name ? `Known as “${top}”` : '';
    knownAs.hidden = !knownAs.textContent;
  };
  const namesList = h('ol', { class: 'names-list' });
  let shownNames = [];
  function paintNames(names) {
    shownNames = names || [];
    const sorted = [...(names || [])].sort((a, b) => (b.votes || 0) - (a.votes || 0));
    paintKnownAs(sorted.length ? sorted[0].name : null);
    if (sorted.length === 0) {
      mount(namesList, h('li', { class: 'muted', text: 'No names suggested yet.' }));
      return;
    }
    const top = Math.max(1, ...sorted.map((n) => n.votes || 0));
    mount(namesList, sorted.map((n) => {
      const meter = h('meter', { min: '0', max: String(top), value: String(n.votes || 0), 'aria-hidden': 'true' });
      return h('li', { class: 'name-item' },
        h('span', { class: 'name-text', text: n.name }),
        meter,
        h('span', { class: 'name-votes', text: plural(n.votes || 0, 'vote', 'votes') + (n.voted ? ', yours among them' : '') }));
    }));
  }
  paintNames(rock.names);
  if (session.me) {
    // The rock's names carry no marks of the viewer's vote; its names list does.
    api.get(`/rocks/${encodeURIComponent(rock.id)}/names`)
      .then(({ data }) => { if (ctx.isCurrent() && data && Array.isArray(data.names)) paintNames(data.names); })
      .catch(() => { /* the counts shown stay right; only the "yours" marks are missing */ });
  }

  let suggest = null;
  if (session.me) {
    const input = h('input', { id: 'rock-name-input', name: 'name', type: 'text', required: true, maxlength: '40', autocomplete: 'off' });
    const btn = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Suggest' });
    const err = h('div', { 'aria-live': 'assertive' });
    suggest = h('form', { class: 'suggest-form', novalidate: true },
      h('label', { for: 'rock-name-input', text: 'Suggest a name, or vote for one by typing it (one vote per rock; a new one moves it)' }),
      h('div', { class: 'input-with-button' }, input, btn),
      err);
    suggest.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.replaceChildren();
      const value = input.value.trim();
      if (!value) { input.focus(); return; }
      const again = shownNames.find((n) => n.voted && n.name.toLowerCase() === value.toLowerCase());
      if (again) { toast(`You already voted for “${again.name}”.`); input.value = ''; return; }
      const previous = shownNames.find((n) => n.voted);
      btn.disabled = true;
      try {
        const { data } = await api.post(`/rocks/${encodeURIComponent(rock.id)}/names`, { name: value });
        if (data && Array.isArray(data.names)) paintNames(data.names);
        else {
          const { data: fresh } = await api.get(`/rocks/${encodeURIComponent(rock.id)}`);
          paintNames(fresh.names);
        }
        input.value = '';
        toast(previous ? `Your vote moved from “${previous.name}” to “${value}”.` : 'Thanks! Your name is in.');
      } catch (e2) {
        err.replaceChildren(h('p', { class: 'field-error', role: 'alert', text: describeError(e2) }));
      } finally {
        btn.disabled = false;
      }
    });
  }

  const members = h('ul', { class: 'account-list', 'aria-label': 'Members who share this rock' });
  const feed = infiniteList(ctx, {
    path: `/rocks/${encodeURIComponent(rock.id)}/members`,
    list: members,
    limit: 40,
    render: accountRow,
    empty: 'Nobody has this rock yet. It is waiting for its person.',
    endText: '',
  });

  mount(ctx.root, h('section', { class: 'rock-page' },
    h('a', { href: '#/rocks', class: 'back-link', text: '← Rock gallery' }),
    h('div', { class: 'card rock-hero' },
      h('figure', { class: 'rock-hero-figure' },
        h('img', { src: photoOf(rock) || rock.face_url, alt: rockAlt({ name }), class: 'rock-hero-img', width: 512, height: 512 }),
        rock.face_url && photoOf(rock) ? h('img', { src: rock.face_url, alt: `Close-up of ${name}'s face`, class: 'rock-hero-face', width: 120, height: 120 }) : null),
      h('div', { class: 'rock-hero-text' },
        h('p', { class: 'eyebrow', text: isMine ? 'Your Rockelganger' : 'Rock' }),
        h('h1', { text: name }),
        knownAs,
        h('p', { class: 'muted', text: typeof membersOf(rock) === 'number' ? `Shared by ${plural(membersOf(rock), 'member', 'members')}` : '' }))),
    h('div', { class: 'rock-columns' },
      h('section', { class: 'card', 'aria-labelledby': 'names-h' },
        h('h2', { id: 'names-h', text: 'Community names' }),
        namesList,
        suggest || h('p', { class: 'muted' }, h('a', { href: loginHref(), text: 'Log in' }), ' to suggest a name.')),
      h('section', { class: 'card', 'aria-labelledby': 'members-h' },
        h('h2', { id: 'members-h', text: 'Who shares this rock' }),
        feed.element))));
}
