// What every end-to-end test does with the farm that scripts/with-farm.sh serves: log in,
// call its API, open its pages, type into a terminal until the output shows, keep screenshots.
import path from 'node:path';

export const BASE = process.env.FARM_URL;
export const PASSWORD = process.env.FARM_PASSWORD;
const SHOTS = process.env.SCREENSHOT_DIR;

// A session token from the farm's login API, as a script would get one.
let session;
export async function token() {
  session ??= fetch(`${BASE}/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ password: PASSWORD }),
  }).then(async (response) => {
    if (response.status !== 200) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    return (await response.json()).token;
  });
  return session;
}

// A REST call with the session's bearer token; returns the status and the JSON answer (null
// for none).
export async function apiCall(method, url, body) {
  const response = await fetch(`${BASE}${url}`, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
    body: body && JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

// A REST call; returns the status.
export async function api(method, url, body) {
  return (await apiCall(method, url, body)).status;
}

// A page in a fresh browser context that is logged in (the session cookie set as the login
// form would set it); `loggedIn: false` for one that is not.
export async function newPage(browser, { loggedIn = true, ...options } = {}) {
  const context = await browser.newContext(options);
  if (loggedIn) {
    await context.addCookies([{ name: 'cwf_session', value: await token(), url: BASE, httpOnly: true, sameSite: 'Lax' }]);
  }
  return context.newPage();
}

// The dashboard is hydrated and hears live updates once its badge says so.
export async function openDashboard(page) {
  await page.goto(`${BASE}/`);
  await page.locator('[data-live="on"]').waitFor({ timeout: 60_000 });
}

export async function openTerminal(page, id) {
  await page.goto(`${BASE}/workers/${id}`);
  await page.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
}

// Types a command into the terminal inside `scope` (a CSS selector: the page's only terminal
// by default, or one tile) until its output shows: a shell that is busy (starting, or
// flushing its input after Ctrl-C) may drop the first try.
export async function typeAndSee(page, command, expected, scope = '') {
  const rows = `${scope} .term-host .xterm-rows`.trim();
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    await page.locator(`${scope} .term-host`.trim()).click();
    await page.keyboard.type(command);
    await page.keyboard.press('Enter');
    const seen = await page
      .waitForFunction(([rows, text]) => document.querySelector(rows)?.textContent.includes(text),
        [rows, expected], { timeout: 5_000 })
      .then(() => true, () => false);
    if (seen) return;
  }
  throw new Error(`never saw ${expected} after typing ${command}`);
}

export async function shot(page, name, options = {}) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, ...options });
  console.log(`screenshot: ${file}`);
}
