// Presets and a worker's secrets in headless Chromium: a preset saved from the Presets panel,
// a worker created from it with a secret typed into the form (the form checks a bad line as
// it is typed), the worker's variables and secret names in the API, the secret nowhere in
// the page afterwards, and the preset deleted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, watchErrors } from './browser.mjs';
import { api, BASE, openDashboard, shot, newPage, token } from './farm.mjs';

async function worker(id) {
  const response = await fetch(`${BASE}/api/workers/${id}`, { headers: { authorization: `Bearer ${await token()}` } });
  return response.json();
}

for (const [size, viewport] of [
  ['desktop', { width: 1440, height: 900 }],
  ['phone', { width: 390, height: 844, isMobile: true, hasTouch: true }],
]) {
  test(`presets and secrets from the page at ${size} size`, async () => {
    const preset = `sec-e2e-${size}`;
    const id = `sec-e2e-worker-${size}`;
    const secret = `ghp_e2e${Math.random().toString(16).slice(2)}`;
    const browser = await launchBrowser();
    try {
      const { isMobile, hasTouch, ...box } = viewport;
      const page = await newPage(browser, { colorScheme: 'dark', viewport: box, isMobile, hasTouch });
      const errors = watchErrors(page);
      await openDashboard(page);

      const panel = page.locator('.presets-panel');
      await panel.locator('summary').click();
      await panel.getByLabel('Preset name', { exact: true }).fill(preset);
      await panel.getByLabel('Environment (NAME=value a line; no secrets)').fill('RUST_LOG=info');
      await panel.getByLabel('Model', { exact: true }).fill('sonnet');
      await panel.getByLabel('Permission mode').selectOption('plan');
      await panel.getByRole('button', { name: 'Save preset' }).click();
      await panel.locator(`[data-preset="${preset}"]`).waitFor({ timeout: 30_000 });

      const form = page.locator('.create-panel > .create-form');
      await form.getByLabel('Name', { exact: true }).fill(id);
      await form.locator('select[name="options[preset]"]').selectOption(preset);
      await form.locator('.create-more summary').click();
      const secrets = form.getByLabel('Secrets (NAME=value a line, never shown)');
      // A line that is not NAME=value is refused as it is typed.
      await secrets.fill('just-a-token');
      await page.locator('.create-panel .form-error').getByText('NAME=value').waitFor();
      assert.ok(await form.getByRole('button', { name: 'Create worker' }).isDisabled());
      await secrets.fill(`GH_TOKEN=${secret}`);
      await shot(page, `presets-form-${size}`, { fullPage: true });
      await form.getByRole('button', { name: 'Create worker' }).click();
      await page.locator(`[data-worker="${id}"].worker-card`).waitFor({ timeout: 60_000 });

      const made = await worker(id);
      assert.deepEqual(made.env, { RUST_LOG: 'info' });
      assert.deepEqual(made.secrets, ['GH_TOKEN']);
      assert.equal(made.model, 'sonnet');
      assert.equal(made.permission_mode, 'plan');
      // The form emptied; the secret is nowhere in the page, as rendered or as served.
      await page.waitForFunction(() => document.querySelector('textarea[name="options[secrets]"]').value === '');
      assert.ok(!(await page.content()).includes(secret), 'the secret is in the page');
      const served = await (await fetch(`${BASE}/`, { headers: { authorization: `Bearer ${await token()}` } })).text();
      assert.ok(!served.includes(secret) && served.includes(id), 'the secret is in the served page');

      await panel.locator(`[data-preset="${preset}"]`).getByRole('button', { name: 'Delete' }).click();
      await panel.locator(`[data-preset="${preset}"]`).waitFor({ state: 'detached', timeout: 30_000 });
      assert.deepEqual(errors, [], 'console errors');
    } finally {
      await browser.close();
      await api('DELETE', `/api/workers/${id}`);
      await api('DELETE', `/api/presets/${preset}`);
    }
  });
}
