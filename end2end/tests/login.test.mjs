// The login in headless Chromium at desktop and phone size: a browser without a session sees
// only the login page, a wrong password is told so, the right one leads back to where it was
// going, and logging out sends every open page of the session back to the login page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, BASE, newPage, PASSWORD, shot, typeAndSee } from './farm.mjs';

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }],
]) {
  test(`login and logout at ${size} size`, async () => {
    const id = `login-${size}`;
    assert.equal(await api('POST', '/api/workers', { name: id }), 201);
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      const page = await newPage(browser, { loggedIn: false, colorScheme: 'dark', viewport: box, isMobile, hasTouch });
      const errors = watchErrors(page);
      // A worker's page without a session: the login page, which remembers the way back.
      await page.goto(`${BASE}/workers/${id}`);
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(new URL(page.url()).searchParams.get('next'), `/workers/${id}`);
      await shot(page, `login-${size}`);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.getByRole('alert').getByText('Wrong password').waitFor();
      await shot(page, `login-wrong-${size}`);
      await page.emulateMedia({ colorScheme: 'light' });
      await shot(page, `login-light-${size}`);
      await page.emulateMedia({ colorScheme: 'dark' });

      // The right password leads to the terminal, which works.
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(`${BASE}/workers/${id}`);
      await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await typeAndSee(page, 'echo in-$((6*7))', 'in-42');

      // A second tab of the same browser shows the dashboard with a way to log out; logging
      // out there sends the terminal tab to the login page too.
      const dashboard = await page.context().newPage();
      const dashboardErrors = watchErrors(dashboard);
      await dashboard.goto(`${BASE}/`);
      await dashboard.locator('[data-live="on"]').waitFor({ timeout: 60_000 });
      await shot(dashboard, `dashboard-logged-in-${size}`);
      await dashboard.getByRole('button', { name: 'Log out' }).click();
      await dashboard.waitForURL(/\/login$/);
      await page.waitForURL(/\/login\?next=/, { timeout: 30_000 });
      assert.equal(new URL(page.url()).searchParams.get('next'), `/workers/${id}`);
      // And the session is over: the dashboard asks for the password again.
      await dashboard.goto(`${BASE}/`);
      assert.equal(new URL(dashboard.url()).pathname, '/login');
      assert.deepEqual([...errors, ...dashboardErrors].filter((e) => !/401|Unauthorized/.test(e)), [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${id}`);
    }
  });
}
