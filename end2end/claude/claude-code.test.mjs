// The real Claude Code (the worker image's CLI) in headless Chromium, against the tests'
// scripted model (scripts/with-farm.sh with FARM_CLAUDE=1): started from the terminal page,
// its Bash permission prompt answered there moves the badge from needs-input to working to
// idle; the card and the tile then show its state, its last line and what it spent (the
// tokens the model reported); a question with choices, a usage limit and an API error show on
// the card and the tile as they are. At desktop size (ratio 2) and phone size (ratio 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, watchErrors } from '../tests/browser.mjs';
import { apiCall as api, newPage, openDashboard, openTerminal, shot, typeAndSee } from '../tests/farm.mjs';

const MODEL = process.env.FARM_MODEL_URL;

// Types a prompt into the worker's session as the dashboard's batch prompt does.
async function prompt(id, text) {
  const { status, body } = await api('POST', '/api/workers/batch', { ids: [id], action: 'prompt', text });
  assert.equal(status, 200, JSON.stringify(body));
}

// A key press into the terminal on the page (inside `scope`).
async function press(page, scope, key) {
  await page.locator(`${scope} .term-host`.trim()).click();
  await page.keyboard.press(key);
}

async function screenShows(page, scope, text) {
  const rows = `${scope} .term-host .xterm-rows`.trim();
  await page.waitForFunction(([rows, text]) => document.querySelector(rows)?.textContent.includes(text),
    [rows, text], { timeout: 60_000 });
}

for (const [size, viewport, ratio] of [
  ['desktop', { width: 1440, height: 900 }, 2],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }, 3],
]) {
  test(`the real Claude Code on the terminal page, the card and the tile at ${size} size`, async () => {
    const id = `cc-${size}`;
    // The model serves every test of the run: this worker's share is what it adds from now.
    const before = await (await fetch(`${MODEL}/scripted/usage`)).json();
    assert.equal((await api('POST', '/api/workers', { name: id })).status, 201);
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      const page = await newPage(browser, { colorScheme: 'dark', viewport: box, deviceScaleFactor: ratio, isMobile, hasTouch });
      const errors = watchErrors(page);

      // The terminal page: Claude Code opens at its prompt, its states noted as the badge shows them.
      await openTerminal(page, id);
      await typeAndSee(page, 'claude', 'Claude Code v');
      const badge = page.locator('.terminal-bar .badge.agent');
      await page.locator('.terminal-bar [data-agent="idle"]').waitFor({ timeout: 60_000 });
      await page.evaluate(() => {
        window.agentStates = [];
        const note = () => {
          const state = document.querySelector('.terminal-bar .badge.agent')?.dataset.agent;
          if (state && window.agentStates.at(-1) !== state) window.agentStates.push(state);
        };
        new MutationObserver(note).observe(document.body, {
          subtree: true, childList: true, characterData: true, attributes: true, attributeFilter: ['data-agent'],
        });
        note();
      });

      // A Bash call: Claude Code 2.1's auto-mode notice, then its permission prompt, answered
      // Yes here; the command takes three seconds, so "working" is there to be seen.
      // The prompt, then Enter once Claude Code shows it took the text: an Enter that comes
      // in the same burst reads as part of a paste.
      await page.locator('.term-host').click();
      await page.keyboard.type('[bash: sleep 3 && touch /tmp/e2e-ran] go');
      await screenShows(page, '', 'e2e-ran] go');
      await page.keyboard.press('Enter');
      await page.locator('.terminal-bar [data-agent="needs-input"]').waitFor({ timeout: 60_000 });
      await screenShows(page, '', 'Auto mode');
      await shot(page, `claude-auto-mode-notice-${size}`);
      await press(page, '', 'Enter');
      await screenShows(page, '', 'Do you want to proceed?');
      await page.waitForFunction(() => document.querySelector('.terminal-bar .badge.agent')?.dataset.agent === 'needs-input');
      await shot(page, `claude-permission-prompt-${size}`);
      // One key, then the next once the menu shows it took the first (Claude Code reads two
      // keys in one chunk as one).
      await press(page, '', 'ArrowDown');
      await screenShows(page, '', '❯ Yes');
      await press(page, '', 'Enter');
      await page.waitForFunction(() => window.agentStates.at(-1) === 'idle' && window.agentStates.includes('working'),
        null, { timeout: 60_000 });
      // In that order: a late notification of the answered prompt may add a needs-input on
      // the way, which the screen then overrules.
      const states = await page.evaluate(() => window.agentStates);
      const asked = states.indexOf('needs-input');
      const working = states.indexOf('working', asked);
      assert.ok(asked >= 0 && working > asked && states.indexOf('idle', working) > working, states.join(' → '));
      await page.waitForFunction(() => document.querySelector('.terminal-bar .badge.agent')?.dataset.agent === 'idle');
      assert.equal(await badge.textContent(), 'idle');
      execFileSync('docker', ['exec', `claude-worker-${id}`, 'test', '-e', '/tmp/e2e-ran']);

      // The card: idle with the last line, and the tokens the model reported.
      await openDashboard(page);
      const card = page.locator(`[data-worker="${id}"]`);
      await card.locator('[data-agent="idle"]').waitFor({ timeout: 30_000 });
      await card.locator('.agent-line', { hasText: 'Ran the command.' }).waitFor();
      const now = await (await fetch(`${MODEL}/scripted/usage`)).json();
      const told = {
        input_tokens: now.input_tokens - before.input_tokens,
        output_tokens: now.output_tokens - before.output_tokens,
      };
      const tokens = String(told.input_tokens + told.output_tokens);
      await card.locator(`.usage[data-usage="${tokens}"]`).waitFor({ timeout: 30_000 });
      assert.match(await card.locator('.usage').textContent(), /^\d+(\.\d)?k? tokens · \$0\.\d+$/);
      const worker = (await api('GET', `/api/workers/${id}`)).body;
      assert.equal(worker.usage.input_tokens, told.input_tokens);
      assert.equal(worker.usage.output_tokens, told.output_tokens);
      await shot(page, `claude-card-idle-${size}`);

      // The tile: a question with its words on the tile and the card, answered in the tile.
      await page.getByRole('button', { name: 'Multi view' }).click();
      await card.locator('h3').click();
      const tile = page.locator(`[data-tile="${id}"]`);
      await tile.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await tile.locator('.usage').waitFor();
      await prompt(id, '[ask] pick a colour');
      await tile.locator('[data-agent="needs-input"]').waitFor({ timeout: 60_000 });
      await card.locator('.agent-line', { hasText: 'Which colour should the button be?' }).waitFor();
      await screenShows(page, `[data-tile="${id}"]`, 'Which colour should the button be?');
      await shot(page, `claude-tile-question-${size}`);
      await press(page, `[data-tile="${id}"]`, 'ArrowDown');
      await screenShows(page, `[data-tile="${id}"]`, '❯ 2. Blue');
      await press(page, `[data-tile="${id}"]`, 'Enter');
      await tile.locator('[data-agent="idle"]').waitFor({ timeout: 60_000 });

      // A usage limit, then an API error: each in its own words on the card and the tile.
      await prompt(id, '[limit] now');
      await tile.locator('[data-agent="limited"]').waitFor({ timeout: 60_000 });
      await card.locator('[data-agent="limited"]').waitFor();
      assert.equal(await card.locator('.badge.agent').textContent(), 'limit reached');
      assert.match(await card.locator('.agent-line').textContent(), /usage limit/);
      await shot(page, `claude-limit-${size}`);
      await prompt(id, '[error] now');
      await tile.locator('[data-agent="error"]').waitFor({ timeout: 60_000 });
      assert.equal(await card.locator('.agent-line').textContent(), 'API Error: 400 scripted bad request');
      await shot(page, `claude-api-error-${size}`);

      // Next prompt, next turn.
      await prompt(id, 'hello again');
      await card.locator('[data-agent="idle"]').waitFor({ timeout: 60_000 });
      await card.locator('.agent-line', { hasText: 'Scripted answer: hello again' }).waitFor();
      assert.deepEqual(errors, [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${id}`);
    }
  });
}
