// The terminal beyond typing, in headless Chromium: renderer choice (WebGL where there is
// WebGL, the DOM renderer otherwise), the copy and paste shortcuts, a program's title and bell
// shown safely as text, and scrolling back with a finger on a phone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, openTerminal, shot, typeAndSee, newPage } from './farm.mjs';

test('renderer, copy and paste, title and bell, touch scrolling', async () => {
  assert.equal(await api('POST', '/api/workers', { name: 'Behaviour' }), 201);
  const browser = await launchBrowser();
  // The same Chromium with a software WebGL, as a machine with a GPU would have.
  const webglBrowser = await launchBrowser({ webgl: true });
  try {
    const page = await newPage(browser, { colorScheme: 'dark',
      viewport: { width: 1280, height: 800 },
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    const errors = watchErrors(page);
    await openTerminal(page, 'behaviour');
    assert.equal(await page.locator('.term-host').getAttribute('data-renderer'), 'dom');

    // Select with Shift + double-click (tmux has the mouse), copy with Ctrl+Shift+C.
    await typeAndSee(page, 'clear; echo copy-me-$((5*5))', 'copy-me-25');
    const row = page.locator('.term-host .xterm-rows > div', { hasText: /^copy-me-25/ });
    const box = await row.boundingBox();
    await page.mouse.move(box.x + 4, box.y + box.height / 2);
    await page.keyboard.down('Shift');
    await page.mouse.dblclick(box.x + 4, box.y + box.height / 2);
    await page.keyboard.up('Shift');
    await page.keyboard.press('Control+Shift+C');
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'copy-me-25');
    // Ctrl+Shift+V pastes it back as input.
    await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((8*8))'));
    await page.keyboard.press('Control+Shift+V');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('pasted-64'));

    // A paste bigger than the proxy takes in one message arrives whole, in pieces.
    await typeAndSee(page, 'clear; stty -icanon -echo; head -c 1100000 | wc -c; stty icanon echo', 'clear;');
    await page.evaluate(() => navigator.clipboard.writeText('y'.repeat(1_100_000)));
    await page.keyboard.press('Control+Shift+V');
    await page.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('1100000'),
      null, { timeout: 60_000 });

    // A title with markup in it is shown as text, on the bar and in the tab's title.
    const title = '<img src=x onerror=window.pwned=1>';
    await page.keyboard.type(`printf '\\033]2;%s\\007' '${title}'`);
    await page.keyboard.press('Enter');
    await page.locator('.term-title', { hasText: title }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('.terminal-bar img').count(), 0);
    assert.ok((await page.title()).startsWith(title), await page.title());
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    // The bell: a count on the bar, no sound.
    await page.keyboard.type("printf '\\a'");
    await page.keyboard.press('Enter');
    await page.locator('.badge.bell').waitFor({ timeout: 10_000 });
    await shot(page, 'terminal-title-bell-desktop');

    // WebGL where the browser has it; what it shows is the same session.
    const webglPage = await newPage(webglBrowser, { colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
    const webglErrors = watchErrors(webglPage);
    await openTerminal(webglPage, 'behaviour');
    assert.equal(await webglPage.locator('.term-host').getAttribute('data-renderer'), 'webgl');
    await webglPage.locator('.term-host').click({ modifiers: ['Shift'] });
    await webglPage.keyboard.type('echo from-webgl-$((9*9))');
    await webglPage.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.term-host .xterm-rows')?.textContent.includes('from-webgl-81'));
    await shot(webglPage, 'terminal-webgl-desktop');

    // A finger dragged down on a phone scrolls back: tmux shows its history position.
    const phone = await newPage(browser, { colorScheme: 'dark', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phoneErrors = watchErrors(phone);
    await openTerminal(phone, 'behaviour');
    await typeAndSee(phone, 'seq 1 300', '300');
    const host = await phone.locator('.term-host').boundingBox();
    const cdp = await phone.context().newCDPSession(phone);
    const x = host.x + host.width / 2;
    const touch = (type, y) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }],
    });
    await touch('touchStart', host.y + 100);
    for (let step = 1; step <= 10; step++) await touch('touchMove', host.y + 100 + step * 30);
    await touch('touchEnd');
    await phone.waitForFunction(() => /\[\d+\/\d+\]/.test(document.querySelector('.term-host .xterm-rows')?.textContent ?? ''),
      null, { timeout: 10_000 });
    await shot(phone, 'terminal-scrollback-phone');
    await phone.keyboard.press('q');

    assert.deepEqual(errors, [], 'console errors on the desktop page');
    assert.deepEqual(webglErrors, [], 'console errors on the WebGL page');
    assert.deepEqual(phoneErrors, [], 'console errors on the phone page');
  } finally {
    await browser.close();
    await webglBrowser.close();
    // The other tests expect an empty farm.
    await api('DELETE', '/api/workers/behaviour');
  }
});
