// The browser steps of the identity-and-roles end-to-end test, as functions
// of a Playwright page, so admin.test.mjs runs them against the real gateway
// (and mock/check-admin-steps.mjs, a development aid, against the mock).

import assert from 'node:assert/strict';
import { sleep, waitFor } from './harness.mjs';
import { totp, totpStep } from './totp.mjs';

export const LAB = { id: 'lab-agent', name: 'Lab machine' };
export const OFFICE = { id: 'office-agent', name: 'Office machine' };
export const GROUP = 'lab';
export const VIEWER = 'vera';

/** Waits until a <select> offers `value` (Preact sets option values as
 *  properties, so an [value=...] attribute selector would not match). */
async function waitForOption(select, value) {
  await waitFor(`the option ${value}`, async () => (await select.evaluate((s) => [...s.options].map((o) => o.value))).includes(value), {
    timeout: 10000,
  });
}

export async function signIn(page, username, password) {
  await page.locator('input[name="username"]').waitFor({ timeout: 10000 });
  await page.fill('input[name="username"]', username);
  await page.fill('input[name="password"]', password);
  await page.click('button[type="submit"]');
}

export async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('input[name="username"]').waitFor({ timeout: 10000 });
}

/**
 * Signed in as admin on the machine list: creates the group and moves the
 * lab machine into it, creates the viewer, grants them the built-in viewer
 * role on the group, signs out. ctx: { viewerPassword, screenshot(name) }.
 */
export async function adminCreatesViewer(page, ctx) {
  await page.click('[data-testid="nav-admin"]');
  await page.click('[data-testid="tab-groups"]');
  await page.click('[data-testid="group-new"]');
  await page.fill('input[name="group-name"]', GROUP);
  await page.click('[data-testid="group-dialog"] button[type="submit"]');
  await page.locator(`[data-group="${GROUP}"]`).waitFor({ timeout: 10000 });
  const select = page.locator(`select[name="agent-group-${LAB.id}"]`);
  await waitForOption(select, GROUP);
  await select.selectOption(GROUP);
  await page.getByText(`is now in ${GROUP}`).waitFor({ timeout: 10000 });
  assert.equal(await select.inputValue(), GROUP);
  await ctx.screenshot('02-admin-groups');

  await page.click('[data-testid="tab-users"]');
  await page.click('[data-testid="user-new"]');
  await page.fill('input[name="new-user-name"]', VIEWER);
  await page.fill('input[name="new-user-display-name"]', 'Vera Viewer');
  await page.fill('input[name="new-user-password"]', ctx.viewerPassword);
  await page.click('[data-testid="user-dialog"] button[type="submit"]');
  await page.locator(`[data-user="${VIEWER}"]`).waitFor({ timeout: 10000 });
  await ctx.screenshot('03-admin-users');

  await page.click('[data-testid="tab-roles"]');
  const viewerRole = page.locator('[data-role="viewer"]');
  await viewerRole.waitFor({ timeout: 10000 });
  assert.deepEqual(await viewerRole.locator('[data-perm]').evaluateAll((els) => els.map((e) => e.dataset.perm)), ['view']);
  await ctx.screenshot('04-admin-roles');

  await page.click('[data-testid="tab-grants"]');
  await page.click('[data-testid="grant-new"]');
  const dialog = page.locator('[data-testid="grant-dialog"]');
  await waitForOption(dialog.locator('select[name="grant-subject"]'), VIEWER);
  await dialog.locator('select[name="grant-subject"]').selectOption(VIEWER);
  await dialog.locator('select[name="grant-role"]').selectOption('viewer');
  await waitForOption(dialog.locator('select[name="grant-group"]'), GROUP);
  await dialog.locator('select[name="grant-group"]').selectOption(GROUP);
  await dialog.locator('button[type="submit"]').click();
  await page.getByText(`${VIEWER} now has the role viewer on ${GROUP}`).waitFor({ timeout: 10000 });
  await ctx.screenshot('05-admin-grants');
  await signOut(page);
}

/** Signs in as the viewer: only the lab machine, view only, no admin. */
export async function viewerSeesOnlyGroup(page, ctx) {
  await signIn(page, VIEWER, ctx.viewerPassword);
  const lab = page.locator(`[data-agent="${LAB.id}"]`);
  await lab.waitFor({ timeout: 10000 });
  // Several list refreshes: the other machine never shows up.
  await sleep(3500);
  assert.equal(await page.locator(`[data-agent="${OFFICE.id}"]`).count(), 0, 'the machine outside the grant is hidden');
  assert.equal(await page.locator('[data-agent]').count(), 1);
  assert.equal(await lab.locator('[data-testid="agent-group"]').innerText(), GROUP);
  assert.equal(await lab.locator('[data-testid="connect-view"]').count(), 0, 'no control choice without control');
  assert.match(await lab.locator('[data-testid="connect"]').innerText(), /View only/);
  assert.equal(await page.locator('[data-testid="nav-admin"]').count(), 0, 'no administration for a viewer');
  await ctx.screenshot('06-machines-viewer');
}

/**
 * Signed in as the viewer: sets up TOTP on the account page with a code
 * computed here, then signs in with a wrong code, a right one, a recovery
 * code, and that recovery code again.
 */
export async function totpFlow(page, ctx) {
  await page.goto(ctx.base + '/#/account');
  await page.click('[data-testid="totp-setup"]');
  const secret = (await page.locator('[data-testid="totp-secret"]').innerText()).trim();
  assert.match(secret, /^[A-Z2-7]+=*$/i, 'a base32 secret');
  await page.locator('[data-testid="totp-qr"]').waitFor();
  assert.match(await page.locator('[data-testid="totp-uri"]').textContent(), /^otpauth:\/\/totp\//);
  await ctx.screenshot('08-account-totp-setup');

  const enableStep = totpStep();
  await page.fill('input[name="totp-enable-code"]', totp(secret));
  await page.click('[data-testid="totp-enable"]');
  const codesList = page.locator('[data-testid="recovery-codes"] li');
  await codesList.first().waitFor({ timeout: 10000 });
  const codes = await codesList.allInnerTexts();
  assert.equal(codes.length, 10, 'ten recovery codes');
  await ctx.screenshot('09-account-recovery-codes');
  await page.click('[data-testid="recovery-done"]');
  assert.equal(await page.locator('[data-testid="totp-status"]').innerText(), 'on');
  await signOut(page);

  await signIn(page, VIEWER, ctx.viewerPassword);
  await page.locator('input[name="totp"]').waitFor({ timeout: 10000 });
  await ctx.screenshot('10-login-totp');
  await page.fill('input[name="totp"]', totp(secret) === '000000' ? '111111' : '000000');
  await page.click('button[type="submit"]');
  await page.locator('[data-testid="login-error"]').waitFor({ timeout: 10000 });
  assert.match(await page.locator('[data-testid="login-error"]').innerText(), /not valid/);
  // A code is good once: wait for the next 30 s step so this is not the
  // one that turned TOTP on.
  await waitFor('the next TOTP step', async () => totpStep() > enableStep, { timeout: 35000, interval: 250 });
  await page.fill('input[name="totp"]', totp(secret));
  await page.click('button[type="submit"]');
  await page.locator(`[data-agent="${LAB.id}"]`).waitFor({ timeout: 10000 });
  await signOut(page);

  await signIn(page, VIEWER, ctx.viewerPassword);
  await page.click('[data-testid="switch-second-factor"]');
  await page.fill('input[name="recovery"]', codes[0]);
  await ctx.screenshot('11-login-recovery');
  await page.click('button[type="submit"]');
  await page.locator(`[data-agent="${LAB.id}"]`).waitFor({ timeout: 10000 });
  await signOut(page);
  await signIn(page, VIEWER, ctx.viewerPassword);
  await page.click('[data-testid="switch-second-factor"]');
  await page.fill('input[name="recovery"]', codes[0]);
  await page.click('button[type="submit"]');
  await page.locator('[data-testid="login-error"]').waitFor({ timeout: 10000 });
  assert.match(await page.locator('[data-testid="login-error"]').innerText(), /not valid or was already used/);
  await ctx.screenshot('12-login-recovery-reused');
}
