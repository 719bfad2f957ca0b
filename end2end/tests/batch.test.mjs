// Several workers at once in headless Chromium: their terminals in the multi view with live
// CPU and memory gauges (from Docker's stats), then, selected on the dashboard, one prompt
// typed into both (it shows in both tiles), a restart and a delete together, each worker
// with its own result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, openDashboard, shot, newPage } from './farm.mjs';

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }],
]) {
  test(`gauges and actions on several workers at ${size} size`, async () => {
    const ids = [`batch-${size}-one`, `batch-${size}-two`];
    for (const id of ids) assert.equal(await api('POST', '/api/workers', { name: id }), 201);
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      const page = await newPage(browser, { colorScheme: 'dark', viewport: box, isMobile, hasTouch });
      const errors = watchErrors(page);
      await openDashboard(page);
      // Both terminals open (their tmux sessions start) in the multi view.
      await page.getByRole('button', { name: 'Multi view' }).click();
      for (const id of ids) await page.locator(`[data-worker="${id}"] .worker-head`).click();
      for (const id of ids) {
        await page.locator(`[data-tile="${id}"] .badge.conn-connected`).waitFor({ timeout: 60_000 });
        // Live gauges on the tile and on the card.
        const gauge = page.locator(`[data-tile="${id}"] .gauge`);
        await gauge.waitFor({ timeout: 30_000 });
        assert.match(await gauge.textContent(), /CPU [\d.]+% · \d+ \/ 2048 MiB/);
        await page.locator(`[data-worker="${id}"] .gauge`).waitFor();
      }

      await page.getByRole('button', { name: 'Select' }).click();
      for (const id of ids) await page.getByRole('checkbox', { name: `Select ${id}` }).check();
      await page.getByText('2 workers selected').waitFor();
      await page.getByRole('textbox', { name: 'Prompt' }).fill('echo to-all-$((6*7))');
      await page.getByRole('button', { name: 'Send' }).click();
      for (const id of ids) {
        await page.locator(`.batch-results [data-worker="${id}"][data-result="ok"]`).getByText('sent').waitFor({ timeout: 30_000 });
        await page.waitForFunction((id) => document.querySelector(`[data-tile="${id}"] .xterm-rows`)?.textContent.includes('to-all-42'), id);
      }
      await shot(page, `batch-prompt-${size}`, { fullPage: true });

      await page.locator('.batch-panel').getByRole('button', { name: 'Restart' }).click();
      for (const id of ids) {
        await page.locator(`.batch-results [data-worker="${id}"][data-result="ok"]`).getByText('restarted').waitFor({ timeout: 60_000 });
      }
      const del = page.locator('.batch-panel').getByRole('button', { name: 'Delete' });
      await del.click();
      await page.locator('.batch-panel').getByRole('button', { name: 'Really delete?' }).click();
      for (const id of ids) await page.locator(`[data-worker="${id}"].worker-card`).waitFor({ state: 'detached', timeout: 60_000 });
      await page.getByText('Select workers with their boxes.').waitFor();
      assert.deepEqual(errors.filter((e) => !/WebSocket|1006/.test(e)), [], 'console errors');
    } finally {
      await browser.close();
      for (const id of ids) await api('DELETE', `/api/workers/${id}`);
    }
  });
}
