// End-to-end: a real Chromium drives the web client against a real gateway
// and agent on loopback, with an Xvfb screen whose xterm is the remote
// "desktop". Each check asserts on what a user would observe: frames decoded,
// the X pointer where they clicked, the text they typed on the X side.
//
// Run: node --test tests/e2e/   (needs web/dist built and the C tree built in
// $WR_BUILD_ROOT, default <source>/build). Screenshots and process logs go to
// $WR_E2E_ARTIFACTS (default /tmp/wr-e2e).

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
  WEB_ROOT,
  httpsJson,
  log,
  makeTempDir,
  pointerLocation,
  randomSecret,
  sleep,
  startAgent,
  startGateway,
  startXterm,
  startXvfb,
  stopAll,
  stopProcess,
  tail,
  waitFor,
} from './harness.mjs';

const AGENT_ID = 'e2e-agent';
const AGENT_NAME = 'E2E test machine';
const SCREEN = { width: 1280, height: 720 };
// Not the video's size: the picture is scaled (1200/1280) and letterboxed,
// so the click test exercises the object-fit: contain mapping.
const VIEWPORT = { width: 1200, height: 800 };

const env = {};

async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
  return file;
}

async function inboundVideo(page) {
  return page.evaluate(async () => {
    const pc = window.__webremote?.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    let found = null;
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') found = r;
    });
    return found && { framesDecoded: found.framesDecoded ?? 0, frameWidth: found.frameWidth, frameHeight: found.frameHeight };
  });
}

/** Client coordinates of the centre of screen pixel (sx, sy) in the video. */
async function clientPointFor(page, sx, sy) {
  const geo = await page.evaluate(() => {
    const v = document.querySelector('[data-testid="remote-video"]');
    const r = v.getBoundingClientRect();
    return { left: r.left, top: r.top, width: r.width, height: r.height, vw: v.videoWidth, vh: v.videoHeight };
  });
  assert.equal(geo.vw, SCREEN.width, 'video width');
  assert.equal(geo.vh, SCREEN.height, 'video height');
  const scale = Math.min(geo.width / geo.vw, geo.height / geo.vh);
  const left = geo.left + (geo.width - geo.vw * scale) / 2;
  const top = geo.top + (geo.height - geo.vh * scale) / 2;
  return { x: left + (sx + 0.5) * scale, y: top + (sy + 0.5) * scale, scale, letterboxTop: top - geo.top };
}

describe('webremote in Chromium', { timeout: 180000 }, () => {
  before(async () => {
    for (const [what, file] of [
      ['gateway binary', GATEWAY_BIN],
      ['agent binary', AGENT_BIN],
      ['built web client (npm run build in web/)', path.join(WEB_ROOT, 'index.html')],
      ['Chromium', CHROMIUM],
    ]) {
      assert.ok(fs.existsSync(file), `${what} not found at ${file}`);
    }
    // Fresh artifacts, but leave the other suites' folders (admin/) alone.
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    for (const entry of await fsp.readdir(ARTIFACTS, { withFileTypes: true })) {
      if (!entry.isDirectory()) await fsp.rm(path.join(ARTIFACTS, entry.name), { force: true });
    }

    env.tmp = await makeTempDir();
    env.outFile = path.join(env.tmp, 'typed.txt');
    env.password = 'e2e-' + randomSecret();
    const stateDir = path.join(env.tmp, 'state');
    await fsp.mkdir(stateDir, { mode: 0o700 });

    const t0 = Date.now();
    const { display } = await startXvfb(SCREEN);
    env.display = display;
    await startXterm(display, env.outFile);
    const gw = await startGateway({ stateDir, password: env.password });
    env.base = gw.base;
    env.agent = await startAgent({
      gateway: gw,
      display,
      id: AGENT_ID,
      name: AGENT_NAME,
    });
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
    env.page.on('console', (m) => env.consoleLines.push(`[${m.type()}] ${m.text()}`));
    env.page.on('pageerror', (e) => env.consoleLines.push(`[pageerror] ${e.message}`));
    // The access token lives in the page's memory (or, with a gateway
    // without refresh cookies, in sessionStorage): take it from the wire.
    env.page.on('response', async (res) => {
      if (!/\/api\/v1\/(login|auth\/refresh)$/.test(new URL(res.url()).pathname) || res.status() !== 200) return;
      try {
        env.pageToken = (await res.json()).token;
      } catch {
        // not JSON
      }
    });
  });

  after(async () => {
    try {
      if (env.consoleLines?.length) {
        await fsp.writeFile(path.join(ARTIFACTS, 'browser-console.log'), env.consoleLines.join('\n') + '\n');
      }
      await env.browser?.close().catch(() => {});
    } finally {
      await stopAll();
      if (env.tmp) await fsp.rm(env.tmp, { recursive: true, force: true });
    }
  });

  it('signs in through the form, lists the agent online and shows live video', { timeout: 90000 }, async () => {
    const page = env.page;
    try {
      await page.goto(env.base + '/', { waitUntil: 'load' });
      await page.locator('input[name="username"]').waitFor({ timeout: 10000 });
      await screenshot(page, '01-login');

      // A wrong password first: the user sees why it failed.
      await page.fill('input[name="username"]', 'admin');
      await page.fill('input[name="password"]', 'not-the-password');
      await page.click('button[type="submit"]');
      const error = page.locator('[data-testid="login-error"]');
      await error.waitFor({ timeout: 10000 });
      assert.match(await error.innerText(), /Wrong username or password/);
      await screenshot(page, '02-login-error');

      await page.fill('input[name="password"]', env.password);
      await page.click('button[type="submit"]');
      const row = page.locator(`[data-agent="${AGENT_ID}"]`);
      await row.waitFor({ timeout: 10000 });
      await waitFor('the agent to show as online', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'online', {
        timeout: 30000,
        interval: 250,
      });
      const rowText = await row.innerText();
      assert.match(rowText, new RegExp(AGENT_NAME));
      assert.match(rowText, /1280x720/, 'the display and its size are listed');
      await screenshot(page, '03-machines');

      await row.locator('[data-testid="connect"]').click();
      await page.waitForURL(/#\/session\/e2e-agent$/);
      const first = await waitFor('decoded video frames', async () => {
        const s = await inboundVideo(page);
        return s && s.framesDecoded > 0 ? s : null;
      }, { timeout: 30000, interval: 200 });
      await sleep(2000);
      const second = await inboundVideo(page);
      log(`framesDecoded ${first.framesDecoded} -> ${second.framesDecoded} in 2 s`);
      assert.ok(second.framesDecoded - first.framesDecoded >= 10, `frames keep coming: ${first.framesDecoded} -> ${second.framesDecoded}`);

      const codec = page.locator('[data-stat="codec"]');
      const resolution = page.locator('[data-stat="resolution"]');
      await waitFor('the status bar to show codec and resolution', async () => {
        return /(H264|VP8|VP9|AV1)/i.test(await codec.innerText()) && /1280x720/.test(await resolution.innerText());
      }, { timeout: 10000, interval: 250 });
      log(`status bar: ${(await page.locator('[data-testid="statusbar"]').innerText()).replace(/\s+/g, ' ')}`);
    } catch (err) {
      await screenshot(page, 'failure-a').catch(() => {});
      err.message += `\n--- gateway log ---\n${tail(path.join(ARTIFACTS, 'gateway.log'))}\n--- agent log ---\n${tail(path.join(ARTIFACTS, 'agent.log'))}`;
      throw err;
    }
  });

  it('a click on the video lands at the matching X screen position', { timeout: 30000 }, async () => {
    const page = env.page;
    await waitFor('the input channel', async () => (await page.locator('[data-stat="input"]').innerText()).includes('ready'), { timeout: 10000 });
    for (const [sx, sy] of [
      [900, 500],
      [137, 91],
      [1279, 719],
    ]) {
      const p = await clientPointFor(page, sx, sy);
      await page.mouse.click(p.x, p.y);
      let seen;
      try {
        await waitFor(`the X pointer at (${sx}, ${sy})`, async () => {
          seen = await pointerLocation(env.display);
          return Math.abs(seen.x - sx) <= 2 && Math.abs(seen.y - sy) <= 2;
        }, { timeout: 5000, interval: 50 });
      } catch (err) {
        err.message += `; pointer is at (${seen?.x}, ${seen?.y}); clicked client (${p.x.toFixed(1)}, ${p.y.toFixed(1)}), scale ${p.scale}`;
        err.message += `\n--- agent log ---\n${tail(path.join(ARTIFACTS, 'agent.log'))}`;
        throw err;
      }
      log(`click at screen (${sx}, ${sy}) -> X pointer (${seen.x}, ${seen.y})`);
      // Past xterm's multi-click time, so the clicks do not add up to a
      // triple click that selects lines.
      await sleep(400);
    }
    // A click in the letterbox bar must not move the remote pointer.
    const before = await pointerLocation(env.display);
    const p = await clientPointFor(page, 640, 0);
    if (p.letterboxTop >= 4) {
      await page.mouse.click(p.x, p.y - p.scale / 2 - p.letterboxTop / 2);
      await sleep(300);
      assert.deepEqual(await pointerLocation(env.display), before, 'a click in the letterbox is ignored');
    }
    // Leave the pointer over the xterm's text area for the typing test.
    const home = await clientPointFor(page, 400, 300);
    await page.mouse.move(home.x, home.y);
  });

  it('text typed in the page arrives on the X side', { timeout: 30000 }, async () => {
    const page = env.page;
    await page.keyboard.type('hello webremote');
    await page.keyboard.press('Enter');
    let content = '';
    try {
      await waitFor('the typed line in the xterm', async () => {
        content = await fsp.readFile(env.outFile, 'utf8');
        return content.includes('hello webremote\n');
      }, { timeout: 10000, interval: 100 });
    } catch (err) {
      err.message += `; file holds ${JSON.stringify(content)}\n--- agent log ---\n${tail(path.join(ARTIFACTS, 'agent.log'))}`;
      throw err;
    }
    assert.equal(content, 'hello webremote\n');
    // Let a few frames show the text before the screenshot.
    await sleep(700);
    await screenshot(page, '04-session');
  });

  it('a view-only session shows the picture and sends no input', { timeout: 40000 }, async () => {
    const page = env.page;
    await page.goto(env.base + `/#/session/${AGENT_ID}?mode=view`);
    await waitFor('video in the view-only session', async () => (await inboundVideo(page))?.framesDecoded > 0, { timeout: 20000, interval: 200 });
    await page.locator('[data-testid="view-only"]').waitFor({ timeout: 10000 });
    assert.equal(await page.locator('[data-testid="toggle-pointer"]').count(), 0, 'no input toggles');
    await waitFor('the picture in the page', () =>
      page.evaluate(() => document.querySelector('[data-testid="remote-video"]')?.videoWidth > 0),
    );
    const before = await pointerLocation(env.display);
    for (const [sx, sy] of [
      [200, 600],
      [1000, 150],
    ]) {
      const p = await clientPointFor(page, sx, sy);
      await page.mouse.click(p.x, p.y);
    }
    await page.keyboard.type('view only');
    await sleep(800);
    assert.deepEqual(await pointerLocation(env.display), before, 'the X pointer did not move');
    assert.equal(await fsp.readFile(env.outFile, 'utf8'), 'hello webremote\n', 'nothing typed arrived');
    await sleep(1200); // a status bar with numbers in the screenshot
    await screenshot(page, '04b-session-view-only');
    // Back to a controlling session for the tests that follow.
    await page.goto(env.base + `/#/session/${AGENT_ID}`);
    await waitFor('video again', async () => (await inboundVideo(page))?.framesDecoded > 0, { timeout: 20000, interval: 200 });
  });

  it('disconnecting ends the session and says so', { timeout: 30000 }, async () => {
    const page = env.page;
    await page.click('[data-testid="disconnect"]');
    const msg = page.locator('[data-testid="session-message"]');
    await msg.waitFor({ timeout: 5000 });
    assert.match(await msg.innerText(), /disconnected/i);
    assert.equal(await page.evaluate(() => window.__webremote?.pc ?? null), null, 'the peer connection is closed');
    await screenshot(page, '05-session-closed');
    // The gateway sees the viewer leave: the agent reports no peers.
    const login = await httpsJson(env.base, 'POST', '/api/v1/login', { body: { username: 'admin', password: env.password } });
    assert.equal(login.status, 200);
    await waitFor('the agent to report no viewers', async () => {
      const res = await httpsJson(env.base, 'GET', `/api/v1/agents/${AGENT_ID}`, { token: login.body.token });
      const peers = (res.body?.pipelines ?? []).reduce((n, p) => n + p.peers, 0);
      return res.status === 200 && peers === 0;
    }, { timeout: 10000, interval: 250 });
  });

  it('reconnects, then tells the user when the machine goes away', { timeout: 45000 }, async () => {
    const page = env.page;
    const msg = page.locator('[data-testid="session-message"]');
    await msg.getByRole('button', { name: 'Connect again' }).click();
    await waitFor('video after reconnecting', async () => (await inboundVideo(page))?.framesDecoded > 0, { timeout: 20000, interval: 200 });

    await stopProcess(env.agent);
    await msg.waitFor({ timeout: 10000 });
    const ended = await msg.innerText();
    log(`agent stopped: ${ended.replace(/\s+/g, ' ')}`);
    assert.match(ended, /Session ended/);
    await screenshot(page, '06-session-agent-gone');

    await msg.getByRole('button', { name: 'Reconnect' }).click();
    await waitFor('the offline message', async () => /offline|not known/i.test(await msg.innerText()), { timeout: 10000, interval: 200 });
    log(`reconnect to a stopped agent: ${(await msg.innerText()).replace(/\s+/g, ' ')}`);
    await screenshot(page, '07-session-agent-offline');
  });

  it('signing out returns to the sign-in form and drops the token', { timeout: 20000 }, async () => {
    const page = env.page;
    await page.locator('[data-testid="session-message"]').getByRole('button', { name: 'Back to machines' }).click();
    const row = page.locator(`[data-agent="${AGENT_ID}"]`);
    await waitFor('the agent to show as offline', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'offline', {
      timeout: 10000,
      interval: 250,
    });
    await screenshot(page, '08-machines-offline');
    const token = env.pageToken;
    assert.ok(token, 'signed in before');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('input[name="username"]').waitFor({ timeout: 5000 });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('webremote.token')), null);
    // A reload does not bring the session back (the refresh cookie is revoked too).
    await page.reload();
    await page.locator('input[name="username"]').waitFor({ timeout: 5000 });
    const res = await httpsJson(env.base, 'GET', '/api/v1/agents', { token });
    assert.equal(res.status, 401, 'the gateway no longer accepts the signed-out token');
  });

  it('the page ran without script errors or CSP violations', () => {
    const bad = env.consoleLines.filter((l) => /^\[pageerror\]|Content Security Policy|Refused to/i.test(l));
    assert.deepEqual(bad, []);
  });
});
