// The single view: one worker's terminal with its name, status and a switcher; switching to
// another worker and back finds each session as it was. Desktop and phone size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { BASE, api, openTerminal, shot, typeAndSee, newPage } from './farm.mjs';

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844 }],
]) {
  test(`single view switching at ${size} size`, async () => {
    const [one, two] = [`single-${size}-one`, `single-${size}-two`];
    assert.equal(await api('POST', '/api/workers', { name: one }), 201);
    assert.equal(await api('POST', '/api/workers', { name: two }), 201);
    const browser = await launchBrowser();
    try {
      const page = await newPage(browser, { colorScheme: 'dark', viewport, isMobile: size === 'phone', hasTouch: size === 'phone' });
      const errors = watchErrors(page);
      await openTerminal(page, one);
      await page.locator('.badge.worker-status.status-running').waitFor({ state: 'attached' });
      await typeAndSee(page, 'echo first-$((3*3))', 'first-9');

      await page.getByLabel('Worker', { exact: true }).selectOption(two);
      await page.waitForURL(`${BASE}/workers/${two}`);
      await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await typeAndSee(page, 'echo second-$((4*4))', 'second-16');
      assert.ok(!(await page.locator('.xterm-rows').textContent()).includes('first-9'));
      await shot(page, `single-view-${size}`);

      // Back to the first: tmux shows its session as it was left.
      await page.getByLabel('Worker', { exact: true }).selectOption(one);
      await page.waitForURL(`${BASE}/workers/${one}`);
      await page.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('first-9'),
        null, { timeout: 60_000 });
      // Its status follows Docker live: a restart shows up without a reload.
      assert.equal(await api('POST', `/api/workers/${one}/restart`), 200);
      await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await page.locator('.badge.worker-status.status-running').waitFor({ state: 'attached', timeout: 60_000 });
      assert.deepEqual(errors, [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${one}`);
      await api('DELETE', `/api/workers/${two}`);
    }
  });
}
