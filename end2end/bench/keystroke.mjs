// Keystroke to echo in headless Chromium: our terminal page (xterm.js, through the dashboard's
// proxy) against ttyd's own page reached directly on the workers' network, same worker, same
// run. Timed inside each page from the keydown event: to the echo's websocket message, and on
// our page also to the echo drawn in the terminal's rows. Run by scripts/bench.sh.
import { launchBrowser } from '../tests/browser.mjs';
import { api, BASE, newPage } from '../tests/farm.mjs';
import { execFileSync } from 'node:child_process';

const INSTANCE = process.env.FARM_INSTANCE;
const KEYS = Number(process.env.KEYS || 300);
const BLOCK = 50;

// Installed before any page script: timestamps each `x` keydown and the first websocket
// message (and, with rows, the first repaint) that carries its echo.
function instrument() {
  const bench = { pending: null, ws: [], drawn: [] };
  window.__bench = bench;
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'x') return;
    const rows = document.querySelector('.xterm-rows');
    bench.pending = {
      at: performance.now(), ws: false, drawn: false,
      xs: rows ? (rows.textContent.match(/x/g) || []).length : 0,
    };
  }, true);
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (event) => {
        const p = bench.pending;
        if (!p || p.ws) return;
        const data = event.data;
        const hasX = typeof data === 'string'
          ? data.includes('x')
          : data instanceof ArrayBuffer && new Uint8Array(data).includes(0x78);
        if (hasX) { p.ws = true; bench.ws.push(performance.now() - p.at); }
      });
    }
  };
  new MutationObserver(() => {
    const p = bench.pending;
    const rows = document.querySelector('.xterm-rows');
    if (!p || p.drawn || !rows) return;
    if ((rows.textContent.match(/x/g) || []).length > p.xs) {
      p.drawn = true;
      bench.drawn.push(performance.now() - p.at);
    }
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

async function openPage(browser, url, ready, options = {}) {
  const page = await newPage(browser, { viewport: { width: 1280, height: 800 }, ...options });
  await page.addInitScript(instrument);
  await page.goto(url);
  await ready(page);
  return page;
}

// Types `count` x's, waiting for each echo (and its drawing, when `drawn`).
async function type(page, count, drawn) {
  for (let i = 0; i < count; i++) {
    if (i % 40 === 0) {
      await page.keyboard.press('Control+u');
      await page.waitForTimeout(100);
    }
    await page.keyboard.press('x');
    await page.waitForFunction(
      (drawn) => window.__bench.pending?.ws && (!drawn || window.__bench.pending.drawn),
      drawn, { polling: 'raf', timeout: 30_000 },
    );
  }
  await page.keyboard.press('Control+u');
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p) => sorted[Math.round((sorted.length - 1) * p)];
  return { p50: at(0.5), p99: at(0.99), n: sorted.length };
}

const created = await api('POST', '/api/workers', { name: 'keys' });
if (created !== 201) throw new Error(`create: ${created}`);
const ip = execFileSync('docker', ['inspect', '-f',
  `{{(index .NetworkSettings.Networks "${INSTANCE}_workers").IPAddress}}`, 'claude-worker-keys']).toString().trim();
// ttyd asks for the worker's credential (the dashboard's proxy adds it for its own pages).
const credential = execFileSync('docker', ['inspect', '-f', '{{range .Config.Env}}{{println .}}{{end}}', 'claude-worker-keys'])
  .toString().split('\n').find((line) => line.startsWith('TTYD_CREDENTIAL=')).slice('TTYD_CREDENTIAL='.length);
const [username, password] = credential.split(':');

const browser = await launchBrowser();
try {
  const ours = await openPage(browser, `${BASE}/workers/keys`, async (page) => {
    await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
    await page.locator('.term-host').click();
  });
  // ttyd's page draws on a canvas: only its websocket messages can be timed.
  const direct = await openPage(browser, `http://${ip}:7681/`, async (page) => {
    await page.waitForFunction(() => document.querySelector('.xterm'), null, { timeout: 60_000 });
    await page.waitForTimeout(1000);
    await page.locator('.xterm').click();
  }, { httpCredentials: { username, password } });
  await type(ours, BLOCK, true);
  await type(direct, BLOCK, false);
  for (const page of [ours, direct]) await page.evaluate(() => { window.__bench.ws = []; window.__bench.drawn = []; });
  for (let done = 0; done < KEYS; done += BLOCK) {
    await type(direct, BLOCK, false);
    await type(ours, BLOCK, true);
  }
  const oursWs = stats(await ours.evaluate(() => window.__bench.ws));
  const oursDrawn = stats(await ours.evaluate(() => window.__bench.drawn));
  const directWs = stats(await direct.evaluate(() => window.__bench.ws));
  const ms = (v) => `${v.toFixed(2)} ms`;
  console.log(`browser keystroke echo, ${KEYS} keys each, headless Chromium`);
  console.log(`keydown -> echo message: ttyd page direct p50 ${ms(directWs.p50)} p99 ${ms(directWs.p99)}; ` +
    `our page via proxy p50 ${ms(oursWs.p50)} p99 ${ms(oursWs.p99)}; ratio p50 ${(oursWs.p50 / directWs.p50).toFixed(2)}x`);
  console.log(`keydown -> echo drawn in our terminal: p50 ${ms(oursDrawn.p50)} p99 ${ms(oursDrawn.p99)}`);
} finally {
  await browser.close();
}
