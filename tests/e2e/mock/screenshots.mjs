// Development aid, not a test: drives Chromium through every page of the web
// client against the mock gateway (server.mjs) and saves screenshots to
// $WR_MOCK_SHOTS (default /tmp/wr-mock-shots) for a human to look at.
//
//   (cd web && npm run build) && node tests/e2e/mock/screenshots.mjs

import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const OUT = process.env.WR_MOCK_SHOTS || '/tmp/wr-mock-shots';

const server = spawn(process.execPath, [path.join(here, 'server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = await new Promise((resolve) => {
  server.stdout.on('data', (c) => {
    const m = /on (http:\/\/\S+)/.exec(c.toString());
    if (m) resolve(m[1]);
  });
});

await fsp.rm(OUT, { recursive: true, force: true });
await fsp.mkdir(OUT, { recursive: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: false, args: CHROMIUM_ARGS, env: { ...process.env, DISPLAY: '' } });
const problems = [];
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 820 } });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`[${m.type()}] ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`[pageerror] ${e.message}`));
  const shot = async (name, full = false) => {
    await page.waitForTimeout(250);
    await page.screenshot({ path: path.join(OUT, name + '.png'), fullPage: full });
    console.log('saved', name);
  };
  const signIn = async (user, pw) => {
    await page.fill('input[name="username"]', user);
    await page.fill('input[name="password"]', pw);
    await page.click('button[type="submit"]');
  };

  await page.goto(base + '/');
  await page.locator('input[name="username"]').waitFor();
  await shot('m01-login');
  await page.goto(base + '/#/login?error=sso');
  await page.reload();
  await page.locator('[data-testid="login-error"]').waitFor();
  await shot('m02-login-sso-error');

  await signIn('alice', 'alice-pass');
  await page.locator('input[name="totp"]').waitFor();
  await shot('m03-login-totp');
  await page.fill('input[name="totp"]', '000000');
  await page.click('button[type="submit"]');
  await page.locator('[data-testid="login-error"]').waitFor();
  await shot('m04-login-totp-invalid');
  await page.click('[data-testid="switch-second-factor"]');
  await shot('m05-login-recovery');
  await page.fill('input[name="recovery"]', 'abcde-12345');
  await page.click('button[type="submit"]');
  await page.locator('[data-agent]').first().waitFor();
  await shot('m06-machines-alice');
  await page.click('[data-agent="reception-01"] [data-testid="connect"]');
  await page.locator('[data-testid="reason-dialog"]').waitFor();
  await page.fill('textarea[name="reason"]', 'INC-4821: receipt printer stuck');
  await shot('m07-reason-dialog');
  await page.keyboard.press('Escape');
  await page.goto(base + '/#/admin/users');
  await shot('m08-admin-forbidden');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('input[name="username"]').waitFor();

  await signIn('admin', 'admin-pass');
  await page.locator('[data-agent]').first().waitFor();
  await shot('m10-machines-admin');
  // Reload: the refresh cookie restores the session.
  await page.reload();
  await page.locator('[data-agent]').first().waitFor();

  await page.click('[data-testid="nav-account"]');
  await page.locator('[data-testid="totp-setup"]').waitFor();
  await shot('m11-account', true);
  await page.click('[data-testid="totp-setup"]');
  await page.locator('[data-testid="totp-qr"]').waitFor();
  await shot('m12-account-totp-setup', true);
  await page.fill('input[name="totp-enable-code"]', '123456');
  await page.click('[data-testid="totp-enable"]');
  await page.locator('[data-testid="recovery-codes"]').waitFor();
  await shot('m13-account-recovery-codes', true);
  await page.click('[data-testid="recovery-done"]');
  await page.click('[data-testid="token-new"]');
  await page.fill('input[name="token-name"]', 'ci-deploy');
  await shot('m14-account-new-token');
  await page.click('[data-testid="token-dialog"] button[type="submit"]');
  await page.locator('[data-testid="token-created"]').waitFor();
  await shot('m15-account-token-created', true);

  await page.click('[data-testid="nav-admin"]');
  await page.locator('[data-user="alice"]').waitFor();
  await shot('m20-admin-users');
  await page.click('[data-testid="user-new"]');
  await page.fill('input[name="new-user-name"]', 'dave');
  await page.fill('input[name="new-user-display-name"]', 'Dave Support');
  await page.fill('input[name="new-user-password"]', 'short');
  await page.click('[data-testid="user-dialog"] button[type="submit"]');
  await shot('m21-admin-new-user-error');
  await page.fill('input[name="new-user-password"]', 'dave-password-1');
  await page.click('[data-testid="user-dialog"] button[type="submit"]');
  await page.locator('[data-user="dave"]').waitFor();
  await page.click('[data-user="dave"] >> text=Delete');
  await shot('m22-admin-delete-confirm');
  await page.keyboard.press('Escape');

  await page.click('[data-testid="tab-roles"]');
  await page.locator('[data-role="viewer"]').waitFor();
  await shot('m30-admin-roles');
  await page.click('[data-role="helpdesk"] >> text=Edit');
  await shot('m31-admin-role-edit');
  await page.keyboard.press('Escape');
  await page.click('[data-role="helpdesk"] >> text=Delete');
  await page.click('[data-testid="confirm-dialog"] button[type="submit"]');
  await page.waitForTimeout(200);
  await shot('m32-admin-role-in-use');
  await page.keyboard.press('Escape');

  await page.click('[data-testid="tab-groups"]');
  await page.locator('[data-group="kiosks"]').waitFor();
  await page.locator('[data-agent-row="lab-ws-7"]').waitFor();
  await shot('m40-admin-groups', true);
  await page.selectOption('select[name="agent-group-lab-ws-7"]', 'kiosks');
  await page.click('[data-testid="reason-lab"]');
  await page.waitForTimeout(300);
  await shot('m41-admin-groups-changed', true);

  await page.click('[data-testid="tab-grants"]');
  await page.locator('[data-grant="2"]').waitFor();
  await shot('m50-admin-grants');
  await page.click('[data-testid="grant-new"]');
  await page.selectOption('select[name="grant-subject"]', 'dave');
  await page.selectOption('select[name="grant-group"]', 'lab');
  await shot('m51-admin-new-grant');
  await page.click('[data-testid="grant-dialog"] button[type="submit"]');
  await page.waitForTimeout(300);
  await shot('m52-admin-grant-created');

  await page.setViewportSize({ width: 640, height: 900 });
  await page.click('[data-testid="nav-machines"]');
  await page.locator('[data-agent]').first().waitFor();
  await shot('m60-machines-narrow', true);
} finally {
  await browser.close();
  server.kill();
}
console.log(problems.length ? 'browser problems:\n' + problems.join('\n') : 'no browser errors');
console.log('screenshots in', OUT);
