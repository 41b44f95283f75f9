// Sign-up in a real browser: the camera path with a fake webcam made from a real face
// photo, the upload fallback, and a photo without a face.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL, PASSWORD, PHONE_EXIF_MARK, apiCall, apiSignup, greyJpeg, jpegSize, launch, phoneJpeg, selfieJpeg, selfieY4m,
  shoot, skipReason, uniqueName,
} from '../lib.mjs';
import { readFileSync } from 'node:fs';

const skip = skipReason() || false;
if (skip) console.log(`# e2e sign-up tests skipped: ${skip}`);

/** Step 1: account details and consent, then on to the selfie step. */
async function fillAccount(page, username) {
  await page.fill('#signup-username', username);
  await page.fill('#signup-password', PASSWORD);
  await page.check('#signup-consent');
  await page.click('#signup-next');
  await page.waitForSelector('[data-step="camera"]:not([hidden])');
}

/** The reveal must show what the API says the account's rock is. */
async function checkReveal(page, username) {
  await page.waitForSelector('.reveal', { timeout: 120_000 });
  await page.waitForTimeout(3500); // let the ceremony finish before the screenshot
  const shown = (await page.textContent('.reveal-name')).trim();
  const imgOk = await page.$eval('.reveal-img', (img) => img.complete && img.naturalWidth > 0);
  const alt = await page.getAttribute('.reveal-img', 'alt');
  const token = await page.evaluate(() => sessionStorage.getItem('rockstar.token'));
  assert.ok(token, 'a session token is held after sign-up');
  const me = await apiCall('GET', '/accounts/verify_credentials', token);
  assert.equal(me.username, username);
  assert.ok(me.rock && me.rock.id !== undefined, 'the account has a rock');
  assert.equal(shown, me.rock.name || 'A nameless rock', 'the reveal names the account’s rock');
  assert.ok(imgOk, 'the rock photo loaded');
  assert.equal(alt, `Rock avatar: ${me.rock.name}`);
  assert.equal(typeof me.rock.likeness, 'number', 'the API gives the match’s likeness');
  await page.waitForFunction(
    (want) => document.querySelector('.similarity-num')?.textContent.trim() === String(want),
    Math.round(me.rock.likeness * 100), { timeout: 10000 });
  const pct = Number((await page.textContent('.similarity-num')).trim());
  assert.equal(pct, Math.round(me.rock.likeness * 100), 'the likeness shown is the API’s');
  return me;
}

test('sign up through the camera page and meet the rock', { skip }, async () => {
  const b = await launch({ fakeCamera: selfieY4m(0) });
  try {
    const { page, problems } = b;
    const username = uniqueName('cam');
    await page.goto(`${BASE_URL}/#/signup`);
    await shoot(page, '00-signup-details');
    await fillAccount(page, username);
    await page.waitForSelector('.camera-frame.is-live', { timeout: 20_000 });
    await page.waitForFunction(() => document.querySelector('.camera-video').videoWidth > 0);
    await shoot(page, '01-signup-camera');
    await page.click('button.rock-it');
    await shoot(page, '02-signup-matching').catch(() => {});
    await checkReveal(page, username);
    await shoot(page, '03-reveal');
    await page.click('text=Start rocking');
    await page.waitForSelector('.timeline');
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

test('sign up with the upload fallback when there is no camera', { skip }, async () => {
  const b = await launch(); // no fake device: getUserMedia fails and the page falls back
  try {
    const { page, problems } = b;
    const username = uniqueName('upl');
    await page.goto(`${BASE_URL}/#/signup`);
    await fillAccount(page, username);
    await page.waitForSelector('.camera-frame.is-upload', { timeout: 20_000 });
    const msg = await page.textContent('.camera-message');
    assert.match(msg, /camera/i, 'the page says the camera is unavailable');
    await page.setInputFiles('#signup-photo', selfieJpeg(1));
    await page.waitForFunction(() => {
      const img = document.querySelector('.camera-snapshot');
      return img && !img.hidden && img.naturalWidth > 0;
    });
    await shoot(page, '04-signup-upload');
    const selfieUrl = await page.getAttribute('.camera-snapshot', 'src');
    assert.match(selfieUrl || '', /^blob:/, 'the chosen photo is shown from memory');
    await page.click('button.rock-it');
    await checkReveal(page, username);
    await shoot(page, '05-reveal-upload');
    // The reveal says the photo is gone: the page holds no copy of it either.
    // (Loaded as an image: the CSP lets images, not fetch, read blob: URLs.)
    const selfie = await page.evaluate((url) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve('still readable');
      img.onerror = () => resolve('gone');
      img.src = url;
    }), selfieUrl);
    assert.equal(selfie, 'gone', 'the selfie\'s object URL is revoked once the account exists');
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('img')].filter((i) => i.src.startsWith('blob:')).length), 0);
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

/** Keeps a copy of the photo each multipart request sends, as window.__sentPhotos. */
function recordSentPhotos() {
  window.__sentPhotos = [];
  const original = window.fetch.bind(window);
  window.fetch = async (url, init) => {
    const photo = init && init.body instanceof FormData ? init.body.get('photo') : null;
    if (photo instanceof Blob) {
      const bytes = new Uint8Array(await photo.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      window.__sentPhotos.push({ name: photo.name, type: photo.type, base64: btoa(bin) });
    }
    return original(url, init);
  };
}

test('a phone photo is sent upright, smaller and without its metadata', { skip }, async () => {
  const file = phoneJpeg(2);
  const original = readFileSync(file);
  // The fixture holds what the test looks for: stored on its side, with EXIF.
  assert.deepEqual(jpegSize(original), { width: 2400, height: 3200 });
  assert.ok(original.includes(PHONE_EXIF_MARK) && original.includes('Exif\0\0'));
  const b = await launch();
  try {
    const { page, context, problems } = b;
    await context.addInitScript(recordSentPhotos);
    const username = uniqueName('phone');
    await page.goto(`${BASE_URL}/#/signup`);
    await fillAccount(page, username);
    await page.waitForSelector('.camera-frame.is-upload', { timeout: 20_000 });
    await page.setInputFiles('#signup-photo', file);
    await page.click('button.rock-it');
    await checkReveal(page, username);
    const sent = await page.evaluate(() => window.__sentPhotos);
    assert.equal(sent.length, 1, 'one sign-up request carried a photo');
    const bytes = Buffer.from(sent[0].base64, 'base64');
    assert.equal(sent[0].name, 'selfie.jpg', 'the file’s own name stays on the device');
    assert.equal(sent[0].type, 'image/jpeg');
    assert.ok(!bytes.includes('Exif\0\0'), 'no EXIF segment is sent');
    assert.ok(!bytes.includes(PHONE_EXIF_MARK), 'nothing of the metadata is sent');
    // Turned upright as EXIF says (landscape), and at most 2048 px on a side.
    assert.deepEqual(jpegSize(bytes), { width: 2048, height: 1536 });
    assert.ok(bytes.length < original.length, `sent ${bytes.length} bytes, chosen ${original.length}`);
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

test('a photo without a face gets a helpful message', { skip }, async () => {
  const b = await launch();
  try {
    const { page, problems } = b;
    await page.goto(`${BASE_URL}/#/signup`);
    await fillAccount(page, uniqueName('grey'));
    await page.waitForSelector('.camera-frame.is-upload', { timeout: 20_000 });
    await page.setInputFiles('#signup-photo', greyJpeg());
    await page.click('button.rock-it');
    const box = await page.waitForSelector('[data-step="camera"] .signup-errors .alert', { timeout: 60_000 });
    assert.equal(await box.getAttribute('data-code'), 'no_face');
    const text = await box.textContent();
    assert.match(text, /couldn't find a face/i);
    assert.match(text, /light/i, 'tips on light');
    assert.match(text, /oval/i, 'tips on framing');
    // The form is usable again for another try.
    assert.equal(await page.isEnabled('button.rock-it'), true);
    await shoot(page, '06-signup-no-face');
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

/** Records every camera stream the page gets, optionally answering the request late. */
function recordStreams(delayMs) {
  window.__streams = [];
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    window.__streams.push(stream);
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    return stream;
  };
}

const liveTracks = (page) => page.evaluate(
  () => window.__streams.flatMap((s) => s.getTracks()).filter((t) => t.readyState === 'live').length);

test('the camera is switched off when the member leaves sign-up', { skip }, async () => {
  const b = await launch({ fakeCamera: selfieY4m(0) });
  try {
    const { page, context, problems } = b;
    await context.addInitScript(recordStreams, 0);
    await page.goto(`${BASE_URL}/#/signup`);
    await fillAccount(page, uniqueName('away'));
    await page.waitForSelector('.camera-frame.is-live', { timeout: 20_000 });
    assert.equal(await liveTracks(page), 1, 'the camera is on while taking the selfie');
    await page.goto(`${BASE_URL}/#/login`);
    await page.waitForSelector('#login-username');
    await page.waitForFunction(
      () => window.__streams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')));
    assert.equal(await liveTracks(page), 0, 'no camera track is left on');
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

test('choosing a photo while the camera starts leaves no camera on', { skip }, async () => {
  const b = await launch({ fakeCamera: selfieY4m(0) });
  try {
    const { page, context, problems } = b;
    // The stream arrives 2 s after it is asked for, as after a slow permission prompt.
    await context.addInitScript(recordStreams, 2000);
    await page.goto(`${BASE_URL}/#/signup`);
    await fillAccount(page, uniqueName('late'));
    await page.waitForFunction(() => /Waking up the camera/.test(document.querySelector('.camera-message')?.textContent || ''));
    await page.setInputFiles('#signup-photo', selfieJpeg(1));
    await page.waitForFunction(() => window.__streams.length === 1, null, { timeout: 20_000 });
    // The late stream has arrived; the app must switch it off (a wait, not a fixed pause).
    await page.waitForFunction(
      () => window.__streams.every((s) => s.getTracks().every((t) => t.readyState === 'ended')),
      null, { timeout: 20_000 });
    assert.equal(await liveTracks(page), 0, 'the late stream was switched off');
    assert.equal(await page.$('.camera-frame.is-live'), null, 'the frame stays in upload mode');
    assert.ok(await page.$('.camera-frame.is-upload'));
    assert.equal(await page.isVisible('.camera-snapshot'), true, 'the chosen photo is shown');
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});

test('a reserved or taken username is refused on the first step, before the selfie', { skip }, async () => {
  const b = await launch();
  try {
    const { page, problems } = b;
    await page.goto(`${BASE_URL}/#/signup`);
    await page.fill('#signup-username', 'admin');
    await page.fill('#signup-password', PASSWORD);
    await page.check('#signup-consent');
    await page.click('#signup-next');
    const box = await page.waitForSelector('.signup-errors .alert[data-code="username_reserved"]', { timeout: 20_000 });
    assert.match(await box.textContent(), /reserved/i);
    assert.equal(await page.isVisible('[data-step="camera"]'), false, 'still on the first step');

    // A name someone already has, written in other letter case.
    const taken = uniqueName('taken');
    await apiSignup(taken, selfieJpeg(2));
    await page.fill('#signup-username', taken.toUpperCase());
    await page.click('#signup-next');
    const takenBox = await page.waitForSelector('.signup-errors .alert[data-code="username_taken"]', { timeout: 20_000 });
    assert.match(await takenBox.textContent(), /taken/i);
    assert.equal(await page.isVisible('[data-step="camera"]'), false, 'still on the first step');
    assert.deepEqual(problems, []);
  } finally {
    await b.close();
  }
});
