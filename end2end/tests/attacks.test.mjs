// The link an outside attack run used to take over every worker: a worker URL whose id is
// markup that closes the page's <title> and opens a script. Opened in Chromium by a logged-in
// user (and by one who logs in on the way), it must show "No such worker", send no request
// of its own and type nothing anywhere; the dashboard's pages must hydrate under the strict
// script policy without a console error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, BASE, newPage, openDashboard, openTerminal, PASSWORD, shot, token, typeAndSee } from './farm.mjs';

// What the script would do: mark the page, create a worker, and type into another worker's
// terminal through the websocket.
const ATTACK = `window.__pwned = 1;
fetch('/api/workers', { method: 'POST', headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ name: 'pwned' }) });
const ws = new WebSocket('ws://' + location.host + '/api/workers/victim/terminal', 'tty');
ws.onopen = () => { ws.send('{"columns":80,"rows":24}'); ws.send('0touch /tmp/pwned\\r'); };`;
const LINK = `${BASE}/workers/${encodeURIComponent(`</title><script>${ATTACK}</script>`)}`;

async function workers() {
  const response = await fetch(`${BASE}/api/workers`, { headers: { authorization: `Bearer ${await token()}` } });
  return (await response.json()).map((w) => w.id);
}

// Opens the link in `page` and waits until the page's own code has run (it opens the event
// stream that brings the workers): an inline script would have run before that.
async function openLink(page, requests) {
  await page.goto(LINK);
  await page.locator('h1.no-such-worker').waitFor();
  await page.waitForFunction(() => document.title.startsWith('No such worker'));
  const deadline = Date.now() + 30_000;
  const live = () => requests.some((r) => r.endsWith('/api/events'));
  while (!live() && Date.now() < deadline) {
    await page.waitForTimeout(100);
  }
  assert.ok(live(), 'the page never hydrated');
}

function recordRequests(page) {
  const requests = [];
  page.on('request', (r) => requests.push(`${r.resourceType()} ${r.method()} ${r.url()}`));
  page.on('websocket', (ws) => requests.push(`WS ${ws.url()}`));
  return requests;
}

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900, deviceScaleFactor: 2 }],
  ['phone', { width: 390, height: 844, deviceScaleFactor: 3, isMobile: true, hasTouch: true }],
]) {
  test(`the injected link does nothing at ${size} size`, async () => {
    assert.equal(await api('POST', '/api/workers', { name: 'victim' }), 201);
    const { width, height, ...device } = viewport;
    const options = { viewport: { width, height }, ...device };
    const browser = await launchBrowser();
    try {
      const page = await newPage(browser, options);
      const errors = watchErrors(page);
      const requests = recordRequests(page);
      const dialogs = [];
      page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
      await openLink(page, requests);
      await shot(page, `attack-link-${size}`);
      assert.equal(await page.evaluate(() => window.__pwned), undefined, 'the injected script ran');
      assert.deepEqual(dialogs, []);
      const own = requests.filter((r) => !r.startsWith('document ') && !/\/(pkg|vendor)\/|favicon|\/rpc\/|\/api\/events$/.test(r));
      assert.deepEqual(own, [], 'requests the page should not make');
      assert.ok(!requests.some((r) => r.startsWith('WS ')), 'a websocket was opened');
      // Under the policy the page's scripts refuse the markup: no console error of the page's
      // own, only (at most) the browser saying it blocked an inline script.
      assert.deepEqual(errors.filter((e) => !/Content Security Policy/.test(e)), [], 'console errors');
      assert.ok(!(await workers()).includes('pwned'), 'the script created a worker');

      // A well-formed id that names no worker: the same plain page, no terminal knocking.
      const missing = await newPage(browser, options);
      const missingErrors = watchErrors(missing);
      const missingRequests = recordRequests(missing);
      await missing.goto(`${BASE}/workers/nobody-here`);
      await missing.locator('h1.no-such-worker').waitFor();
      await missing.waitForFunction(() => document.title.startsWith('No such worker'));
      await missing.locator('.badge[class*="conn-"]').waitFor({ state: 'detached' });
      await shot(missing, `missing-worker-${size}`);
      assert.ok(!missingRequests.some((r) => r.startsWith('WS ')), 'a terminal knocked for a worker that does not exist');
      assert.deepEqual(missingErrors, [], 'console errors on the page of a missing worker');

      // A user who is not logged in follows the link through the login page: the same.
      const stranger = await newPage(browser, { loggedIn: false, ...options });
      const strangerRequests = recordRequests(stranger);
      await stranger.goto(LINK);
      assert.equal(new URL(stranger.url()).pathname, '/login');
      await stranger.getByLabel('Password').fill(PASSWORD);
      await stranger.getByRole('button', { name: 'Log in' }).click();
      await stranger.locator('h1.no-such-worker').waitFor();
      await stranger.waitForFunction(() => document.title.startsWith('No such worker'));
      assert.equal(await stranger.evaluate(() => window.__pwned), undefined, 'the injected script ran after the login');
      assert.ok(!strangerRequests.some((r) => r.startsWith('WS ') || r.includes('POST') && r.includes('/api/workers')));
      assert.ok(!(await workers()).includes('pwned'), 'the script created a worker');

      // Nothing was typed into the victim's terminal.
      const victim = await newPage(browser, options);
      const victimErrors = watchErrors(victim);
      await openTerminal(victim, 'victim');
      await typeAndSee(victim, 'ls /tmp/pwned || echo not-$((6*7))', 'not-42');
      // The dashboard and a terminal hydrate under the policy with no console error.
      const dashboard = await newPage(browser, options);
      const dashboardErrors = watchErrors(dashboard);
      await openDashboard(dashboard);
      assert.deepEqual([...victimErrors, ...dashboardErrors], [], 'console errors under the policy');
    } finally {
      await browser.close();
      await api('DELETE', '/api/workers/victim');
      await api('DELETE', '/api/workers/pwned');
    }
  });
}
