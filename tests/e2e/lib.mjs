// Shared helpers for the browser tests: Chromium launch, screenshots at two viewports,
// test data from ../shared/data, and direct API calls for setting up other members.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');
export const BASE_URL = process.env.E2E_BASE_URL || 'http://127.0.0.1:8088';
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';
export const SHARED_DATA = process.env.E2E_SHARED_DATA || path.resolve(repoRoot, '..', 'shared', 'data');
export const SHOTS = process.env.E2E_SHOTS || path.join(here, 'screenshots');
const WORK = process.env.E2E_WORK || mkdtempSync(path.join(tmpdir(), 'rockstar-e2e-'));

export const VIEWPORTS = { phone: { width: 390, height: 844 }, desktop: { width: 1280, height: 900 } };
export const PASSWORD = 'granite-correct-horse-42';

/** Why the tests cannot run here, or null. Printed by the tests that skip. */
export function skipReason() {
  if (!existsSync(path.join(SHARED_DATA, 'pairs'))) return `test photos not found at ${SHARED_DATA}/pairs (../shared/data is absent)`;
  if (!existsSync(CHROMIUM)) return `Chromium not found at ${CHROMIUM}`;
  return null;
}

/** The i-th real face photo (sorted by name) from the shared human-rock pairs. */
export function facePhoto(i = 0) {
  const dir = path.join(SHARED_DATA, 'pairs');
  const files = readdirSync(dir).filter((f) => /^human_\d+\.jpg$/.test(f)).sort();
  if (files.length === 0) throw new Error(`no human_*.jpg in ${dir}`);
  return path.join(dir, files[i % files.length]);
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
}

// The pair photos are tight 160-px crops; a selfie has the face in the middle of a
// larger frame, so pad them out like one (face about 60 % of the frame height).
const SELFIE_FILTER = 'scale=300:300,pad=480:480:90:90:color=0x8a8580';

/** The face photo padded into a selfie-like JPEG (for the upload path and API set-up). */
export function selfieJpeg(n = 0) {
  const out = path.join(WORK, `selfie_${n}.jpg`);
  if (!existsSync(out)) ffmpeg(['-i', facePhoto(n), '-vf', SELFIE_FILTER, '-q:v', '2', out]);
  return out;
}

/** A fake webcam stream made from the face photo (y4m, as Chromium needs). */
export function selfieY4m(n = 0) {
  const out = path.join(WORK, `selfie_${n}.y4m`);
  if (!existsSync(out)) {
    ffmpeg(['-i', facePhoto(n), '-vf', `${SELFIE_FILTER},pad=640:480:80:0:color=0x8a8580`, '-frames:v', '1', '-pix_fmt', 'yuv420p', out]);
  }
  return out;
}

/** What a phone's camera writes into a photo, marked so a test can look for any of it. */
export const PHONE_EXIF_MARK = 'RockStar test: taken at 48.8584 N';

/**
 * A JPEG EXIF segment (APP1) with an orientation, a description and a GPS latitude: a
 * big-endian TIFF with IFD0 (0x010E, 0x0112, 0x8825) and a GPS IFD (0x0001, 0x0002).
 */
function exifSegment(orientation, description) {
  const desc = Buffer.from(`${description}\0`, 'latin1');
  const tiff = Buffer.alloc(104 + desc.length);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  const entry = (at, tag, type, count, value) => {
    tiff.writeUInt16BE(tag, at);
    tiff.writeUInt16BE(type, at + 2);
    tiff.writeUInt32BE(count, at + 4);
    if (type === 3) tiff.writeUInt16BE(value, at + 8); else tiff.writeUInt32BE(value, at + 8);
  };
  tiff.writeUInt16BE(3, 8); // IFD0: 3 entries, sorted by tag
  entry(10, 0x010e, 2, desc.length, 104); // ImageDescription
  entry(22, 0x0112, 3, 1, orientation); // Orientation
  entry(34, 0x8825, 4, 1, 50); // GPS IFD pointer
  tiff.writeUInt32BE(0, 46); // no next IFD
  tiff.writeUInt16BE(2, 50); // GPS IFD: 2 entries
  entry(52, 0x0001, 2, 2, 0);
  tiff.write('N', 60, 'latin1'); // GPSLatitudeRef, inline
  entry(64, 0x0002, 5, 3, 80); // GPSLatitude: 48/1 51/1 3024/100
  tiff.writeUInt32BE(0, 76);
  [[48, 1], [51, 1], [3024, 100]].forEach(([n, d], i) => {
    tiff.writeUInt32BE(n, 80 + 8 * i);
    tiff.writeUInt32BE(d, 84 + 8 * i);
  });
  desc.copy(tiff, 104);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const head = Buffer.alloc(4);
  head.writeUInt16BE(0xffe1, 0);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([head, payload]);
}

/**
 * The selfie as a phone saves it: 3200x2400, stored on its side (portrait) with EXIF
 * orientation 6 (turn 90 degrees clockwise to view), a GPS position and a description,
 * with sensor-like noise so that its size is a photo's.
 */
export function phoneJpeg(n = 0) {
  const out = path.join(WORK, `phone_${n}.jpg`);
  if (existsSync(out)) return out;
  const raw = path.join(WORK, `phone_${n}.raw.jpg`);
  ffmpeg(['-i', facePhoto(n), '-vf', `${SELFIE_FILTER},pad=640:480:80:0:color=0x8a8580,scale=3200:2400,noise=alls=8:allf=u,transpose=2`, '-q:v', '3', raw]);
  const jpeg = readFileSync(raw);
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new Error('ffmpeg did not write a JPEG');
  writeFileSync(out, Buffer.concat([jpeg.subarray(0, 2), exifSegment(6, PHONE_EXIF_MARK), jpeg.subarray(2)]));
  return out;
}

/** Width and height from a JPEG's first start-of-frame marker, or null. */
export function jpegSize(bytes) {
  let i = 2;
  while (i + 9 < bytes.length) {
    if (bytes[i] !== 0xff) return null;
    const marker = bytes[i + 1];
    if (marker === 0xff) { i += 1; continue; }
    const len = bytes.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
      return { width: bytes.readUInt16BE(i + 7), height: bytes.readUInt16BE(i + 5) };
    }
    i += 2 + len;
  }
  return null;
}

/** A plain grey photo with no face in it. */
export function greyJpeg() {
  const out = path.join(WORK, 'grey.jpg');
  if (!existsSync(out)) ffmpeg(['-f', 'lavfi', '-i', 'color=c=0x808080:s=640x480', '-frames:v', '1', out]);
  return out;
}

/** Launches Chromium; with fakeCamera set to a .y4m file, getUserMedia streams it. */
export async function launch({ fakeCamera = null, denyCamera = false } = {}) {
  const args = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ];
  if (fakeCamera) {
    args.push('--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${fakeCamera}`);
  } else if (denyCamera) {
    args.push('--use-fake-device-for-media-stream', '--deny-permission-prompts');
  }
  const profile = mkdtempSync(path.join(WORK, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args, viewport: VIEWPORTS.desktop,
  });
  // Console errors about the CSP, page errors and dialogs are problems the test reports.
  const watch = (page, problems) => {
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`CSP: ${msg.text()}`);
    });
    page.on('dialog', (d) => { problems.push(`unexpected dialog: ${d.message()}`); d.dismiss().catch(() => {}); });
  };
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  watch(page, problems);
  return {
    context, page, problems,
    /**
     * A new tab in place of the current one: no session (the token lives in the tab's
     * sessionStorage), no routes left by an earlier test, no problems counted yet. Tests
     * that start with it do not depend on what ran before them.
     */
    async freshPage() {
      const old = this.page;
      this.page = await context.newPage();
      this.problems = [];
      watch(this.page, this.problems);
      await old.close();
      return { page: this.page, problems: this.problems };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Saves the page at the phone width (what fits on the screen, around the focused
 * element) and the desktop width (the whole page), returns the two paths.
 */
export async function shoot(page, name) {
  mkdirSync(SHOTS, { recursive: true });
  const original = page.viewportSize();
  const out = [];
  for (const [label, size] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(size);
    const phone = label === 'phone';
    await page.evaluate((isPhone) => {
      window.scrollTo(0, 0);
      const el = document.activeElement;
      if (isPhone && el && el !== document.body && el.id !== 'main') el.scrollIntoView({ block: 'nearest' });
    }, phone);
    await page.waitForTimeout(300);
    const file = path.join(SHOTS, `${name}-${label}-${size.width}.png`);
    await page.screenshot({ path: file, fullPage: !phone });
    out.push(file);
  }
  if (original) await page.setViewportSize(original);
  return out;
}

let seq = 0;
/** A fresh username that fits the usual rules (lowercase, digits, underscore, short). */
export function uniqueName(prefix = 'e2e') {
  seq += 1;
  const stamp = Date.now().toString(36).slice(-5);
  return `${prefix}_${stamp}${seq}`.slice(0, 20);
}

/** Signs a member up straight through the API (for "another member" in social tests). */
export async function apiSignup(username, photoPath) {
  const form = new FormData();
  form.append('username', username);
  form.append('password', PASSWORD);
  form.append('consent', 'true');
  form.append('photo', new Blob([readFileSync(photoPath)], { type: 'image/jpeg' }), 'selfie.jpg');
  const res = await fetch(`${BASE_URL}/api/v1/accounts`, { method: 'POST', body: form });
  const body = await res.json().catch(() => null);
  if (res.status !== 201) throw new Error(`sign-up of ${username} failed: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

export async function apiCall(method, apiPath, token, json) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${BASE_URL}/api/v1${apiPath}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
  const text = await res.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!res.ok) throw new Error(`${method} ${apiPath} failed: ${res.status} ${text}`);
  return body;
}
