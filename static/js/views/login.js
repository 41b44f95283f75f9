// Log in with username and password.
import { api } from '../api.js';
import { h, mount } from '../dom.js';
import { describeError } from '../errors.js';
import { startSession, loadMe } from '../session.js';

export async function loginView(ctx) {
  ctx.title('Log in');
  const username = h('input', { id: 'login-username', name: 'username', type: 'text', required: true, autocomplete: 'username', autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', required: true, autocomplete: 'current-password' });
  const errorSlot = h('div', { 'aria-live': 'assertive' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', text: 'Log in' });

  const form = h('form', { class: 'card auth-card', novalidate: true },
    h('img', { src: '/img/logo.svg', alt: '', class: 'auth-logo', width: 72, height: 72 }),
    h('h1', { text: 'Welcome back' }),
    h('p', { class: 'muted', text: 'Your rock missed you.' }),
    h('div', { class: 'field' }, h('label', { for: 'login-username', text: 'Username' }), username),
    h('div', { class: 'field' }, h('label', { for: 'login-password', text: 'Password' }), password),
    errorSlot,
    submit,
    h('p', { class: 'hint center' }, 'New here? ', h('a', { href: '#/signup', text: 'Find your rock' })));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    errorSlot.replaceChildren();
    for (const el of [username, password]) {
      if (!el.checkValidity()) { el.reportValidity(); el.focus(); return; }
    }
    submit.disabled = true;
    try {
      const { data } = await api.post('/sessions', { username: username.value.trim(), password: password.value }, { auth: false });
      startSession(data.token, data.account || null);
      if (!data.account) await loadMe();
      // Logged in either way; only a page still showing the form moves on.
      if (!ctx.isCurrent()) return;
      const next = ctx.params.get('next');
      location.hash = next && next.startsWith('#/') && !next.startsWith('#/login') ? next : '#/home';
    } catch (err) {
      const msg = err.status === 401 || err.code === 'invalid_credentials'
        ? 'That username and password do not match. Check them and try again.'
        : describeError(err);
      errorSlot.replaceChildren(h('p', { class: 'alert', role: 'alert', text: msg }));
      password.select();
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });

  mount(ctx.root, h('section', { class: 'auth' }, form));
  username.focus();
}
