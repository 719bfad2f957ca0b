// Debian's Chromium, headless, quiet on a closed network (its own download never works here).
// Playwright gives every launch a new empty profile.
import { chromium } from 'playwright-core';

// Without WebGL by default, so that the terminal draws with xterm.js's DOM renderer and the
// tests can read its rows; `{ webgl: true }` gives it Chromium's software WebGL.
export async function launchBrowser({ webgl = false } = {}) {
  const graphics = webgl ? ['--use-angle=swiftshader', '--enable-unsafe-swiftshader'] : ['--disable-gpu', '--disable-webgl'];
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: [
      '--no-sandbox', ...graphics, '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
}

// Collects console errors, hydration warnings and uncaught exceptions.
export function watchErrors(page) {
  const errors = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || (m.type() === 'warning' && /hydrat/i.test(m.text()))) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}
