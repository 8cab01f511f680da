// End-to-end in Chromium: single sign-on (issue 3). The test OpenID provider
// (tests/oidc) runs on loopback; the gateway is its client. An administrator
// grants, through the REST API, the viewer role to the provider group
// "support" on one machine's group and the operator role to "auditors" on
// the other's. Users then sign in through the provider's own login form:
// alice (groups: support) sees only the support machine and gets a
// view-only session, bob (auditors) only the audit machine with control,
// dave (no groups) nothing. A forged callback lands on the login page with
// the SSO error. Screenshots: $WR_E2E_ARTIFACTS/sso/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';

import {
  AGENT_BIN,
  ARTIFACTS,
  CHROMIUM,
  CHROMIUM_ARGS,
  GATEWAY_BIN,
  OIDC_DIR,
  WEB_ROOT,
  httpsJson,
  log,
  makeTempDir,
  pointerLocation,
  randomSecret,
  sleep,
  startAgent,
  startGateway,
  startOidcProvider,
  startXterm,
  startXvfb,
  stopAll,
  tail,
  waitFor,
} from './harness.mjs';

const OUT = path.join(ARTIFACTS, 'sso');
const SCREEN = { width: 1280, height: 720 };
const VIEWPORT = { width: 1200, height: 800 };
const CLIENT_ID = 'webremote-e2e';

const SUPPORT = { id: 'support-agent', name: 'Support desk machine', group: 'support' };
const AUDIT = { id: 'audit-agent', name: 'Audit machine', group: 'audit' };

const DISPLAY_NAMES = { alice: 'Alice Support', bob: 'Bob Auditor', dave: 'Dave Nogroup' };

const env = {};

async function screenshot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.waitForTimeout(200);
  await page.screenshot({ path: file, fullPage: true });
  log(`screenshot ${file}`);
}

async function framesDecoded(page) {
  return page.evaluate(async () => {
    const pc = window.__webremote?.pc;
    if (!pc) return 0;
    let n = 0;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') n = r.framesDecoded ?? 0;
    });
    return n;
  });
}

/** Live video: frames decode, and keep decoding. */
async function assertVideoFlows(page) {
  await waitFor('decoded video frames', async () => (await framesDecoded(page)) > 0, { timeout: 30000, interval: 200 });
  const first = await framesDecoded(page);
  await sleep(1500);
  const second = await framesDecoded(page);
  log(`framesDecoded ${first} -> ${second} in 1.5 s`);
  assert.ok(second - first >= 5, `frames keep coming: ${first} -> ${second}`);
}

/** Clicks at a few spots of the remote picture. */
async function clickAround(page) {
  const box = await page.locator('[data-testid="remote-video"]').boundingBox();
  for (const [fx, fy] of [
    [0.3, 0.4],
    [0.7, 0.6],
  ]) {
    await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
    await sleep(150);
  }
}

/** Runs `fn` (a UI step); a failure gets a screenshot and the process logs. */
async function step(page, name, fn) {
  try {
    await fn();
  } catch (err) {
    await screenshot(page, `failure-${name}`).catch(() => {});
    err.message +=
      `\n--- gateway log ---\n${tail(path.join(OUT, 'gateway.log'))}` +
      `\n--- provider log ---\n${tail(path.join(OUT, 'oidc-provider.log'), 20)}`;
    throw err;
  }
}

async function admin(method, urlPath, body) {
  const res = await httpsJson(env.base, method, urlPath, { body, token: env.adminToken });
  if (res.status >= 300) throw new Error(`${method} ${urlPath} answered ${res.status}: ${res.text}`);
  return res.body;
}

/**
 * From the webremote login page through the provider's form and back:
 * resolves once the machine list shows who signed in.
 */
async function ssoSignIn(page, username, shots = {}) {
  const button = page.locator('[data-testid="sso-button"]');
  await button.waitFor({ timeout: 10000 });
  assert.equal(await button.getAttribute('href'), '/api/v1/auth/sso/start');
  if (shots.button) await screenshot(page, shots.button);
  env.callbacks = [];
  await button.click();

  // The provider's own page, on its own port.
  await page.waitForURL((u) => u.href.startsWith(`${env.issuer}/interaction/`), { timeout: 15000 });
  await page.locator('#username').waitFor({ timeout: 10000 });
  await page.fill('#username', username);
  await page.fill('#password', 'test');
  if (shots.form) await screenshot(page, shots.form);
  await page.click('#submit');

  // Back on webremote: the callback answered with a redirect to #/sso,
  // which traded the refresh cookie for a token and moved on.
  await page.waitForURL((u) => u.origin === env.base && u.hash.startsWith('#/machines'), { timeout: 20000 });
  await page.locator('[data-testid="signed-in-as"]').waitFor({ timeout: 10000 });
  assert.deepEqual(env.callbacks, [302], 'one callback, answered with a redirect');
  const shown = await page.locator('[data-testid="signed-in-as"]').innerText();
  log(`${username} signed in: "${shown}"`);
  // The name comes from the provider's claims (tests/oidc/provider.mjs).
  assert.match(shown, new RegExp(`Signed in as ${DISPLAY_NAMES[username]}$`));
}

/** After a failed test: start the next one signed out. */
async function ensureSignedOut(page) {
  if (page.url().startsWith(env.base) && (await page.locator('[data-testid="sso-button"]').count()) === 1) return;
  await env.context.clearCookies();
  await page.goto(env.base + '/#/login');
  await page.reload();
}

/** Signs out of webremote, checks a reload does not bring the session back,
 *  and forgets the provider's session too, as another person at this browser
 *  would (so that the next sign-in shows the provider's form again). */
async function signOut(page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.locator('input[name="username"]').waitFor({ timeout: 10000 });
  await page.reload();
  await page.locator('[data-testid="sso-button"]').waitFor({ timeout: 10000 });
  assert.equal(await page.locator('[data-testid="signed-in-as"]').count(), 0, 'still signed out after a reload');
  // Cookies are per host, not per port: the provider's are the ones
  // webremote does not set (its own is wr_refresh).
  const providerCookies = (await env.context.cookies()).filter((c) => !c.name.startsWith('wr_'));
  for (const c of providerCookies) await env.context.clearCookies({ name: c.name, domain: c.domain, path: c.path });
}

describe('single sign-on in Chromium', { timeout: 300000 }, () => {
  before(async () => {
    for (const [what, file] of [
      ['gateway binary', GATEWAY_BIN],
      ['agent binary', AGENT_BIN],
      ['built web client (npm run build in web/)', path.join(WEB_ROOT, 'index.html')],
      ['Chromium', CHROMIUM],
      ['test OpenID provider dependencies (npm ci in tests/oidc)', path.join(OIDC_DIR, 'node_modules', 'oidc-provider')],
    ]) {
      assert.ok(fs.existsSync(file), `${what} not found at ${file}`);
    }
    await fsp.rm(OUT, { recursive: true, force: true });
    await fsp.mkdir(OUT, { recursive: true });

    env.tmp = await makeTempDir();
    env.adminPassword = 'e2e-' + randomSecret();
    const secretFile = path.join(env.tmp, 'oidc-client-secret');
    const clientSecret = randomSecret();
    await fsp.writeFile(secretFile, clientSecret + '\n', { mode: 0o600 });
    const stateDir = path.join(env.tmp, 'state');
    await fsp.mkdir(stateDir, { mode: 0o700 });

    const t0 = Date.now();
    // The provider accepts any loopback port on the registered path.
    const provider = await startOidcProvider({
      clientId: CLIENT_ID,
      clientSecret,
      redirectUri: 'https://127.0.0.1/api/v1/auth/sso/callback',
      logName: 'sso/oidc-provider',
    });
    env.issuer = provider.issuer;
    const { display } = await startXvfb({ ...SCREEN, logName: 'sso/xvfb' });
    env.display = display;
    // Something to look at in the remote picture.
    await startXterm(display, path.join(env.tmp, 'typed.txt'), 'sso/xterm');
    const gw = await startGateway({
      stateDir,
      password: env.adminPassword,
      logName: 'sso/gateway',
      config: (port) =>
        [
          '[oidc]',
          `issuer=${provider.issuer}`,
          `client-id=${CLIENT_ID}`,
          `client-secret-file=${secretFile}`,
          `redirect-uri=https://127.0.0.1:${port}/api/v1/auth/sso/callback`,
          'groups-claim=groups',
          '',
        ].join('\n'),
    });
    env.base = gw.base;
    for (const a of [SUPPORT, AUDIT]) {
      await startAgent({
        gateway: gw,
        display,
        id: a.id,
        name: a.name,
        logName: `sso/agent-${a.id}`,
      });
    }
    log(`processes up in ${Date.now() - t0} ms`);

    env.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: false, // --headless=new is in CHROMIUM_ARGS
      args: CHROMIUM_ARGS,
      env: { ...process.env, DISPLAY: '' },
      timeout: 30000,
    });
    env.context = await env.browser.newContext({ ignoreHTTPSErrors: true, viewport: VIEWPORT });
    env.page = await env.context.newPage();
    env.consoleLines = [];
    env.callbacks = [];
    env.page.on('console', (m) => env.consoleLines.push(`[${m.type()}] ${m.text()}`));
    env.page.on('pageerror', (e) => env.consoleLines.push(`[pageerror] ${e.message}`));
    env.page.on('response', (res) => {
      if (new URL(res.url()).pathname === '/api/v1/auth/sso/callback') env.callbacks.push(res.status());
    });
  });

  after(async () => {
    try {
      if (env.consoleLines?.length) await fsp.writeFile(path.join(OUT, 'browser-console.log'), env.consoleLines.join('\n') + '\n');
      await env.browser?.close().catch(() => {});
    } finally {
      await stopAll();
      if (env.tmp) await fsp.rm(env.tmp, { recursive: true, force: true });
    }
  });

  it('an administrator grants provider groups roles on two agent groups (REST API)', { timeout: 60000 }, async () => {
    const login = await httpsJson(env.base, 'POST', '/api/v1/login', { body: { username: 'admin', password: env.adminPassword } });
    assert.equal(login.status, 200, `admin sign-in: ${login.text}`);
    env.adminToken = login.body.token;

    const sso = await httpsJson(env.base, 'GET', '/api/v1/auth/sso');
    assert.equal(sso.status, 200);
    assert.equal(sso.body.enabled, true, 'the gateway says SSO is on');

    await waitFor('both agents online', async () => {
      const { agents } = await admin('GET', '/api/v1/agents');
      return [SUPPORT, AUDIT].every((a) => agents.find((x) => x.id === a.id)?.online);
    }, { timeout: 30000, interval: 250 });

    for (const a of [SUPPORT, AUDIT]) {
      await admin('POST', '/api/v1/groups', { name: a.group });
      const moved = await admin('PUT', `/api/v1/agents/${a.id}/group`, { group: a.group });
      assert.equal(moved.group, a.group);
    }
    await admin('POST', '/api/v1/grants', { subject_kind: 'oidc-group', subject: 'support', role: 'viewer', group: SUPPORT.group });
    await admin('POST', '/api/v1/grants', { subject_kind: 'oidc-group', subject: 'auditors', role: 'operator', group: AUDIT.group });
    const { grants } = await admin('GET', '/api/v1/grants');
    const oidcGrants = grants.filter((g) => g.subject_kind === 'oidc-group').map(({ subject, role, group }) => ({ subject, role, group }));
    assert.deepEqual(oidcGrants, [
      { subject: 'support', role: 'viewer', group: 'support' },
      { subject: 'auditors', role: 'operator', group: 'audit' },
    ]);
  });

  it('alice (support) signs in through the provider and sees only the support machine, view only', { timeout: 120000 }, async () => {
    const page = env.page;
    await step(page, 'alice', async () => {
      await page.goto(env.base + '/', { waitUntil: 'load' });
      await page.locator('input[name="username"]').waitFor({ timeout: 10000 });
      await ssoSignIn(page, 'alice', { button: '01-login-sso-button', form: '02-provider-form' });

      const row = page.locator(`[data-agent="${SUPPORT.id}"]`);
      await row.waitFor({ timeout: 10000 });
      await waitFor('the support machine online', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'online');
      // Several list refreshes: the audit machine never shows up.
      await sleep(3500);
      assert.equal(await page.locator(`[data-agent="${AUDIT.id}"]`).count(), 0, 'the machine outside the group claim is hidden');
      assert.equal(await page.locator('[data-agent]').count(), 1);
      assert.equal(await row.locator('[data-testid="agent-group"]').innerText(), SUPPORT.group);
      assert.equal(await row.locator('[data-testid="connect-view"]').count(), 0, 'no control choice');
      assert.match(await row.locator('[data-testid="connect"]').innerText(), /View only/);
      assert.equal(await page.locator('[data-testid="nav-admin"]').count(), 0, 'no administration');
      // The sign-in outlives a reload (the refresh cookie the callback set).
      await page.reload();
      await row.waitFor({ timeout: 10000 });
      assert.match(await page.locator('[data-testid="signed-in-as"]').innerText(), /Alice Support$/);
      await screenshot(page, '03-machines-alice');

      // The account exists now, bound to the provider.
      const { users } = await admin('GET', '/api/v1/users');
      const alice = users.find((u) => u.name === 'alice');
      assert.ok(alice, `an account for alice: ${JSON.stringify(users.map((u) => u.name))}`);
      assert.equal(alice.sso, true, 'alice is an SSO account');

      await row.locator('[data-testid="connect"]').click();
      await assertVideoFlows(page);
      await page.locator('[data-testid="view-only"]').waitFor({ timeout: 10000 });
      assert.match(await page.locator('[data-testid="statusbar"] [data-stat="input"]').innerText(), /view only/i);

      // Asking for control anyway (the default scopes) still gives view
      // only: the gateway decides, from the group claim.
      await page.goto(env.base + '/#/machines');
      await row.waitFor({ timeout: 10000 });
      await page.goto(env.base + `/#/session/${SUPPORT.id}`);
      await assertVideoFlows(page);
      await page.locator('[data-testid="view-only"]').waitFor({ timeout: 10000 });
      assert.equal(await page.locator('[data-testid="toggle-pointer"]').count(), 0, 'no input toggles in view-only mode');
      const before = await pointerLocation(env.display);
      await clickAround(page);
      await sleep(800);
      assert.deepEqual(await pointerLocation(env.display), before, 'the X pointer did not move');
      await screenshot(page, '04-session-alice-view-only');

      await page.goto(env.base + '/#/machines');
      await signOut(page);
    });
  });

  it('bob (auditors) sees only the audit machine, with control', { timeout: 120000 }, async () => {
    const page = env.page;
    await step(page, 'bob', async () => {
      await ensureSignedOut(page);
      await ssoSignIn(page, 'bob', { form: '05-provider-form-bob' });
      const row = page.locator(`[data-agent="${AUDIT.id}"]`);
      await row.waitFor({ timeout: 10000 });
      await waitFor('the audit machine online', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'online');
      await sleep(3500);
      assert.equal(await page.locator(`[data-agent="${SUPPORT.id}"]`).count(), 0, 'the support machine is hidden');
      assert.equal(await page.locator('[data-agent]').count(), 1);
      assert.match(await row.locator('[data-testid="connect"]').innerText(), /View and control/);
      await screenshot(page, '06-machines-bob');

      await row.locator('[data-testid="connect"]').click();
      await assertVideoFlows(page);
      const input = page.locator('[data-testid="statusbar"] [data-stat="input"]');
      await waitFor('the input channel ready', async () => /ready/i.test(await input.innerText()), {
        timeout: 15000,
        interval: 200,
      });
      assert.equal(await page.locator('[data-testid="view-only"]').count(), 0, 'not view only');
      const before = await pointerLocation(env.display);
      await clickAround(page);
      await waitFor('the X pointer to follow the click', async () => {
        const now = await pointerLocation(env.display);
        return now.x !== before.x || now.y !== before.y;
      }, { timeout: 5000, interval: 100 });
      await screenshot(page, '07-session-bob-control');

      await page.goto(env.base + '/#/machines');
      await signOut(page);
    });
  });

  it('dave (no groups) sees no machines', { timeout: 60000 }, async () => {
    const page = env.page;
    await step(page, 'dave', async () => {
      await ensureSignedOut(page);
      await ssoSignIn(page, 'dave');
      await page.getByText('No machines to show.').waitFor({ timeout: 10000 });
      await sleep(3500);
      assert.equal(await page.locator('[data-agent]').count(), 0, 'no machine listed');
      assert.match(await page.locator('[data-testid="agent-count"]').innerText(), /0 of 0 online/);
      const dave = await httpsJson(env.base, 'GET', `/api/v1/agents/${SUPPORT.id}`, { token: env.adminToken });
      assert.equal(dave.status, 200, 'the machines are there, just not for dave');
      await screenshot(page, '08-machines-dave');
      await signOut(page);
    });
  });

  it('a forged SSO callback lands on the login page with the SSO error', { timeout: 30000 }, async () => {
    const page = env.page;
    await step(page, 'failed', async () => {
      await ensureSignedOut(page);
      env.callbacks = [];
      await page.goto(env.base + '/api/v1/auth/sso/callback?state=bogus&code=x');
      await page.waitForURL((u) => u.origin === env.base && u.hash.startsWith('#/login'), { timeout: 10000 });
      const error = page.locator('[data-testid="login-error"]');
      await error.waitFor({ timeout: 10000 });
      assert.match(await error.innerText(), /Single sign-on failed/);
      assert.deepEqual(env.callbacks, [302]);
      assert.equal(await page.locator('[data-testid="signed-in-as"]').count(), 0, 'nobody signed in');
      await screenshot(page, '09-login-sso-failed');
    });
  });

  it('the pages ran without script errors or CSP violations', () => {
    const bad = env.consoleLines.filter((l) => /^\[pageerror\]|Content Security Policy|Refused to/i.test(l));
    assert.deepEqual(bad, []);
  });
});
