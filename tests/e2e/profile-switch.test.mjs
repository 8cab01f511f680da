// End-to-end: the session view's profile picker in a real Chromium against a
// real gateway and agent (issue #6 point 4). The agent runs with a profiles
// file of three profiles; the user switches from H.264 at 1280x720 to VP8
// at half size and back to H.264 main, and keeps watching: the decoded
// frames keep coming (no gap of a second), the status bar shows the new
// codec and size, the picker the new encoder, and Chromium keeps its
// connection (the agent renegotiates; it never starts a new one). A
// view-only session shows no picker.
//
// Run: node --test tests/e2e/profile-switch.test.mjs (needs web/dist and
// the C tree built, as browser.test.mjs). Screenshots in $WR_E2E_ARTIFACTS.

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
  log,
  makeTempDir,
  randomSecret,
  sleep,
  startAgent,
  startGateway,
  startXvfb,
  stopAll,
  waitFor,
} from './harness.mjs';

const AGENT_ID = 'e2e-profiles';
const PROFILES = `[profile low-latency]
encoders = x264enc

[profile vp8]
encoders = vp8enc
scale = 0.5
bitrate = 1500

[profile main]
encoders = x264enc
h264-profile = main
x264enc.speed-preset = veryfast
`;

const env = {};

async function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.__webremote?.pc;
    if (!pc) return null;
    const report = await pc.getStats();
    let video = null;
    const codecs = new Map();
    report.forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') video = r;
      if (r.type === 'codec') codecs.set(r.id, r.mimeType);
    });
    return video && { frames: video.framesDecoded ?? 0, width: video.frameWidth, height: video.frameHeight, codec: codecs.get(video.codecId) ?? null };
  });
}

/** Samples decoded frames every 25 ms for @ms: the longest time without a new one. */
async function longestGap(page, ms) {
  const end = Date.now() + ms;
  let last = (await inbound(page))?.frames ?? 0;
  let lastAt = Date.now();
  let gap = 0;
  while (Date.now() < end) {
    await sleep(25);
    const s = await inbound(page);
    const now = Date.now();
    if (s && s.frames !== last) {
      last = s.frames;
      lastAt = now;
    }
    gap = Math.max(gap, now - lastAt);
  }
  return gap;
}

async function switchTo(page, name, expect) {
  const before = await inbound(page);
  const gapDuring = longestGap(page, 4000);
  await page.selectOption('[data-testid="profile-select"]', name);
  const gap = await gapDuring;
  const after = await inbound(page);
  log(`to ${name}: ${JSON.stringify(before)} -> ${JSON.stringify(after)}, longest gap ${gap} ms`);
  assert.ok(gap < 1000, `video keeps flowing across the switch to ${name} (longest gap ${gap} ms)`);
  assert.ok(after.frames - before.frames >= 40, `frames keep coming: ${before.frames} -> ${after.frames}`);
  assert.equal(after.width, expect.width);
  assert.equal(after.height, expect.height);
  assert.match(after.codec ?? '', expect.codec);
  await waitFor(`the picker to show ${expect.encoder}`, async () => (await page.locator('[data-testid="profile-encoder"]').innerText()) === expect.encoder, {
    timeout: 5000,
    interval: 100,
  });
  assert.equal(await page.locator('[data-testid="profile-select"]').inputValue(), name);
}

describe('profile picker in Chromium', { timeout: 180000 }, () => {
  before(async () => {
    for (const [what, file] of [
      ['gateway binary', GATEWAY_BIN],
      ['agent binary', AGENT_BIN],
      ['built web client (npm run build in web/)', path.join(WEB_ROOT, 'index.html')],
      ['Chromium', CHROMIUM],
    ]) {
      assert.ok(fs.existsSync(file), `${what} not found at ${file}`);
    }
    await fsp.mkdir(ARTIFACTS, { recursive: true });
    env.tmp = await makeTempDir();
    env.password = 'e2e-' + randomSecret();
    const stateDir = path.join(env.tmp, 'state');
    await fsp.mkdir(stateDir, { mode: 0o700 });
    const profiles = path.join(env.tmp, 'profiles.conf');
    await fsp.writeFile(profiles, PROFILES);

    const { display } = await startXvfb({ width: 1280, height: 720, logName: 'profiles-xvfb' });
    const gw = await startGateway({ stateDir, password: env.password, logName: 'profiles-gateway' });
    env.base = gw.base;
    env.agentLog = path.join(ARTIFACTS, 'profiles-agent.log');
    await startAgent({
      gateway: gw,
      display,
      id: AGENT_ID,
      name: 'Profiles machine',
      logName: 'profiles-agent',
      args: ['--profiles', profiles, '--profile', 'low-latency'],
    });
    env.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: false, // --headless=new is in CHROMIUM_ARGS
      args: CHROMIUM_ARGS,
      env: { ...process.env, DISPLAY: '' },
      timeout: 30000,
    });
    env.context = await env.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 800 } });
    env.page = await env.context.newPage();
  });

  after(async () => {
    try {
      await env.browser?.close().catch(() => {});
    } finally {
      await stopAll();
      if (env.tmp) await fsp.rm(env.tmp, { recursive: true, force: true });
    }
  });

  it('switches profile live, H.264 to VP8 and back, and the video keeps flowing', { timeout: 120000 }, async () => {
    const page = env.page;
    await page.goto(env.base + '/', { waitUntil: 'load' });
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', env.password);
    await page.click('button[type="submit"]');
    const row = page.locator(`[data-agent="${AGENT_ID}"]`);
    await row.waitFor({ timeout: 10000 });
    await waitFor('the agent online', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'online', {
      timeout: 30000,
      interval: 250,
    });
    await row.locator('[data-testid="connect"]').click();
    await page.locator('[data-testid="profile-picker"]').waitFor({ timeout: 20000 });
    await waitFor('decoded frames', async () => ((await inbound(page))?.frames ?? 0) > 10, { timeout: 20000, interval: 200 });

    const options = await page.locator('[data-testid="profile-select"] option').allInnerTexts();
    assert.deepEqual(options, ['low-latency', 'vp8', 'main']);
    assert.equal(await page.locator('[data-testid="profile-select"]').inputValue(), 'low-latency');
    assert.equal(await page.locator('[data-testid="profile-encoder"]').innerText(), 'x264enc');
    const pc = await page.evaluateHandle(() => window.__webremote.pc);
    await page.screenshot({ path: path.join(ARTIFACTS, 'profiles-01-picker.png') });

    await switchTo(page, 'vp8', { width: 640, height: 360, codec: /VP8/i, encoder: 'vp8enc' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'profiles-02-vp8.png') });
    await switchTo(page, 'main', { width: 1280, height: 720, codec: /H264/i, encoder: 'x264enc' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'profiles-03-main.png') });

    // The same RTCPeerConnection all along: Chromium took the new codec by
    // renegotiation, and the agent never had to start a new connection.
    assert.ok(await page.evaluate((old) => window.__webremote.pc === old, pc), 'the same RTCPeerConnection');
    const agentLog = fs.readFileSync(env.agentLog, 'utf8');
    assert.match(agentLog, /renegotiating for VP8/);
    assert.doesNotMatch(agentLog, /new connection with/);
    assert.doesNotMatch(agentLog, /ended \(/);
    await page.locator('[data-testid="disconnect"]').click().catch(() => {});
  });

  it('shows no picker in a view-only session', { timeout: 60000 }, async () => {
    const page = env.page;
    await page.goto(`${env.base}/#/session/${AGENT_ID}?mode=view`);
    await waitFor('decoded frames', async () => ((await inbound(page))?.frames ?? 0) > 10, { timeout: 20000, interval: 200 });
    await sleep(1000);
    assert.equal(await page.locator('[data-testid="profile-picker"]').count(), 0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'profiles-04-view-only.png') });
  });
});
