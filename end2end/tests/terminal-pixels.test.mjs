// The terminal's text as the screen shows it, in pixels: with WebGL at device pixel ratios 1, 2
// and 3, desktop and phone sizes, and after the ratio changes on a live page (the window moved
// to another screen, browser zoom); the phone's font size buttons (more columns, kept across a
// reload). The other tests read the terminal's text from the DOM renderer, which says nothing
// about what WebGL draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, newPage, openTerminal, shot } from './farm.mjs';
import { decodePng } from './png.mjs';

const DESKTOP = { viewport: { width: 1440, height: 900 } };
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const WORKER = 'pixels';
// The ratio of the screen a desktop window at each ratio moves to: from 2 to 3, cells that are
// whole device pixels leave room for fewer columns in the same window. (Not from 3 to 1: the
// emulated ratio changes, but Chromium 156 fires no media query change for it.)
const MOVES = { 1: 2, 2: 3, 3: 2 };

test('text is drawn at every device pixel ratio, and the phone can shrink it', async () => {
  assert.equal(await api('POST', '/api/workers', { name: 'Pixels' }), 201);
  const browser = await launchBrowser({ webgl: true });
  try {
    for (const [name, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
      for (const ratio of [1, 2, 3]) {
        const page = await open(browser, { ...size, deviceScaleFactor: ratio });
        const errors = watchErrors(page);
        const seen = await seeLine(page, `${name}-${ratio}`, screenOf(page));
        console.log(`${name} at ratio ${ratio}: ${report(seen)}`);
        assert.ok(drawn(seen), `${name} at ratio ${ratio}: the line is not drawn (${report(seen)})`);

        if (name === 'desktop') {
          if (ratio === 2) {
            await showText(page, 'text-desktop');
            await shot(page, 'terminal-pixels-desktop-dpr2');
          }
          // The live page's ratio changes, set through the DevTools protocol (Playwright
          // would put its own metrics back for its screenshots, so these are taken the same
          // way). First the window moves to a screen of another density, at the same size...
          const cdp = await page.context().newCDPSession(page);
          const moved = MOVES[ratio];
          await changeMetrics(page, cdp, { ...DESKTOP.viewport, deviceScaleFactor: moved });
          const there = await seeLine(page, `moved-${ratio}`, cdpScreenOf(page, cdp));
          console.log(`desktop moved from ratio ${ratio} to ${moved}: ${report(there)}`);
          assert.ok(drawn(there), `desktop moved to ${moved}: the line is not drawn (${report(there)})`);
          await assertFits(page);
          // ... then the browser zooms to 150%: the ratio grows by half, the window holds
          // fewer CSS pixels.
          const zoom = moved * 1.5;
          await changeMetrics(page, cdp, { width: 960, height: 600, deviceScaleFactor: zoom });
          const zoomed = await seeLine(page, `zoom-${ratio}`, cdpScreenOf(page, cdp));
          console.log(`desktop zoomed from ratio ${moved} to ${zoom}: ${report(zoomed)}`);
          assert.ok(drawn(zoomed), `desktop zoomed to ${zoom}: the line is not drawn (${report(zoomed)})`);
          await assertFits(page);
        }
        if (name === 'phone' && ratio === 3) await fontSize(page, seen.cols);
        assert.deepEqual(errors, [], `console errors on the ${name} page at ratio ${ratio}`);
        await page.context().close();
      }
    }
  } finally {
    await browser.close();
    // The last test file expects a farm without workers.
    await api('DELETE', '/api/workers/pixels');
  }
});

// A−, tapped until the text is 8 px: the phone's 45 to 47 columns (cells are whole device
// pixels) become about 80, the terminal and tmux agree on them, the text is still drawn, and a
// reload keeps the size.
async function fontSize(page, columns) {
  assert.ok(columns < 50, `${columns} columns on a 390 px phone at the default size`);
  for (let size = 14; size > 8; size--) {
    await page.getByRole('button', { name: 'Smaller text' }).tap();
  }
  // The new size reaches tmux through the terminal's resize message: ask until it has.
  let smaller;
  for (let attempt = 0, deadline = Date.now() + 60_000; !(smaller?.cols > columns); attempt++) {
    assert.ok(Date.now() < deadline, `still ${smaller?.cols} columns`);
    smaller = await seeLine(page, `small-${attempt}`, screenOf(page));
  }
  console.log(`phone at ratio 3, 8 px: ${report(smaller)}`);
  assert.ok(smaller.cols >= 78, `${smaller.cols} columns at 8 px`);
  assert.ok(drawn(smaller), `8 px text is not drawn (${report(smaller)})`);
  await showText(page, 'text-phone');
  await shot(page, 'terminal-pixels-phone-dpr3');

  assert.equal(await page.evaluate(() => localStorage.getItem('terminal-font-size')), '8');
  await page.reload();
  await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
  const reloaded = await seeLine(page, 'reloaded', screenOf(page));
  assert.equal(reloaded.cols, smaller.cols, 'the size after a reload');
  assert.ok(drawn(reloaded), `8 px text is not drawn after a reload (${report(reloaded)})`);
}

// Changes the window's size and ratio through the DevTools protocol, and waits until the page
// has taken the new ratio in: a media query made here fires after the terminal's own (they fire
// in the order they were made). Headless Chromium evaluates them when it draws, which a
// screenshot makes it do.
async function changeMetrics(page, cdp, { width, height, deviceScaleFactor }) {
  await page.evaluate(() => {
    window.ratioChanged = false;
    matchMedia(`(resolution: ${devicePixelRatio}dppx)`)
      .addEventListener('change', () => { window.ratioChanged = true; }, { once: true });
  });
  await cdp.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor, mobile: false });
  for (let deadline = Date.now() + 30_000; !await page.evaluate(() => window.ratioChanged);) {
    assert.ok(Date.now() < deadline, `the page never took ratio ${deviceScaleFactor} in`);
    await cdp.send('Page.captureScreenshot', { format: 'png' });
  }
}

// The terminal's cells fit inside its box (a terminal left with the columns of another ratio
// runs past its right edge).
async function assertFits(page) {
  const { box, cells } = await page.locator('.term-host').evaluate((host) => {
    const style = getComputedStyle(host);
    return {
      box: host.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight),
      cells: host.querySelector('.xterm-screen').getBoundingClientRect().width,
    };
  });
  assert.ok(cells <= box, `cells ${cells} px wide in a box of ${box} px`);
}

async function open(browser, options) {
  const page = await newPage(browser, { colorScheme: 'dark', ...options });
  await openTerminal(page, WORKER);
  assert.equal(await page.locator('.term-host').getAttribute('data-renderer'), 'webgl');
  return page;
}

// Clears the screen, prints a row of full blocks (U+2588, typed as octal UTF-8) in bright
// white across the whole width of the top row, and waits for the screen to show it, or gives
// up after a while (a bound for failing, not a pace).
async function seeLine(page, tag, screen) {
  const [cols, rows] = await run(page, tag,
    "clear; printf '\\033[97m'; printf '\\342\\226\\210%.0s' $(seq $(tput cols)); printf '\\033[0m\\n'");
  let seen;
  for (let deadline = Date.now() + 20_000; !(seen && drawn(seen)) && Date.now() < deadline;) {
    seen = measure(await screen(), rows);
  }
  return { ...seen, cols, rows };
}

// Some text for a screenshot: a ruler of 80 columns, then a listing.
async function showText(page, tag) {
  await run(page, tag, "clear; printf '%.0s1234567890' $(seq 8); echo; ls -l /etc | head -n 60");
}

// Runs `commands`, then sets the title to `tag` and the columns and rows the shell sees, and
// returns those once the page's title shows them (tmux may draw the output before on the screen
// a moment later). The shell may drop what is typed while it is busy, so the line is typed
// again until it answers.
async function run(page, tag, commands) {
  const line = `${commands}; printf '\\033]2;${tag} %s %s\\007' $(tput cols) $(tput lines)`;
  for (let deadline = Date.now() + 60_000; Date.now() < deadline;) {
    await page.locator('.term-host').click();
    await page.keyboard.type(line);
    await page.keyboard.press('Enter');
    const size = await page
      .waitForFunction((tag) => document.title.match(new RegExp(`${tag} (\\d+) (\\d+)`))?.slice(1).map(Number),
        tag, { timeout: 5_000 })
      .then((answer) => answer.jsonValue(), () => undefined);
    if (size) return size;
  }
  throw new Error(`the shell never answered ${tag}`);
}

// The terminal's screen (its cells, without the padding around them) at the page's own
// device pixel ratio.
function screenOf(page) {
  return () => page.locator('.term-host .xterm-screen').screenshot();
}

function cdpScreenOf(page, cdp) {
  return async () => {
    const box = await page.locator('.term-host .xterm-screen').boundingBox();
    const { data } = await cdp.send('Page.captureScreenshot', { format: 'png', clip: { ...box, scale: 1 } });
    return Buffer.from(data, 'base64');
  };
}

// The screenshot's bright white pixels (`bright`), and its pixel rows that are bright across
// at least 3/4 of the width (`lines`: a row of blocks, which may leave a dark pixel between
// two cells; a line drawn at the wrong scale covers half the width or less), `top` of them in
// the first cell row, where the line is.
function measure(png, rows) {
  const { width, height, channels, pixels } = decodePng(png);
  const cell = height / rows;
  let bright = 0;
  let lines = 0;
  let top = 0;
  for (let y = 0; y < height; y++) {
    let inRow = 0;
    for (let at = y * width * channels; at < (y + 1) * width * channels; at += channels) {
      if (pixels[at] > 200 && pixels[at + 1] > 200 && pixels[at + 2] > 200) inRow++;
    }
    bright += inRow;
    if (inRow >= 0.75 * width) {
      lines++;
      if (y < cell) top++;
    }
  }
  return { width, height, cell, bright, lines, top };
}

// The line fills its cell row, where it was printed, and only there.
function drawn(seen) {
  return seen.top >= 0.8 * seen.cell && seen.lines === seen.top;
}

function report({ width, height, cols, rows, cell, bright, lines, top }) {
  return `${cols}x${rows} cells in ${width}x${height} px (cell ${cell.toFixed(1)} px high), `
    + `${bright} bright pixels, ${lines} bright rows, ${top} in the line's cell row`;
}
