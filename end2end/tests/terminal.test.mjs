// In headless Chromium: create a worker from the dashboard, open its terminal, type a
// command and see its output; screenshots at desktop and phone size. The server is started
// by scripts/e2e.sh, which passes its address in FARM_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { BASE, api, openDashboard, shot, typeAndSee, newPage } from './farm.mjs';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

test('create a worker from the dashboard and use its terminal', async () => {
  assert.ok(BASE, 'FARM_URL must name the dashboard (scripts/e2e.sh sets it)');
  const browser = await launchBrowser();
  let page;
  try {
    page = await newPage(browser, { colorScheme: 'dark', viewport: DESKTOP });
    const errors = watchErrors(page);

    await openDashboard(page);
    await page.getByPlaceholder('My Worker').fill('E2E Worker');
    await page.getByRole('button', { name: 'Create worker' }).click();
    const card = page.locator('[data-worker="e2e-worker"]');
    await card.waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: 'Create worker' }).waitFor();
    await card.locator('.status-running').waitFor({ timeout: 60_000 });
    await card.getByText('created just now').waitFor();
    await shot(page, 'dashboard-desktop');

    // The form checks as you type, with the server's own rules: a taken name, a bad URL.
    const submit = page.getByRole('button', { name: 'Create worker' });
    await page.getByPlaceholder('My Worker').fill('e2e worker');
    await page.getByText("a worker with id 'e2e-worker' already exists").waitFor();
    assert.ok(await submit.isDisabled());
    await page.getByPlaceholder('My Worker').fill('Another One');
    await page.getByText('Its id will be another-one').waitFor();
    await page.getByPlaceholder('https://github.com/user/repo.git').fill('file:///etc/passwd');
    await page.locator('.form-error', { hasText: 'unsupported git URL' }).waitFor();
    assert.ok(await submit.isDisabled());
    await shot(page, 'dashboard-form-check-desktop');
    await page.emulateMedia({ colorScheme: 'light' });
    await shot(page, 'dashboard-form-check-light-desktop');
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.getByPlaceholder('https://github.com/user/repo.git').fill('');
    await page.getByPlaceholder('My Worker').fill('');
    assert.ok(await submit.isEnabled());

    await card.getByRole('link', { name: 'Open terminal' }).click();
    await page.waitForURL(`${BASE}/workers/e2e-worker`);
    await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    // 6*7 is worked out by the shell, so only the command's output can contain 42.
    await typeAndSee(page, 'echo e2e-$((6*7))-ok', 'e2e-42-ok');
    await shot(page, 'terminal-desktop');

    // The same session from a phone-sized tab: tmux shows what was typed before.
    const phone = await newPage(browser, { colorScheme: 'dark',
      viewport: PHONE,
      isMobile: true,
      hasTouch: true,
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const phoneErrors = watchErrors(phone);
    await phone.goto(`${BASE}/workers/e2e-worker`, { waitUntil: 'networkidle' });
    await phone.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    await typeAndSee(phone, 'echo phone-$((6*7))', 'phone-42');
    // The key bar sends what a phone keyboard lacks: Esc reaches the program, and sticky
    // Ctrl + c interrupts it (otherwise cat would swallow the echo below).
    await typeAndSee(phone, 'cat -v', 'cat -v');
    await phone.getByRole('button', { name: 'Esc', exact: true }).tap();
    await phone.keyboard.press('Enter');
    await phone.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('^['));
    await phone.getByRole('button', { name: 'Ctrl', exact: true }).tap();
    await phone.keyboard.type('c');
    await typeAndSee(phone, 'echo keys-$((2*5))', 'keys-10');
    // Paste from the key bar: what the clipboard holds arrives as typed input.
    await phone.evaluate(() => navigator.clipboard.writeText('echo pasted-$((7*7))'));
    await phone.getByRole('button', { name: 'Paste', exact: true }).tap();
    await phone.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('echo pasted-$((7*7))'));
    await phone.keyboard.press('Enter');
    await phone.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('pasted-49'));
    await shot(phone, 'terminal-phone');
    await openDashboard(phone);
    await shot(phone, 'dashboard-phone');

    // The worker restarts under the open page: the terminal reconnects by itself.
    await page.goto(`${BASE}/workers/e2e-worker`);
    await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    // Record every state the indicator shows, however briefly.
    await page.evaluate(() => {
      const badge = document.querySelector('.terminal-bar .badge');
      window.seenStates = [badge.textContent];
      new MutationObserver(() => window.seenStates.push(badge.textContent))
        .observe(badge, { childList: true, characterData: true, subtree: true });
    });
    assert.equal(await api('POST', '/api/workers/e2e-worker/restart'), 200);
    await page.waitForFunction(() => window.seenStates.some((s) => s !== 'connected'));
    await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    await typeAndSee(page, 'echo back-$((4+4))', 'back-8');
    await shot(page, 'terminal-reconnected');
    console.log(`indicator during the restart: ${await page.evaluate(() => window.seenStates.join(' -> '))}`);

    // Restart from the dashboard: a new session that still works.
    await openDashboard(page);
    const restarted = page.waitForResponse((r) => r.url().includes('/rpc/restart_worker') && r.ok());
    await card.getByRole('button', { name: 'Restart' }).click();
    await restarted;
    await card.getByRole('link', { name: 'Open terminal' }).click();
    await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    await typeAndSee(page, 'echo after-$((2+3))', 'after-5');

    // Delete asks twice, then the card goes.
    await openDashboard(page);
    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Really delete?' }).click();
    await card.waitFor({ state: 'detached', timeout: 60_000 });
    await page.getByText('No workers yet').waitFor();

    // A worker made by a script appears on the open page by itself: no reload, no polling.
    assert.equal(await api('POST', '/api/workers', { name: 'From Script' }), 201);
    await page.locator('[data-worker="from-script"]').waitFor({ timeout: 60_000 });

    // A clone that fails turns the card to "failed" with git's reason, live.
    const broken = { name: 'Broken Clone', git_repo: 'https://127.0.0.1:1/missing.git' };
    assert.equal(await api('POST', '/api/workers', broken), 201);
    const brokenCard = page.locator('[data-worker="broken-clone"]');
    await brokenCard.locator('.badge.status-failed').waitFor({ timeout: 60_000 });
    const reason = await brokenCard.locator('.worker-detail').textContent();
    assert.match(reason, /could not be cloned: fatal: unable to access/);
    await shot(page, 'dashboard-failed-desktop');
    await openDashboard(phone);
    await phone.locator('[data-worker="broken-clone"] .badge.status-failed').waitFor();
    await shot(phone, 'dashboard-failed-phone');

    assert.deepEqual(errors, [], 'console errors on the desktop page');
    assert.deepEqual(phoneErrors, [], 'console errors on the phone page');
  } catch (e) {
    if (page) await shot(page, 'failure');
    throw e;
  } finally {
    await browser.close();
  }
});
