// The dashboard serving https itself (FARM_TLS_CERT/FARM_TLS_KEY, run by scripts/e2e.sh
// with FARM_TLS=1 and a self-signed certificate): in headless Chromium the login sets a
// Secure cookie, the live updates and the terminal's websocket work over TLS, and nothing
// on the page is fetched over plain http (Chromium reports mixed content as an error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from '../tests/browser.mjs';
import { api, BASE, newPage, PASSWORD, shot, typeAndSee } from '../tests/farm.mjs';

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }],
]) {
  test(`https at ${size} size`, async () => {
    assert.match(BASE, /^https:/);
    const id = `tls-${size}`;
    assert.equal(await api('POST', '/api/workers', { name: id }), 201);
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      // The certificate is self-signed: the browser is told to accept it, as a user would.
      const page = await newPage(browser, {
        loggedIn: false, ignoreHTTPSErrors: true, colorScheme: 'dark', viewport: box, isMobile, hasTouch,
      });
      const errors = watchErrors(page);
      await page.goto(`${BASE}/`);
      assert.equal(new URL(page.url()).pathname, '/login');
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${BASE}/`);
      const cookies = await page.context().cookies();
      const cookie = cookies.find((c) => c.name === 'cwf_session');
      assert.ok(cookie, `no session cookie in ${cookies.map((c) => c.name)}`);
      assert.equal(cookie.secure, true, 'the session cookie is Secure over https');
      assert.equal(cookie.httpOnly, true);
      // The browser is known from now on (its logins are not held back by strangers'): that
      // cookie is as guarded, and goes only to the login.
      const device = cookies.find((c) => c.name === 'cwf_device');
      assert.ok(device, `no device cookie in ${cookies.map((c) => c.name)}`);
      assert.deepEqual([device.secure, device.httpOnly, device.sameSite, device.path], [true, true, 'Strict', '/login']);

      // The event stream is live, and the new worker's card is there.
      await page.locator('[data-live="on"]').waitFor({ timeout: 60_000 });
      await page.locator(`[data-worker="${id}"] .status-running`).waitFor({ timeout: 60_000 });
      await shot(page, `https-dashboard-${size}`);

      // Its terminal over wss, through the proxy.
      await page.goto(`${BASE}/workers/${id}`);
      await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await typeAndSee(page, 'echo over-tls-$((6*7))', 'over-tls-42');
      await shot(page, `https-terminal-${size}`);
      assert.deepEqual(errors, [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${id}`);
    }
  });
}
