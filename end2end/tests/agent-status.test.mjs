// The agent's status in headless Chromium, driven by the worker's hook run exactly as
// Claude Code runs it (the documented JSON on standard input, inside the real worker): the
// card, the single view and the page title follow each hook; a browser notification (the
// permission granted by the test) says which worker needs the user and what it asks; the
// "Needs me" filter keeps only the workers waiting; clicking the notification opens the
// worker. The test image has no Claude Code: a program started as `claude` stands in for
// it in the pane.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, BASE, newPage, openDashboard, shot, typeAndSee } from './farm.mjs';

function fireHook(id, event, fields = {}) {
  const input = {
    session_id: '0d4f8a52-7c1e-4f55-b2c4-8f2a9e6d1b37',
    transcript_path: '/home/worker/.claude/projects/-home-worker/0d4f8a52.jsonl',
    cwd: '/home/worker',
    permission_mode: 'default',
    hook_event_name: event,
    ...fields,
  };
  const out = execFileSync('docker', ['exec', '-i', `claude-worker-${id}`, '/usr/local/bin/claude-worker-agent-hook'], {
    input: JSON.stringify(input),
  });
  assert.equal(out.length, 0, 'the hook printed something');
}

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }],
]) {
  test(`agent status and notifications at ${size} size`, async () => {
    const id = `agent-${size}`;
    const other = `quiet-${size}`;
    assert.equal(await api('POST', '/api/workers', { name: id }), 201);
    assert.equal(await api('POST', '/api/workers', { name: other }), 201);
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      const dashboard = await newPage(browser, { colorScheme: 'dark', viewport: box, isMobile, hasTouch });
      const context = dashboard.context();
      await context.grantPermissions(['notifications'], { origin: BASE });
      // Every notification the pages show is also noted, so that the test can read it.
      await context.addInitScript(() => {
        const Shown = window.Notification;
        window.notified = [];
        window.shownNotifications = [];
        window.Notification = class extends Shown {
          constructor(title, options) {
            super(title, options);
            window.notified.push({ title, body: options?.body ?? '' });
            window.shownNotifications.push(this);
          }
        };
      });
      const errors = watchErrors(dashboard);
      await openDashboard(dashboard);
      assert.equal(await dashboard.getByRole('button', { name: 'Notify' }).getAttribute('aria-pressed'), 'true');

      // The worker's terminal in a second page, where "Claude Code" starts.
      const single = await context.newPage();
      const singleErrors = watchErrors(single);
      await single.goto(`${BASE}/workers/${id}`);
      await single.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await typeAndSee(single, "bash -c 'exec -a claude sleep 600'", 'exec -a claude');
      const card = dashboard.locator(`[data-worker="${id}"]`);

      const steps = [
        ['SessionStart', { source: 'startup', model: 'claude-sonnet-4-5' }, 'idle'],
        ['UserPromptSubmit', { prompt: 'fix the failing test' }, 'working'],
        ['PreToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' } }, 'working'],
        ['Notification', { message: 'Claude needs your permission to use Bash', notification_type: 'permission_prompt' }, 'needs-input'],
      ];
      for (const [event, fields, state] of steps) {
        const fired = Date.now();
        fireHook(id, event, fields);
        await card.locator(`[data-agent="${state}"]`).waitFor({ timeout: 30_000 });
        console.log(`${event} -> ${state} on the card in ${Date.now() - fired} ms`);
      }
      await card.getByText('Claude needs your permission to use Bash').waitFor();
      await single.locator(`.terminal-bar [data-agent="needs-input"]`).waitFor();
      assert.match(await dashboard.title(), /^\(1\) Claude Worker Farm$/);
      assert.match(await single.title(), /^\(1\) /);

      // The dashboard's notification; the page showing that worker's terminal stays quiet.
      await dashboard.waitForFunction(() => window.notified.length > 0);
      assert.deepEqual(await dashboard.evaluate(() => window.notified), [
        { title: `${id} needs you`, body: 'Claude needs your permission to use Bash' },
      ]);
      assert.deepEqual(await single.evaluate(() => window.notified), []);
      await shot(dashboard, `agent-needs-input-${size}`);
      await shot(single, `agent-single-view-${size}`);

      // "Needs me" keeps only the waiting worker.
      await dashboard.getByRole('button', { name: /Needs me/ }).click();
      await dashboard.locator(`[data-worker="${other}"]`).waitFor({ state: 'detached' });
      await card.waitFor();
      await dashboard.getByRole('button', { name: /Needs me/ }).click();
      await dashboard.locator(`[data-worker="${other}"]`).waitFor();

      // Finished: idle with its last line, and a second notification.
      fireHook(id, 'PostToolUse', { tool_name: 'Bash', tool_input: { command: 'npm test' }, tool_response: {} });
      await card.locator('[data-agent="working"]').waitFor({ timeout: 30_000 });
      fireHook(id, 'Stop', { stop_hook_active: false, last_assistant_message: 'Fixed it: the test passes now.' });
      await card.locator('[data-agent="idle"]').waitFor({ timeout: 30_000 });
      await card.getByText('Fixed it: the test passes now.').waitFor();
      await dashboard.waitForFunction(() => window.notified.length > 1);
      assert.deepEqual((await dashboard.evaluate(() => window.notified))[1], {
        title: `${id} finished`, body: 'Fixed it: the test passes now.',
      });
      await shot(dashboard, `agent-idle-${size}`);

      // Clicking the notification opens that worker's terminal.
      await dashboard.evaluate(() => window.shownNotifications[0].onclick());
      await dashboard.waitForURL(`${BASE}/workers/${id}`);
      await dashboard.locator('.badge.conn-connected').waitFor({ timeout: 60_000 });
      await dashboard.goto(`${BASE}/`);
      await dashboard.locator('[data-live="on"]').waitFor({ timeout: 60_000 });

      // Claude Code quits: its last hook, then its process ends.
      fireHook(id, 'SessionEnd', { reason: 'prompt_input_exit' });
      await single.locator('.term-host').click();
      await single.keyboard.press('Control+C');
      await card.locator('[data-agent="no-agent"]').waitFor({ timeout: 30_000 });
      assert.equal(await dashboard.title(), 'Claude Worker Farm');
      assert.deepEqual([...errors, ...singleErrors], [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${id}`);
      await api('DELETE', `/api/workers/${other}`);
    }
  });
}
