// Tiny DOM builder. User text only ever goes through text nodes or
// textContent, never innerHTML, so nothing a member writes can become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'text') {
      el.textContent = String(value);
    } else if (key === 'class') {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'style' || key.toLowerCase() === 'innerhtml') {
      // Inline styles break the CSP and innerHTML is banned; fail loudly in development.
      throw new Error(`h(): attribute "${key}" is not allowed`);
    } else if (key === 'href') {
      el.setAttribute('href', String(value).startsWith('#') ? String(value) : safeUrl(String(value)));
    } else if (key === 'value' || key === 'checked' || key === 'disabled' || key === 'hidden') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h('a', {href: '#/x', text: userText}, ...children) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  appendChildren(el, children);
  return el;
}

/** SVG element builder for icons we draw ourselves. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  appendChildren(el, children);
  return el;
}

/**
 * Only URLs that cannot run script: same-origin paths, http(s) and blob:. Anything
 * else (javascript:, data:text/html, ...) becomes '#'.
 */
export function safeUrl(url) {
  if (typeof url !== 'string' || url === '') return '#';
  try {
    const u = new URL(url, location.href);
    return ['http:', 'https:', 'blob:'].includes(u.protocol) ? url : '#';
  } catch {
    return '#';
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function mount(el, ...children) {
  clear(el);
  appendChildren(el, children);
  return el;
}

/** Short relative time with the full date available on hover and to readers. */
export function timeAgo(iso) {
  const date = new Date(iso);
  const el = h('time', { datetime: date.toISOString(), title: date.toLocaleString() });
  const secs = Math.max(0, (Date.now() - date.getTime()) / 1000);
  let label;
  if (Number.isNaN(secs)) label = '';
  else if (secs < 45) label = 'now';
  else if (secs < 3600) label = `${Math.round(secs / 60)}m`;
  else if (secs < 86400) label = `${Math.round(secs / 3600)}h`;
  else if (secs < 86400 * 7) label = `${Math.round(secs / 86400)}d`;
  else label = date.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: 'numeric' });
  el.textContent = label;
  return el;
}

export function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** Counts user-visible characters (code points), as the server does for the 500 limit. */
export function charCount(text) {
  return [...text].length;
}

/** Polite screen-reader + visual toast. */
export function toast(message, kind = 'info') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status', text: message });
  region.append(item);
  setTimeout(() => item.classList.add('toast-out'), 3800);
  setTimeout(() => item.remove(), 4400);
}
