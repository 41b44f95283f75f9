// The network in a real browser: log in, follow another member, post, reply, see the
// followed member's post in the home timeline, profiles, rock pages, notifications,
// and a script-injection attempt that must stay plain text.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  BASE_URL, PASSWORD, apiCall, apiSignup, launch, selfieJpeg, shoot, skipReason, uniqueName,
} from '../lib.mjs';

const skip = skipReason() || false;
if (skip) console.log(`# e2e social tests skipped: ${skip}`);

async function login(page, username) {
  await page.goto(`${BASE_URL}/#/login`);
  await page.fill('#login-username', username);
  await page.fill('#login-password', PASSWORD);
  await page.click('form.auth-card button[type=submit]');
  await page.waitForSelector('.timeline', { timeout: 20_000 });
}

async function logout(page) {
  await page.click('.nav-logout');
  await page.waitForSelector('#login-username');
}

async function post(page, text) {
  await page.fill('.compose-card textarea', text);
  await page.click('.compose-card button[type=submit]');
  const card = page.locator('.feed .status', { hasText: text }).first();
  await card.waitFor({ timeout: 20_000 });
  return card;
}

describe('social', { skip }, () => {
  let alice; // signs up through the API, uses the web app
  let bob; // the member she follows
  let b; // browser

  before(async () => {
    const aliceName = uniqueName('alice');
    const bobName = uniqueName('bob');
    alice = { ...(await apiSignup(aliceName, selfieJpeg(2))), username: aliceName };
    bob = { ...(await apiSignup(bobName, selfieJpeg(1))), username: bobName };
    b = await launch();
  });

  after(async () => { if (b) await b.close(); });

  test('log in, follow, post, reply, and see the followed member in home', async () => {
    const { page, problems } = await b.freshPage();
    await login(page, alice.username);
    const unique = Date.now().toString(36);

    // Follow Bob from his profile.
    await page.goto(`${BASE_URL}/#/@${bob.username}`);
    await page.waitForSelector('.profile-head');
    assert.equal((await page.textContent('.profile-head .handle')).trim(), `@${bob.username}`);
    const avatarAlt = await page.getAttribute('.profile-head .avatar', 'alt');
    assert.equal(avatarAlt, `Rock avatar: ${bob.account.rock.name}`);
    await page.click('.follow-btn');
    await page.waitForSelector('.follow-btn[aria-pressed="true"]');
    const following = await apiCall('GET', `/accounts/${alice.username}/following`, alice.token);
    assert.ok(following.some((a) => a.username === bob.username), 'the API records the follow');
    await shoot(page, '10-profile-followed');

    // Bob posts after the follow; Alice posts from her home timeline.
    const bobText = `Greetings from ${bob.username}'s rock (${unique})`;
    const bobStatus = await apiCall('POST', '/statuses', bob.token, { text: bobText });
    await page.goto(`${BASE_URL}/#/home`);
    await page.waitForSelector('.compose-card textarea');
    const aliceText = `First post from the web app (${unique})`;
    const posting = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/statuses'));
    await post(page, aliceText);
    // Each draft carries an Idempotency-Key, so a retry after a lost response cannot post twice.
    assert.match((await posting).headers()['idempotency-key'] || '', /^[0-9a-f]{32}$/);
    assert.match(await page.textContent('.compose-card .char-count'), /^500$/, 'the counter resets');

    // The counter tracks typing and refuses more than 500 characters.
    await page.fill('.compose-card textarea', 'x'.repeat(501));
    assert.equal((await page.textContent('.compose-card .char-count')).trim(), '-1');
    assert.equal(await page.isDisabled('.compose-card button[type=submit]'), true);
    await page.fill('.compose-card textarea', '');

    // Reload: Bob's post is in Alice's home timeline, with hers.
    await page.reload();
    const bobCard = page.locator('.status', { hasText: bobText });
    await bobCard.waitFor({ timeout: 20_000 });
    await page.locator('.status', { hasText: aliceText }).waitFor();

    // Favourite and reply to Bob's post.
    await bobCard.locator('button.fav').click();
    await bobCard.locator('button.fav[aria-pressed="true"]').waitFor();
    await bobCard.locator('button.reply').click();
    const replyText = `@${bob.username} what a handsome rock (${unique})`;
    await bobCard.locator('.reply-slot textarea').fill(replyText);
    await bobCard.locator('.reply-slot button[type=submit]').click();
    await bobCard.locator('.reply-slot form').waitFor({ state: 'detached' });
    await shoot(page, '11-home-timeline');

    // The thread shows the reply under Bob's post.
    await page.goto(`${BASE_URL}/#/statuses/${bobStatus.id}`);
    await page.waitForSelector('.status-focus');
    await page.locator('.thread-replies .status', { hasText: replyText }).waitFor({ timeout: 20_000 });
    const ctx = await apiCall('GET', `/statuses/${bobStatus.id}/context`, alice.token);
    assert.ok(ctx.descendants.some((d) => d.text === replyText), 'the API has the reply in the thread');
    await shoot(page, '12-thread');

    // Alice's own profile and her rock's page.
    await page.goto(`${BASE_URL}/#/@${alice.username}`);
    await page.locator('.status', { hasText: aliceText }).waitFor({ timeout: 20_000 });
    await shoot(page, '13-profile-own');
    await page.click('.profile-rock a');
    await page.waitForSelector('.rock-hero h1');
    assert.equal((await page.textContent('.rock-hero h1')).trim(), alice.account.rock.name);
    await page.locator('.account-list .account-row', { hasText: `@${alice.username}` }).waitFor({ timeout: 20_000 });
    await shoot(page, '14-rock-page');
    await page.goto(`${BASE_URL}/#/rocks`);
    await page.waitForSelector('.rock-tile');
    await shoot(page, '15-rock-gallery');
    assert.deepEqual(problems, []);
  });

  test('a member sees follow and reply notifications, and reads them', async () => {
    const { page, problems } = await b.freshPage();
    // Its own two members: a fan follows a host and replies to the host's post, naming the
    // host in the reply.
    const hostName = uniqueName('host');
    const fanName = uniqueName('fan');
    const host = { ...(await apiSignup(hostName, selfieJpeg(1))), username: hostName };
    const fan = { ...(await apiSignup(fanName, selfieJpeg(2))), username: fanName };
    await apiCall('POST', `/accounts/${hostName}/follow`, fan.token);
    const hosted = await apiCall('POST', '/statuses', host.token, { text: 'A post to reply to' });
    await apiCall('POST', '/statuses', fan.token, { text: `@${hostName} a reply`, in_reply_to_id: hosted.id });
    await login(page, hostName);
    const unreadBefore = await apiCall('GET', '/notifications/unread_count', host.token);
    assert.equal(unreadBefore.count, 2, 'one follow and one reply, unread');
    const marking = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/api/v1/notifications/read'));
    const marked = page.waitForResponse((r) => r.url().endsWith('/api/v1/notifications/read'));
    // If an assertion fails first, the next test closes this tab: no unhandled rejection then.
    marking.catch(() => {});
    marked.catch(() => {});
    await page.goto(`${BASE_URL}/#/notifications`);
    await page.locator('.notification', { hasText: 'followed you' }).waitFor({ timeout: 20_000 });
    // Seen notifications are marked read up to the newest one shown, not wholesale.
    const newest = await apiCall('GET', '/notifications?limit=1', host.token);
    assert.deepEqual(JSON.parse((await marking).postData() || '{}'), { up_to_id: newest[0].id });
    assert.equal((await marked).status(), 200);
    assert.equal((await apiCall('GET', '/notifications/unread_count', host.token)).count, 0);
    // The reply names the host too, but the author of the post hears of it once, as a reply.
    await page.locator('.notification', { hasText: 'replied to you' }).first().waitFor();
    assert.equal(await page.locator('.notification', { hasText: 'mentioned you' }).count(), 0,
      'no second notification for the same reply');
    await shoot(page, '16-notifications');
    assert.deepEqual(problems, []);
  });

  test('log out, then log in with the keyboard alone', async () => {
    const { page, problems } = await b.freshPage();
    await login(page, bob.username);
    await logout(page);
    // The login view focuses the username field; Tab and Enter do the rest.
    await page.keyboard.type(alice.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.waitForSelector('.timeline', { timeout: 20_000 });
    const me = await page.evaluate(() => document.querySelector('.nav-me') !== null);
    assert.equal(me, true, 'the navigation shows the logged-in member');
    assert.deepEqual(problems, []);
  });

  test('the public timeline loads older posts as you scroll', async () => {
    const { page, problems } = await b.freshPage();
    const tag = `scroll-${Date.now().toString(36)}`;
    const total = 25;
    for (let i = 0; i < total; i += 1) {
      await apiCall('POST', '/statuses', bob.token, { text: `${tag} #${i}` });
    }
    // The app may fetch page two at once when the feed's end is already in view, so the
    // first page is read from the network, not from the DOM.
    const firstResponse = page.waitForResponse((r) => r.url().includes('/api/v1/timelines/public'));
    await page.goto(`${BASE_URL}/#/public`);
    const firstPage = await (await firstResponse).json();
    const first = firstPage.filter((s) => s.text.includes(tag)).length;
    assert.ok(first > 0 && first < total, `the first page holds some but fewer than ${total} of them (${first})`);
    await page.locator('.feed .status', { hasText: `${tag} #${total - 1}` }).waitFor({ timeout: 20_000 });
    const shownAt = async () => page.locator('.feed .status', { hasText: tag }).count();
    // Scroll to the end and wait for the card count to grow, page by page (no fixed pauses).
    for (let i = 0; i < 10 && (await shownAt()) < total; i += 1) {
      const before = await shownAt();
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await page.waitForFunction(
        ([t, n]) => [...document.querySelectorAll('.feed .status')].filter((e) => e.textContent.includes(t)).length > n,
        [tag, before], { timeout: 20_000 });
    }
    assert.equal(await shownAt(), total, 'scrolling brought in every post, once each');
    assert.deepEqual(problems, []);
  });

  test('an image in a post is shown as the server returns it, before posting', async () => {
    const { page, problems } = await b.freshPage();
    const photo = selfieJpeg(2);
    await login(page, alice.username);
    await page.goto(`${BASE_URL}/#/home`);
    await page.waitForSelector('.compose-card textarea');
    await page.setInputFiles('.compose-card input[type=file]', photo);
    const preview = page.locator('.compose-card .media-preview img');
    await preview.waitFor({ timeout: 60_000 });
    const src = await preview.getAttribute('src');
    assert.ok(src && !src.startsWith('blob:') && !src.startsWith('data:'), `the preview is the server's copy (${src})`);
    const served = await fetch(new URL(src, BASE_URL));
    assert.equal(served.status, 200);
    const bytes = Buffer.from(await served.arrayBuffer());
    const { readFileSync } = await import('node:fs');
    assert.notDeepEqual(bytes, readFileSync(photo), 'the server did not just echo the upload back');
    await shoot(page, '18-compose-with-image');
    const text = `Scrubbed selfie (${Date.now().toString(36)})`;
    await page.fill('.compose-card textarea', text);
    await page.click('.compose-card button[type=submit]');
    const card = page.locator('.feed .status', { hasText: text }).first();
    await card.locator('.media-grid img').waitFor({ timeout: 20_000 });
    assert.deepEqual(problems, []);
  });

  test('a script-injection attempt in a post is shown as text', async () => {
    const { page, problems } = await b.freshPage();
    await login(page, alice.username);
    const attack = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold?</b> (${Date.now().toString(36)})`;
    const card = await post(page, attack);
    assert.equal(await card.locator('.status-text').textContent(), attack, 'shown exactly as typed');
    for (const where of [`${BASE_URL}/#/public`, `${BASE_URL}/#/@${alice.username}`]) {
      await page.goto(where);
      const text = page.locator('.status-text', { hasText: attack }).first();
      await text.waitFor({ timeout: 20_000 });
      assert.equal(await text.evaluate((el) => el.children.length), 0, 'no elements were created from the text');
    }
    assert.equal(await page.evaluate(() => document.querySelectorAll('.status-text img, .status-text script, .status-text b').length), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the injected script never ran');
    await shoot(page, '17-injection-as-text');
    assert.deepEqual(problems, []);
  });

  test('a failure is shown rather than hidden, and an ended session goes to log in', async () => {
    const { page, problems } = await b.freshPage();
    await login(page, bob.username);
    // A thread whose replies cannot load still shows the post, says so, and can retry.
    const text = `A post whose replies will not load (${Date.now().toString(36)})`;
    const status = await apiCall('POST', '/statuses', bob.token, { text });
    const busy = (route) => route.fulfill({
      status: 503,
      contentType: 'application/json',
      headers: { 'Retry-After': '5' },
      body: JSON.stringify({ error: 'overloaded', message: 'The server is busy; try again in a moment.' }),
    });
    await page.route('**/api/v1/statuses/*/context', busy);
    await page.goto(`${BASE_URL}/#/statuses/${status.id}`);
    await page.waitForSelector('.status-focus');
    const alert = page.locator('.thread-replies [role=alert]');
    await alert.waitFor({ timeout: 20_000 });
    assert.match(await alert.textContent(), /could not be loaded/);
    await page.unroute('**/api/v1/statuses/*/context', busy);
    await alert.locator('button', { hasText: 'Try again' }).click();
    await page.locator('.thread-replies [role=alert]').waitFor({ state: 'detached', timeout: 20_000 });
    await page.waitForSelector('.status-focus');

    // The account cannot be loaded at start (server busy): the nav stays logged in, says
    // so, and recovers by itself.
    let refused = 0;
    const busyOnce = (route) => { refused += 1; return busy(route); };
    await page.route('**/api/v1/accounts/verify_credentials', busyOnce);
    await page.reload();
    await page.locator('.nav-reconnect').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.nav [data-nav="login"]').count(), 0, 'no "Log in" while logged in');
    assert.equal(await page.locator('.nav-logout').count(), 1);
    // Settings, where a phone finds Log out, says so too instead of showing a log-in form.
    await page.goto(`${BASE_URL}/#/settings`);
    await page.locator('h1', { hasText: 'Your account could not be loaded' }).waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('#login-username').count(), 0, 'no log-in form while logged in');
    assert.equal(await page.locator('main button', { hasText: 'Log out' }).count(), 1);
    await page.unroute('**/api/v1/accounts/verify_credentials', busyOnce);
    assert.ok(refused >= 1);
    await page.locator('main button', { hasText: 'Try again' }).click();
    await page.waitForSelector('#settings-name', { timeout: 20_000 });
    await page.locator('.nav-me').waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.nav-reconnect').count(), 0);

    // The session is revoked elsewhere: the next request is refused and the app moves to log in.
    const token = await page.evaluate(() => sessionStorage.getItem('rockstar.token') || localStorage.getItem('rockstar.token'));
    assert.ok(token, 'the web app holds a token');
    await apiCall('DELETE', '/sessions/current', token);
    await page.goto(`${BASE_URL}/#/notifications`);
    await page.waitForSelector('#login-username', { timeout: 20_000 });
    assert.match(page.url(), /#\/login\?next=%23%2Fnotifications$/);
    assert.deepEqual(problems, []);
  });

  test('the page keeps up: badge at log-in, one post per send, thread counts, block resets follow', async () => {
    const { page, problems } = await b.freshPage();
    const carolName = uniqueName('carol');
    const carol = { ...(await apiSignup(carolName, selfieJpeg(3))), username: carolName };
    // Someone follows Carol before she logs in: the badge shows at once, without a reload.
    await apiCall('POST', `/accounts/${carolName}/follow`, bob.token);
    await login(page, carolName);
    await page.locator('.badge').waitFor({ timeout: 10_000 });
    assert.equal((await page.textContent('.badge')).trim(), '1');

    // Ctrl+Enter twice while the post is in flight sends it once and shows it once.
    const text = `Sent once (${Date.now().toString(36)})`;
    // Every POST the page makes is counted, however late it would go out.
    let sends = 0;
    const slow = async (route) => {
      if (route.request().method() === 'POST') sends += 1;
      await new Promise((r) => setTimeout(r, 800));
      await route.continue();
    };
    await page.route('**/api/v1/statuses', slow);
    await page.fill('.compose-card textarea', text);
    await page.press('.compose-card textarea', 'Control+Enter');
    await page.press('.compose-card textarea', 'Control+Enter');
    await page.locator('.feed .status', { hasText: text }).first().waitFor({ timeout: 20_000 });
    // The composer is empty and usable again: nothing more of this send is pending.
    await page.waitForFunction(() => {
      const box = document.querySelector('.compose-card textarea');
      return box && box.value === '' && !box.readOnly;
    }, null, { timeout: 20_000 });
    await page.unroute('**/api/v1/statuses', slow);
    assert.equal(sends, 1, 'one POST for two presses');
    assert.equal(await page.locator('.feed .status', { hasText: text }).count(), 1, 'one card');
    const mine = await apiCall('GET', `/accounts/${carolName}/statuses`, carol.token);
    assert.equal(mine.filter((st) => st.text === text).length, 1, 'one post on the server');

    // A reply from the thread's own composer is listed and counted on the post.
    const posted = mine.find((st) => st.text === text);
    await page.goto(`${BASE_URL}/#/statuses/${posted.id}`);
    await page.waitForSelector('.status-focus');
    await page.fill('.thread .compose-card textarea', 'and a reply');
    await page.click('.thread .compose-card button[type=submit]');
    await page.locator('.thread-replies .status', { hasText: 'and a reply' }).waitFor({ timeout: 20_000 });
    assert.equal((await page.textContent('.status-focus .action.reply .count')).trim(), '1');

    // Follow Bob, then block him: the page shows what the server now says.
    await page.goto(`${BASE_URL}/#/@${bob.username}`);
    await page.waitForSelector('.follow-btn');
    const before = Number((await page.textContent('.profile-counts a[href$="/followers"] strong')).trim());
    await page.click('.follow-btn');
    await page.waitForFunction(() => document.querySelector('.follow-btn')?.textContent === 'Following');
    await page.waitForFunction((n) => document.querySelector('.profile-counts a[href$="/followers"] strong')?.textContent.trim() === String(n), before + 1);
    await page.click('button[aria-pressed]:has-text("Block")');
    await page.waitForFunction(() => document.querySelector('.follow-btn')?.textContent === 'Follow', null, { timeout: 20_000 });
    const after = Number((await page.textContent('.profile-counts a[href$="/followers"] strong')).trim());
    const server = await apiCall('GET', `/accounts/${bob.username}`, carol.token);
    assert.equal(after, server.followers_count, 'the followers count is the server\'s');
    assert.equal(server.relationship.following, false);
    await apiCall('POST', `/accounts/${bob.username}/unblock`, carol.token);
    assert.deepEqual(problems, []);
  });

  test('a rock page knows the vote made earlier, and a bad escape in the address is harmless', async () => {
    const { page, problems } = await b.freshPage();
    const name = uniqueName('erin');
    const erin = { ...(await apiSignup(name, selfieJpeg(3))), username: name };
    const rockId = erin.account.rock.id;
    await apiCall('POST', `/rocks/${encodeURIComponent(rockId)}/names`, erin.token, { name: 'Granite Gus' });
    await login(page, name);
    await page.goto(`${BASE_URL}/#/rocks/${encodeURIComponent(rockId)}`);
    await page.locator('.names-list .name-item', { hasText: 'yours among them' }).waitFor({ timeout: 20_000 });
    await page.fill('#rock-name-input', 'granite gus');
    await page.click('.suggest-form button[type=submit]');
    await page.locator('#toasts .toast', { hasText: 'You already voted for “Granite Gus”' }).waitFor({ timeout: 10_000 });
    const votes = await apiCall('GET', `/rocks/${encodeURIComponent(rockId)}/names`, erin.token);
    assert.deepEqual(votes.names.map((n) => [n.name, n.votes]), [['Granite Gus', 1]], 'no second vote was sent');

    // %E0%A4 is not valid UTF-8: the profile view says so instead of the page stalling.
    await page.goto(`${BASE_URL}/#/@%E0%A4`);
    await page.locator('main .empty-state', { hasText: 'That did not work' }).waitFor({ timeout: 10_000 });
    await page.goto(`${BASE_URL}/#/rocks`);
    await page.waitForSelector('.rocks', { timeout: 10_000 });
    assert.deepEqual(problems, []);
  });

  test('Back from a thread returns to the same place in the feed', async () => {
    const { page, problems } = await b.freshPage();
    const daveName = uniqueName('dave');
    const dave = { ...(await apiSignup(daveName, selfieJpeg(4))), username: daveName };
    for (let i = 0; i < 45; i += 1) {
      await apiCall('POST', '/statuses', dave.token, { text: `Scroll marker ${i} of ${daveName}` });
    }
    await page.goto(`${BASE_URL}/#/@${daveName}`);
    await page.locator('.feed .status').nth(19).waitFor({ timeout: 20_000 });
    // Far enough down that the second page has loaded.
    await page.mouse.wheel(0, 3000);
    await page.locator('.feed .status').nth(30).waitFor({ timeout: 20_000 });
    await page.mouse.wheel(0, 1500);
    await page.waitForTimeout(500);
    const before = await page.evaluate(() => {
      const card = [...document.querySelectorAll('.feed .status')].find((el) => el.getBoundingClientRect().top > 80);
      return { y: window.scrollY, text: card.querySelector('.status-text').textContent, id: card.querySelector('.status-time').getAttribute('href') };
    });
    assert.ok(before.y > 2000, `scrolled down (${before.y})`);
    await page.click(`.feed .status a.status-time[href="${before.id}"]`);
    await page.waitForSelector('.status-focus');
    assert.ok(await page.evaluate(() => window.scrollY) < 400, 'a new page starts at the top');
    await page.goBack();
    await page.waitForFunction((y) => Math.abs(window.scrollY - y) < 4, before.y, { timeout: 10_000 });
    const card = page.locator('.feed .status', { hasText: before.text });
    const top = await card.evaluate((el) => el.getBoundingClientRect().top);
    assert.ok(top > 0 && top < 900, `the card read last is in view again (top ${top})`);
    assert.deepEqual(problems, []);
  });

  test('Back in a thread opened from a link elsewhere never leaves RockStar', async () => {
    const { page, problems } = await b.freshPage();
    const tag = Date.now().toString(36);
    const root = await apiCall('POST', '/statuses', bob.token, { text: `A root post (${tag})` });
    const reply = await apiCall('POST', '/statuses', alice.token, { text: `A reply to it (${tag})`, in_reply_to_id: root.id });
    // As if the reply's link were opened from another site.
    await page.goto('about:blank');
    await page.goto(`${BASE_URL}/#/statuses/${reply.id}`);
    await page.locator('.status-focus', { hasText: `A reply to it (${tag})` }).waitFor({ timeout: 20_000 });
    // Into the post it replies to, and Back: the reply again.
    await page.locator('.thread-ancestors a.status-time').first().click();
    await page.locator('.status-focus', { hasText: `A root post (${tag})` }).waitFor({ timeout: 20_000 });
    await page.click('.back-link');
    await page.locator('.status-focus', { hasText: `A reply to it (${tag})` }).waitFor({ timeout: 20_000 });
    // Back once more: nothing of RockStar lies behind, so it goes to the link's own page.
    await page.click('.back-link');
    await page.waitForFunction(() => !location.hash.startsWith('#/statuses/'), null, { timeout: 20_000 });
    assert.ok(page.url().startsWith(BASE_URL), `still in RockStar: ${page.url()}`);
    assert.deepEqual(problems, []);
  });

  test('deleting the account goes straight to sign-up and the account is gone', async () => {
    const { page, problems } = await b.freshPage();
    const name = uniqueName('gone');
    await apiSignup(name, selfieJpeg(4));
    await login(page, name);
    await page.goto(`${BASE_URL}/#/settings`);
    await page.click('text=Delete my account…');
    await page.evaluate(() => {
      window.__hashes = [];
      window.addEventListener('hashchange', (e) => window.__hashes.push(new URL(e.newURL).hash));
    });
    await page.fill('#delete-confirm', name);
    await page.click('button:has-text("Delete forever")');
    await page.waitForFunction(() => location.hash.startsWith('#/signup'), null, { timeout: 20_000 });
    await page.waitForTimeout(500);
    const hashes = await page.evaluate(() => window.__hashes);
    assert.ok(!hashes.some((x) => x.startsWith('#/login')), `no detour through log-in: ${hashes}`);
    const res = await fetch(`${BASE_URL}/api/v1/sessions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ username: name, password: PASSWORD }),
    });
    assert.equal(res.status, 401, 'the account cannot log in any more');
    assert.deepEqual(problems, []);
  });
});
