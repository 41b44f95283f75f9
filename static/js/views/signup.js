// Sign-up: one selfie (camera or file), matched to a rock, then the reveal.
import { api, isLoggedIn } from '../api.js';
import { h, s, mount } from '../dom.js';
import { describeSignupError, errorBox } from '../errors.js';
import { session, startSession } from '../session.js';
import { rockAlt } from '../components.js';

const MAX_SIDE = 1280;
// A chosen photo is re-drawn at most this big: a small face in it stays findable.
const UPLOAD_MAX_SIDE = 2048;
const STAGES = [
  'Finding your face…',
  'Reading its shape: eyes, nose, mouth…',
  'Searching the rock gallery…',
  'Comparing you with a thousand rocks…',
  'Dusting off your rock…',
];

export function formatSimilarity(sim) {
  if (typeof sim !== 'number' || Number.isNaN(sim)) return null;
  const pct = sim <= 1 ? sim * 100 : sim;
  return Math.max(0, Math.min(100, Math.round(pct)));
}

function ovalGuide() {
  return s('svg', { class: 'face-guide', viewBox: '0 0 400 300', preserveAspectRatio: 'xMidYMid slice', 'aria-hidden': 'true', focusable: 'false' },
    s('defs', {},
      s('mask', { id: 'oval-mask' },
        s('rect', { x: '0', y: '0', width: '400', height: '300', fill: 'white' }),
        s('ellipse', { cx: '200', cy: '145', rx: '78', ry: '104', fill: 'black' }))),
    s('rect', { x: '0', y: '0', width: '400', height: '300', fill: 'rgba(28,26,24,.58)', mask: 'url(#oval-mask)' }),
    s('ellipse', { class: 'face-guide-ring', cx: '200', cy: '145', rx: '78', ry: '104', fill: 'none', stroke: '#f3ede2', 'stroke-width': '3', 'stroke-dasharray': '10 8' }));
}

export async function signupView(ctx) {
  ctx.title('Find your rock');

  if (isLoggedIn() && session.me) {
    mount(ctx.root, h('section', { class: 'card empty-state' },
      h('h1', { text: 'You already have a rock' }),
      h('p', {}, 'You are logged in as ', h('strong', { text: `@${session.me.username}` }), '. Log out first to create another account.'),
      h('div', { class: 'button-row' },
        h('a', { href: '#/home', class: 'btn btn-primary', text: 'Go to my timeline' }),
        session.me.rock ? h('a', { href: `#/rocks/${encodeURIComponent(session.me.rock.id)}`, class: 'btn btn-outline', text: 'Visit my rock' }) : null)));
    return;
  }

  // --- camera -------------------------------------------------------------
  let stream = null;
  let mode = 'camera'; // 'camera' | 'upload'
  let uploadFile = null;
  let uploadUrl = null;
  // The camera still shown while the server works (an object URL of the selfie, freed after).
  let snapshotUrl = null;
  let lastBlob = null;
  let waitTimer = null;

  const video = h('video', { class: 'camera-video', autoplay: true, playsinline: true, muted: true, 'aria-label': 'Live camera preview' });
  video.muted = true;
  const snapshot = h('img', { class: 'camera-snapshot', alt: 'The photo you took', hidden: true });
  const cameraMsg = h('div', { class: 'camera-message', hidden: true });
  const scanner = h('div', { class: 'scanner', 'aria-hidden': 'true', hidden: true });
  const frame = h('div', { class: 'camera-frame' }, video, snapshot, ovalGuide(), scanner, cameraMsg);

  const startCamBtn = h('button', { type: 'button', class: 'btn btn-outline', text: 'Use my camera', hidden: true });
  const fileInput = h('input', { type: 'file', id: 'signup-photo', name: 'photo', accept: 'image/jpeg,image/png,image/webp', class: 'visually-hidden' });
  const uploadLabel = h('label', { for: 'signup-photo', class: 'btn btn-ghost upload-label' }, 'Upload a photo instead');
  const cameraHint = h('p', { class: 'hint', id: 'camera-hint', text: 'Centre your face in the oval, with light on your face.' });

  function showCameraMessage(title, text) {
    mount(cameraMsg, pebbleCam(), h('p', { class: 'camera-message-title', text: title }), text ? h('p', { text }) : null);
    cameraMsg.hidden = false;
  }

  function stopCamera() {
    if (stream) for (const t of stream.getTracks()) t.stop();
    stream = null;
    video.srcObject = null;
  }

  async function startCamera() {
    mode = 'camera';
    clearUpload();
    frame.classList.remove('is-upload');
    startCamBtn.hidden = true;
    snapshot.hidden = true;
    uploadLabel.textContent = 'Upload a photo instead';
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      useUploadMode('No camera here', 'This browser cannot use a camera. Upload a photo of your face instead.');
      return;
    }
    showCameraMessage('Waking up the camera…', 'Your browser may ask for permission.');
    try {
      const fresh = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: 'user', width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
      // The user may have left, switched to upload, or started the camera twice while
      // the permission prompt was open: never keep a second or unwanted stream.
      if (!ctx.isCurrent() || step !== 'camera' || mode !== 'camera' || stream) {
        for (const t of fresh.getTracks()) t.stop();
        return;
      }
      stream = fresh;
      video.srcObject = stream;
      await video.play().catch(() => {});
      cameraMsg.hidden = true;
      frame.classList.add('is-live');
      cameraHint.textContent = 'Centre your face in the oval, with light on your face. Then press “Rock it!”.';
    } catch (err) {
      const denied = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
      useUploadMode(denied ? 'Camera access is off' : 'No camera found',
        denied
          ? 'That is fine: upload a photo of your face instead, or allow the camera in your browser settings and try again.'
          : 'Upload a photo of your face instead.');
    }
  }

  function useUploadMode(title, text) {
    stopCamera();
    mode = 'upload';
    frame.classList.remove('is-live');
    frame.classList.add('is-upload');
    if (!uploadFile) showCameraMessage(title, text);
    startCamBtn.hidden = false;
    cameraHint.textContent = 'Choose a clear, well-lit photo with just your face in it.';
  }

  function clearUpload() {
    if (uploadUrl) URL.revokeObjectURL(uploadUrl);
    uploadUrl = null;
    uploadFile = null;
    clearSnapshot();
  }

  function forgetPhoto() {
    clearUpload();
    lastBlob = null;
    fileInput.value = '';
    snapshot.removeAttribute('src');
    snapshot.hidden = true;
  }

  function clearSnapshot() {
    if (snapshotUrl) URL.revokeObjectURL(snapshotUrl);
    snapshotUrl = null;
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    useUploadMode();
    clearUpload();
    uploadFile = file;
    uploadUrl = URL.createObjectURL(file);
    snapshot.src = uploadUrl;
    snapshot.alt = 'The photo you chose';
    snapshot.hidden = false;
    snapshot.classList.remove('mirrored');
    cameraMsg.hidden = true;
    uploadLabel.textContent = 'Choose another photo';
    clearErrors();
  });
  startCamBtn.addEventListener('click', startCamera);

  function captureFrame() {
    return new Promise((resolve, reject) => {
      const w = video.videoWidth;
      const hgt = video.videoHeight;
      if (!w || !hgt) { reject(new Error('camera_not_ready')); return; }
      const scale = Math.min(1, MAX_SIDE / Math.max(w, hgt));
      const canvas = document.createElement('canvas');
      canvas.width = Math.round(w * scale);
      canvas.height = Math.round(hgt * scale);
      canvas.getContext('2d').drawImage(video, 0, 0, canvas.width, canvas.height);
      canvas.toBlob((blob) => {
        canvas.width = 0; // frees the frame's pixels at once
        if (blob) resolve(blob); else reject(new Error('capture_failed'));
      }, 'image/jpeg', 0.92);
    });
  }

  /**
   * The chosen photo drawn upright onto a canvas and re-encoded, so that its metadata (GPS
   * position, camera, time, file name) never leaves the device and a 12 MP photo costs a
   * fraction of the data. A file the browser cannot draw is sent as it is, so that the
   * server can say what is wrong with it.
   */
  async function reencodeUpload(file) {
    if (typeof createImageBitmap !== 'function') return file;
    let bitmap;
    try {
      bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
    } catch {
      return file;
    }
    const canvas = document.createElement('canvas');
    try {
      const scale = Math.min(1, UPLOAD_MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      const g = canvas.getContext('2d');
      g.fillStyle = '#8a8580'; // under a transparent PNG: a neutral wall, not black
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.imageSmoothingQuality = 'high';
      g.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
      return blob || file;
    } finally {
      bitmap.close();
      canvas.width = 0; // frees the pixels at once
    }
  }

  // --- form ---------------------------------------------------------------
  const username = h('input', {
    id: 'signup-username', name: 'username', type: 'text', required: true, autocomplete: 'username',
    autocapitalize: 'none', spellcheck: 'false', minlength: '3', maxlength: '30', pattern: '[A-Za-z0-9_]{3,30}', 'aria-describedby': 'signup-username-hint',
  });
  const password = h('input', {
    id: 'signup-password', name: 'password', type: 'password', required: true, autocomplete: 'new-password',
    minlength: '8', 'aria-describedby': 'signup-password-hint',
  });
  const showPw = h('button', { type: 'button', class: 'btn btn-ghost btn-small pw-toggle', 'aria-pressed': 'false', 'aria-controls': 'signup-password', text: 'Show' });
  showPw.addEventListener('click', () => {
    const show = password.type === 'password';
    password.type = show ? 'text' : 'password';
    showPw.textContent = show ? 'Hide' : 'Show';
    showPw.setAttribute('aria-pressed', String(show));
  });
  const consent = h('input', { id: 'signup-consent', name: 'consent', type: 'checkbox', required: true, 'aria-describedby': 'consent-note' });
  const errorSlot = h('div', { class: 'signup-errors', 'aria-live': 'assertive' });
  const rockIt = h('button', { type: 'submit', class: 'btn btn-primary btn-huge rock-it' },
    h('span', { class: 'rock-it-label', text: 'Rock it!' }));
  const progress = h('div', { class: 'matching', role: 'status', hidden: true },
    h('div', { class: 'matching-rocks', 'aria-hidden': 'true' }, h('span'), h('span'), h('span')),
    h('p', { class: 'matching-stage', text: STAGES[0] }),
    h('progress', { class: 'matching-bar', max: '100', 'aria-label': 'Matching progress' }));

  const detailsErrors = h('div', { class: 'signup-errors', 'aria-live': 'assertive' });
  const nextBtn = h('button', { type: 'submit', id: 'signup-next', class: 'btn btn-primary btn-block', text: 'Next: take my selfie' });
  const backBtn = h('button', { type: 'button', class: 'link-button back-step', text: 'Change' });
  const detailsStep = h('div', { class: 'signup-step', 'data-step': 'details' },
    h('fieldset', { class: 'step step-account' },
      h('legend', { text: 'Your account' }),
      h('div', { class: 'field' },
        h('label', { for: 'signup-username', text: 'Username' }),
        username,
        h('p', { class: 'hint', id: 'signup-username-hint', text: '3 to 30 lowercase letters, numbers and underscores. This is how people find you.' })),
      h('div', { class: 'field' },
        h('label', { for: 'signup-password', text: 'Password' }),
        h('div', { class: 'input-with-button' }, password, showPw),
        h('p', { class: 'hint', id: 'signup-password-hint', text: 'At least 8 characters.' }))),
    h('fieldset', { class: 'step step-consent' },
      h('legend', { text: 'Your photo, your say' }),
      h('div', { class: 'consent-note', id: 'consent-note' },
        h('p', { class: 'consent-lead', text: 'Here is exactly what happens to your photo:' }),
        h('ul', {},
          h('li', { text: 'We use it once, in memory, to find the rock that looks most like you.' }),
          h('li', { text: 'It is never stored: not on disk, not in logs, not in backups. Neither is any measurement of your face.' }),
          h('li', { text: 'Only your rock is kept. From then on your rock is your face on RockStar.' }))),
      h('div', { class: 'check' },
        consent,
        h('label', { for: 'signup-consent', text: 'I agree: use my photo once, in memory, to find my rock; never store it.' }))),
    detailsErrors,
    h('div', { class: 'signup-submit' },
      nextBtn,
      h('p', { class: 'hint center' }, 'Already rocking? ', h('a', { href: '#/login', text: 'Log in' }))));

  const cameraHeading = h('legend', { tabindex: '-1', text: 'Your selfie' });
  const cameraStep = h('div', { class: 'signup-step', 'data-step': 'camera', hidden: true },
    h('fieldset', { class: 'step step-camera' },
      cameraHeading,
      h('p', { class: 'step-who' }, 'Signing up as ', h('strong', { class: 'who-name' }), ' · ', backBtn),
      frame,
      cameraHint,
      h('div', { class: 'camera-actions' }, startCamBtn, fileInput, uploadLabel),
      errorSlot,
      h('div', { class: 'signup-submit' }, rockIt)));
  frame.append(progress);

  const form = h('form', { class: 'signup-form', novalidate: true }, detailsStep, cameraStep);
  let step = 'details';
  const stepItems = { details: h('li', { text: 'Details' }), camera: h('li', { text: 'Selfie' }), rock: h('li', { text: 'Your rock' }) };
  const stepList = h('ol', { class: 'signup-progress', 'aria-label': 'Sign-up steps' }, Object.values(stepItems));
  const section = h('section', { class: 'signup' },
    h('header', { class: 'page-hero' },
      h('p', { class: 'eyebrow', text: 'Join RockStar' }),
      h('h1', { text: 'Find your Rockelganger' }),
      h('p', { class: 'lead', text: 'One selfie, one rock. Somewhere in our gallery of face-like stones is the one that looks just like you. It becomes your face here; your real one stays with you.' })),
    stepList,
    form);

  function showStep(which) {
    step = which;
    detailsStep.hidden = which !== 'details';
    cameraStep.hidden = which !== 'camera';
    form.dataset.step = which;
    section.classList.toggle('at-camera', which === 'camera');
    for (const [key, li] of Object.entries(stepItems)) {
      if (key === which) li.setAttribute('aria-current', 'step'); else li.removeAttribute('aria-current');
    }
    if (which === 'camera') {
      cameraStep.querySelector('.who-name').textContent = `@${username.value.trim().toLowerCase()}`;
      if (!stream && mode === 'camera') startCamera();
      cameraHeading.focus({ preventScroll: true });
      cameraStep.scrollIntoView({ block: 'start' });
    } else if (mode === 'camera') {
      stopCamera();
    }
  }
  backBtn.addEventListener('click', () => { clearErrors(); showStep('details'); username.focus(); });

  function clearErrors() {
    errorSlot.replaceChildren();
    detailsErrors.replaceChildren();
    for (const el of [username, password, consent, fileInput]) el.removeAttribute('aria-invalid');
  }

  function setBusy(busy) {
    rockIt.disabled = busy;
    for (const el of [username, password, consent, fileInput, startCamBtn, backBtn]) el.disabled = busy;
    uploadLabel.classList.toggle('disabled', busy);
    progress.hidden = !busy;
    scanner.hidden = !busy;
    form.classList.toggle('is-busy', busy);
  }

  let stageTimer = null;
  function runStages() {
    let i = 0;
    const stage = progress.querySelector('.matching-stage');
    stage.textContent = STAGES[0];
    stageTimer = setInterval(() => {
      i = Math.min(i + 1, STAGES.length - 1);
      stage.textContent = STAGES[i];
    }, 1400);
  }
  function stopStages() { clearInterval(stageTimer); stageTimer = null; }

  function showError(err, retryFn) {
    const info = describeSignupError(err);
    const extra = [];
    let retryBtn = null;
    if (info.wait) {
      const count = h('strong', { class: 'countdown', text: String(info.wait) });
      const line = h('p', { class: 'wait-line' }, 'Please wait ', count, ' s before trying again.');
      extra.push(line);
      let left = info.wait;
      rockIt.disabled = true;
      clearInterval(waitTimer);
      waitTimer = setInterval(() => {
        left -= 1;
        count.textContent = String(Math.max(0, left));
        if (left <= 0) {
          clearInterval(waitTimer);
          rockIt.disabled = false;
          line.textContent = 'You can try again now.';
          if (retryBtn) retryBtn.disabled = false;
        }
      }, 1000);
      ctx.onCleanup(() => clearInterval(waitTimer));
    }
    if (info.retry && retryFn) {
      retryBtn = h('button', { type: 'button', class: 'btn btn-primary btn-small', text: 'Try again', disabled: Boolean(info.wait) });
      retryBtn.addEventListener('click', retryFn);
      extra.push(retryBtn);
    }
    const box = errorBox(info.title, info.tips, extra);
    box.dataset.code = info.code || '';
    const detailsField = ['username', 'password', 'consent'].includes(info.field);
    if (detailsField) {
      showStep('details');
      detailsErrors.replaceChildren(box);
    } else {
      errorSlot.replaceChildren(box);
    }
    const fieldMap = { username, password, consent, photo: mode === 'upload' ? fileInput : null };
    const field = fieldMap[info.field];
    if (field) field.setAttribute('aria-invalid', 'true');
    if (field && field !== fileInput) {
      field.focus();
    } else {
      box.setAttribute('tabindex', '-1');
      box.focus();
    }
  }

  async function submitPhoto(blob) {
    clearErrors();
    setBusy(true);
    runStages();
    clearSnapshot();
    if (!uploadUrl) snapshotUrl = URL.createObjectURL(blob);
    snapshot.src = uploadUrl || snapshotUrl;
    snapshot.hidden = false;
    const fd = new FormData();
    fd.append('username', username.value.trim().toLowerCase());
    fd.append('password', password.value);
    fd.append('consent', 'true');
    fd.append('photo', blob, 'selfie.jpg');
    try {
      const { data } = await api.upload('/accounts', fd, { auth: false });
      stopStages();
      // The account exists now: keep its session even if the user has moved on.
      startSession(data.token, data.account);
      stopCamera();
      // The selfie is not needed any more: drop every copy the page holds now, not when
      // the member leaves the reveal.
      forgetPhoto();
      if (!ctx.isCurrent()) return;
      reveal(ctx, data.account);
    } catch (err) {
      stopStages();
      if (!ctx.isCurrent()) return;
      setBusy(false);
      if (mode === 'camera') { snapshot.hidden = true; clearSnapshot(); }
      showError(err, () => submitPhoto(blob));
    }
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (form.classList.contains('is-busy')) return;
    clearErrors();
    for (const el of [username, password, consent]) {
      if (!el.checkValidity()) {
        if (step !== 'details') showStep('details');
        el.setAttribute('aria-invalid', 'true');
        el.reportValidity();
        el.focus();
        return;
      }
    }
    if (step === 'details') {
      // Say a name is taken or reserved now, not after the selfie (sign-up checks again).
      const name = username.value.trim();
      nextBtn.disabled = true;
      try {
        const { data } = await api.get(`/usernames/${encodeURIComponent(name)}`, undefined, { auth: false });
        if (!ctx.isCurrent()) return;
        if (data && data.available === false) {
          showError({ code: data.reason, message: data.message });
          return;
        }
      } catch {
        if (!ctx.isCurrent()) return; // unknown: the sign-up itself decides
      } finally {
        nextBtn.disabled = false;
      }
      showStep('camera');
      return;
    }
    let blob;
    if (mode === 'upload') {
      if (!uploadFile) {
        showError({ code: 'no_photo', message: 'Choose a photo of your face first, or turn on your camera.' });
        return;
      }
      setBusy(true);
      blob = await reencodeUpload(uploadFile);
      if (!ctx.isCurrent() || !uploadFile) { setBusy(false); return; }
    } else {
      // Busy before the capture, so a second click cannot start a second sign-up.
      setBusy(true);
      try {
        blob = await captureFrame();
      } catch {
        setBusy(false);
        showError({ code: 'camera_not_ready', message: 'The camera is not ready yet. Wait a moment, or upload a photo instead.' });
        return;
      }
      snapshot.classList.add('mirrored');
      snapshot.alt = 'The photo you took';
    }
    lastBlob = blob;
    frame.classList.add('flash');
    setTimeout(() => frame.classList.remove('flash'), 400);
    submitPhoto(lastBlob);
  });

  ctx.onCleanup(() => { stopCamera(); stopStages(); clearUpload(); clearInterval(waitTimer); });

  mount(ctx.root, section);
  showStep('details');
}

function pebbleCam() {
  return s('svg', { viewBox: '0 0 48 48', class: 'camera-message-icon', 'aria-hidden': 'true', focusable: 'false' },
    s('path', { d: 'M6 28c-2-10 6-19 18-19s19 7 18 16-8 15-19 15S8 37 6 28z', fill: 'currentColor', opacity: '.3' }),
    s('rect', { x: '14', y: '19', width: '16', height: '12', rx: '2', fill: 'currentColor' }),
    s('path', { d: 'M30 23l6-3v10l-6-3z', fill: 'currentColor' }));
}

/** The ceremony: curtain, falling pebbles, the rock rising, the likeness counting up. */
export function reveal(ctx, account) {
  const rock = account.rock || {};
  // The likeness (how this match compares with the matches faces usually get), not the
  // raw cosine, which is small for every face-to-rock pair.
  const pct = formatSimilarity(rock.likeness);
  const name = rock.name || 'A nameless rock';
  ctx.title(`Meet ${name}`);
  const pctNum = h('span', { class: 'similarity-num', text: '0' });
  const meter = h('meter', { class: 'similarity-meter', min: '0', max: '100', value: '0', 'aria-label': 'Likeness: share of faces whose Rockelganger is less alike' });
  const heading = h('h1', { class: 'reveal-name', tabindex: '-1', text: name });

  const pebbles = h('div', { class: 'pebbles', 'aria-hidden': 'true' });
  for (let i = 0; i < 14; i += 1) pebbles.append(h('span', { class: `pebble p${i + 1}` }));

  const section = h('section', { class: 'reveal', 'aria-labelledby': 'reveal-title' },
    h('div', { class: 'reveal-stage' },
      pebbles,
      h('div', { class: 'reveal-glow', 'aria-hidden': 'true' }),
      h('figure', { class: 'reveal-rock' },
        h('img', { src: rock.image_url || rock.face_url, alt: rockAlt(rock), class: 'reveal-img', width: 512, height: 512 }),
        rock.face_url && rock.image_url
          ? h('img', { src: rock.face_url, alt: `Close-up of ${name}'s face`, class: 'reveal-face', width: 96, height: 96 })
          : null),
      h('div', { class: 'curtain curtain-left', 'aria-hidden': 'true' }),
      h('div', { class: 'curtain curtain-right', 'aria-hidden': 'true' })),
    h('div', { class: 'reveal-text' },
      h('p', { class: 'eyebrow', id: 'reveal-title', text: 'Meet your Rockelganger' }),
      heading,
      pct !== null
        ? h('div', { class: 'similarity' },
          h('p', { class: 'similarity-line' },
            h('span', { class: 'similarity-unit', text: 'Closer than ' }), pctNum,
            h('span', { class: 'similarity-unit', text: '% of matches' })),
          meter)
        : null,
      h('p', { class: 'lead' }, 'From now on this rock is your face on RockStar, ',
        h('strong', { text: `@${account.username}` }), '. Your photo is already gone.'),
      h('div', { class: 'button-row' },
        h('a', { href: '#/home', class: 'btn btn-primary', text: 'Start rocking' }),
        rock.id !== undefined ? h('a', { href: `#/rocks/${encodeURIComponent(rock.id)}`, class: 'btn btn-outline', text: 'Visit my rock' }) : null,
        h('a', { href: '#/settings', class: 'btn btn-ghost', text: 'Add a bio' }))));

  mount(ctx.root, section);
  heading.focus({ preventScroll: true });

  if (pct !== null) {
    const reduce = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
    const start = performance.now() + (reduce ? 0 : 1600);
    const dur = reduce ? 1 : 1200;
    const tick = (now) => {
      const t = Math.max(0, Math.min(1, (now - start) / dur));
      const eased = 1 - (1 - t) ** 3;
      const v = Math.round(pct * eased);
      pctNum.textContent = String(v);
      meter.value = v;
      if (t < 1 && ctx.isCurrent()) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }
}
