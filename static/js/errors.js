// Turns API error codes into words a person can act on.
import { h } from './dom.js';

const SIGNUP = {
  no_face: {
    title: "We couldn't find a face in that photo",
    tips: [
      'Face a window or a lamp, so the light falls on your face and not behind you.',
      'Fill the oval with your face: eyes, nose and mouth all in view.',
      'Take off sunglasses, a mask or a low cap, and hold the camera steady.',
    ],
    field: 'photo',
  },
  multiple_faces: {
    title: 'We found more than one face',
    tips: [
      'Your rock is yours alone: make sure only you are in the picture.',
      'Posters, photos or a screen behind you can count as a face too.',
    ],
    field: 'photo',
  },
  face_too_small: {
    title: 'Your face is too small in the picture',
    tips: ['Come closer to the camera so your face fills the oval.', 'If you upload a photo, crop it around your face.'],
    field: 'photo',
  },
  unsupported_image: {
    title: "We can't read that file",
    tips: ['Use a JPEG, PNG or WebP photo.'],
    field: 'photo',
  },
  image_too_large: {
    title: 'That photo is too large',
    tips: ['Pick a smaller photo, or take one with the camera instead.'],
    field: 'photo',
  },
  payload_too_large: {
    title: 'That photo is too large to send',
    tips: ['Pick a smaller photo (under 10 MB), or take one with the camera instead.'],
    field: 'photo',
  },
  no_photo: {
    title: 'No photo yet',
    tips: [],
    field: 'photo',
  },
  camera_not_ready: {
    title: 'The camera is not ready',
    tips: [],
    field: 'photo',
  },
  username_taken: {
    title: 'That username is taken',
    tips: ['Someone already rocks that name. Try a variation: add a word or a number.'],
    field: 'username',
  },
  username_reserved: {
    title: 'That username is reserved',
    tips: ['Pick another one: some names belong to the site itself.'],
    field: 'username',
  },
  invalid_username: {
    title: "That username won't work",
    tips: ['Use 3 to 30 lowercase letters, numbers and underscores, with no spaces.'],
    field: 'username',
  },
  invalid_password: {
    title: "That password won't work",
    tips: ['Use a longer password: a few unrelated words make a strong one.'],
    field: 'password',
  },
  password_too_short: {
    title: 'That password is too short',
    tips: ['Use at least 8 characters: a few unrelated words make a strong one.'],
    field: 'password',
  },
  password_too_long: {
    title: 'That password is too long',
    tips: ['Use at most 128 characters.'],
    field: 'password',
  },
  consent_required: {
    title: 'We need your OK first',
    tips: ['Tick the box to confirm we may use your photo once, in memory, to find your rock.'],
    field: 'consent',
  },
  rate_limited: {
    title: 'Slow down a little',
    tips: ['Too many tries in a short time.'],
  },
  overloaded: {
    title: 'Our rock-matchers are busy right now',
    tips: ['Lots of people are looking for their rock. Please try again in a moment.'],
    retry: true,
  },
  network_error: {
    title: "We couldn't reach RockStar",
    tips: ['Check your connection and try again.'],
    retry: true,
  },
};

/** Returns {title, tips, field, retry, wait} for a sign-up error. */
export function describeSignupError(err) {
  const known = SIGNUP[err.code];
  const base = known || { title: 'Something went wrong', tips: [] };
  const out = { ...base, tips: [...base.tips], code: err.code, wait: null };
  if (!known && err.message) out.tips.unshift(err.message);
  // Validation rules live on the server; its sentence is the precise one.
  if (['invalid_username', 'invalid_password', 'image_too_large', 'no_photo', 'camera_not_ready'].includes(err.code) && err.message) {
    out.tips.unshift(err.message);
  }
  if (!known && err.status === 503) {
    out.title = 'Our rock-matchers are not ready';
    out.tips.push('RockStar is starting up or busy. Please try again in a moment.');
  }
  if (err.code === 'rate_limited' || err.code === 'overloaded') out.wait = err.retryAfter ?? (err.code === 'overloaded' ? 5 : 30);
  else if (err.retryAfter) out.wait = err.retryAfter;
  if (err.status >= 500 && !known) out.retry = true;
  return out;
}

/** A short message for toasts outside sign-up. */
export function describeError(err) {
  if (!err) return 'Something went wrong.';
  switch (err.code) {
    case 'rate_limited':
      return err.retryAfter ? `Too many requests. Try again in ${err.retryAfter} s.` : 'Too many requests. Try again shortly.';
    case 'overloaded':
      return 'RockStar is busy right now. Try again in a moment.';
    case 'unauthorized':
    case 'http_401':
      return 'Please log in again.';
    case 'not_found':
    case 'http_404':
      return 'That could not be found. It may have been deleted.';
    default:
      return err.message || 'Something went wrong.';
  }
}

/** Renders an error box (role=alert). Returns the element. */
export function errorBox(title, tips = [], extra = []) {
  return h('div', { class: 'alert', role: 'alert' },
    h('p', { class: 'alert-title', text: title }),
    tips.length ? h('ul', { class: 'alert-tips' }, tips.map((t) => h('li', { text: t }))) : null,
    extra);
}
