// Settings: display name, bio, log out, delete the account (with confirmation).
import { api, isLoggedIn } from '../api.js';
import { h, mount, toast, charCount } from '../dom.js';
import { session, loadMe, logout, endSession } from '../session.js';
import { describeError } from '../errors.js';
import { avatar } from '../components.js';

const NOTE_MAX = 500;
const NAME_MAX = 50;

async function logOutToLogin() {
  await logout();
  location.hash = '#/login';
}

export async function settingsView(ctx) {
  ctx.title('Settings');
  const me = session.me;
  if (!me && !isLoggedIn()) { ctx.redirect('#/login'); return; }
  if (!me) {
    // Logged in, but the account could not be loaded (server busy or unreachable): this is
    // where a phone finds Log out, so offer it here rather than a log-in form.
    const retry = h('button', { type: 'button', class: 'btn btn-primary', text: 'Try again' });
    const out = h('button', { type: 'button', class: 'btn btn-outline', text: 'Log out' });
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      await loadMe();
      if (!ctx.isCurrent()) return;
      // Loaded: the settings; the session ended meanwhile: the log-in form.
      if (session.me || !isLoggedIn()) settingsView(ctx); else retry.disabled = false;
    });
    out.addEventListener('click', logOutToLogin);
    mount(ctx.root, h('section', { class: 'card empty-state', role: 'alert' },
      h('h1', { text: 'Your account could not be loaded' }),
      h('p', { text: 'RockStar is busy or out of reach. Try again in a moment.' }),
      h('div', { class: 'button-row' }, retry, out)));
    return;
  }

  const name = h('input', { id: 'settings-name', name: 'display_name', type: 'text', maxlength: String(NAME_MAX * 2), autocomplete: 'nickname', value: me.display_name || '' });
  const note = h('textarea', { id: 'settings-note', name: 'note', rows: '4', maxlength: String(NOTE_MAX * 2), 'aria-describedby': 'settings-note-count' });
  note.value = me.note || '';
  const noteCount = h('span', { id: 'settings-note-count', class: 'char-count' });
  const updateCount = () => {
    const left = NOTE_MAX - charCount(note.value);
    noteCount.textContent = `${left} characters left`;
    noteCount.classList.toggle('over', left < 0);
  };
  note.addEventListener('input', updateCount);
  updateCount();
  const save = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Save profile' });
  const saveMsg = h('div', { 'aria-live': 'polite' });

  const profileForm = h('form', { class: 'card settings-card', novalidate: true, 'aria-labelledby': 'profile-h' },
    h('h2', { id: 'profile-h', text: 'Profile' }),
    h('div', { class: 'settings-who' }, avatar(me, 'lg'),
      h('p', { class: 'muted' }, 'Your avatar is your rock',
        me.rock ? [': ', h('a', { href: `#/rocks/${encodeURIComponent(me.rock.id)}`, text: me.rock.name || 'your rock' })] : null,
        '. It cannot be changed, just like a face.')),
    h('div', { class: 'field' }, h('label', { for: 'settings-name', text: 'Display name' }), name),
    h('div', { class: 'field' }, h('label', { for: 'settings-note', text: 'Bio' }), note, noteCount),
    saveMsg,
    save);

  profileForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    saveMsg.replaceChildren();
    save.disabled = true;
    try {
      const { data } = await api.patch('/accounts/me', { display_name: name.value.trim(), note: note.value });
      session.me = { ...session.me, ...(data || {}) };
      session.emit();
      saveMsg.replaceChildren(h('p', { class: 'ok', text: 'Saved.' }));
      toast('Profile saved');
    } catch (err) {
      saveMsg.replaceChildren(h('p', { class: 'field-error', role: 'alert', text: describeError(err) }));
    } finally {
      save.disabled = false;
    }
  });

  // Deleting needs the username typed out, inside a modal dialog.
  const confirmInput = h('input', { id: 'delete-confirm', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
  const confirmBtn = h('button', { type: 'submit', class: 'btn btn-danger', text: 'Delete forever', disabled: true });
  const cancelBtn = h('button', { type: 'button', class: 'btn btn-outline', text: 'Keep my account' });
  const dialogErr = h('div', { 'aria-live': 'assertive' });
  const dialogForm = h('form', { method: 'dialog', class: 'dialog-body' },
    h('h2', { id: 'delete-h', text: 'Delete your account?' }),
    h('p', { text: 'Your posts, follows, favourites and your place on your rock will be removed. This cannot be undone.' }),
    h('div', { class: 'field' },
      h('label', { for: 'delete-confirm' }, 'Type your username, ', h('strong', { text: me.username }), ', to confirm'),
      confirmInput),
    dialogErr,
    h('div', { class: 'button-row' }, cancelBtn, confirmBtn));
  const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': 'delete-h' }, dialogForm);
  confirmInput.addEventListener('input', () => { confirmBtn.disabled = confirmInput.value.trim() !== me.username; });
  cancelBtn.addEventListener('click', () => dialog.close());
  dialogForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (confirmInput.value.trim() !== me.username) return;
    confirmBtn.disabled = true;
    try {
      await api.del('/accounts/me');
      dialog.close();
      // Every session of the account ended with it. Leave for sign-up first, so dropping
      // the token does not bounce through the login page.
      location.hash = '#/signup';
      endSession();
      toast('Your account is deleted. Goodbye, and thanks for rocking.');
    } catch (err) {
      dialogErr.replaceChildren(h('p', { class: 'field-error', role: 'alert', text: describeError(err) }));
      confirmBtn.disabled = false;
    }
  });
  const deleteBtn = h('button', { type: 'button', class: 'btn btn-danger-outline', text: 'Delete my account…' });
  deleteBtn.addEventListener('click', () => {
    confirmInput.value = '';
    confirmBtn.disabled = true;
    dialogErr.replaceChildren();
    dialog.showModal();
    confirmInput.focus();
  });
  ctx.onCleanup(() => { if (dialog.open) dialog.close(); dialog.remove(); });

  const logoutBtn = h('button', { type: 'button', class: 'btn btn-outline', text: 'Log out' });
  logoutBtn.addEventListener('click', logOutToLogin);

  mount(ctx.root, h('section', { class: 'settings' },
    h('header', { class: 'page-head' }, h('h1', { text: 'Settings' })),
    profileForm,
    h('section', { class: 'card settings-card', 'aria-labelledby': 'session-h' },
      h('h2', { id: 'session-h', text: 'Session' }),
      h('p', { class: 'muted', text: 'You stay logged in in this tab only. Closing the tab logs you out.' }),
      logoutBtn),
    h('section', { class: 'card settings-card danger-zone', 'aria-labelledby': 'danger-h' },
      h('h2', { id: 'danger-h', text: 'Delete account' }),
      h('p', { class: 'muted', text: 'We never stored your photo, so there is nothing of your face to delete. This removes everything else.' }),
      deleteBtn),
    dialog));
}
