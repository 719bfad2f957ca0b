// Faults seen from the browser: the dashboard killed and started again under open pages, and
// the browser's network dropped and restored (pages reconnect by themselves, no reload, and
// the terminal's session is the one it was); a worker out of memory (its card says so).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, BASE, newPage, shot, typeAndSee } from './farm.mjs';

// Waits for the terminal's indicator to say `state`.
async function indicator(page, state, timeout = 60_000) {
  await page.locator(`.terminal-bar .badge.conn-${state}`).waitFor({ timeout });
}

test('pages reconnect by themselves when the dashboard is killed and started again', async () => {
  assert.equal(await api('POST', '/api/workers', { name: 'survivor' }), 201);
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
    const errors = watchErrors(page);
    await page.goto(`${BASE}/workers/survivor`);
    await indicator(page, 'connected');
    await typeAndSee(page, 'export MARK=kept-$((40+2))', 'export MARK');
    await page.evaluate(() => { window.notReloaded = true; });
    const dashboard = await page.context().newPage();
    await dashboard.goto(`${BASE}/`);
    await dashboard.locator('[data-live="on"]').waitFor({ timeout: 60_000 });

    process.kill(Number(readFileSync(process.env.FARM_PID_FILE, 'utf8')), 'SIGKILL');
    await indicator(page, 'reconnecting', 30_000);
    await shot(page, 'terminal-reconnecting-desktop');
    // Started again by its supervisor: the page finds it, logged in, on the same session.
    await indicator(page, 'connected');
    assert.equal(await page.evaluate(() => window.notReloaded), true, 'the page was reloaded');
    await typeAndSee(page, 'echo mark-$MARK', 'mark-kept-42');
    await dashboard.locator('[data-live="on"]').waitFor({ timeout: 60_000 });
    await dashboard.locator('[data-worker="survivor"] .badge.status-running').waitFor();
    // Connection errors while the dashboard was away are expected; nothing else.
    assert.deepEqual(errors.filter((e) => !/ERR_CONNECTION_REFUSED|WebSocket|502|503|Failed to load/.test(e)), []);
  } finally {
    await browser.close();
    await api('DELETE', '/api/workers/survivor');
  }
});

test('a terminal reconnects by itself when the network comes back', async () => {
  assert.equal(await api('POST', '/api/workers', { name: 'offline' }), 201);
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await page.goto(`${BASE}/workers/offline`);
    await indicator(page, 'connected');
    await typeAndSee(page, 'echo before-$((1+1))', 'before-2');
    await page.context().setOffline(true);
    await indicator(page, 'reconnecting', 30_000);
    await shot(page, 'terminal-offline-phone');
    await page.context().setOffline(false);
    await indicator(page, 'connected');
    // The same session, its screen as it was, and typing works again.
    await page.waitForFunction(() => document.querySelector('.xterm-rows')?.textContent.includes('before-2'));
    await typeAndSee(page, 'echo after-$((2+2))', 'after-4');
  } finally {
    await browser.close();
    await api('DELETE', '/api/workers/offline');
  }
});

test('a worker out of memory says so on its card, at desktop and phone size', async () => {
  assert.equal(await api('POST', '/api/workers', { name: 'hog', memory_mb: 256 }), 201);
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { colorScheme: 'dark', viewport: { width: 1440, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(`${BASE}/workers/hog`);
    await indicator(page, 'connected');
    // `tail` holds an endless line until the kernel kills it at the worker's limit.
    await typeAndSee(page, 'head -c 2G /dev/zero | tail; echo tail-$((1+1))', 'tail-2');
    await page.goto(`${BASE}/`);
    // The card says so, with the worker's limit.
    await page.locator('[data-worker="hog"]').getByText('Out of memory (limit 256 MiB)').waitFor({ timeout: 30_000 });
    await shot(page, 'dashboard-out-of-memory-desktop');
    const phone = await newPage(browser, { colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    await phone.goto(`${BASE}/`);
    await phone.locator('[data-worker="hog"]').getByText('Out of memory').waitFor({ timeout: 30_000 });
    await shot(phone, 'dashboard-out-of-memory-phone');
    assert.deepEqual(errors, [], 'console errors');
  } finally {
    await browser.close();
    await api('DELETE', '/api/workers/hog');
  }
});
