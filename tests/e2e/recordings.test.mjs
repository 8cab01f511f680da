// End-to-end in Chromium: session recording as its users meet it (issue 5).
// An operator opens a session with "Record this session" ticked and sees the
// red REC notice while it runs; the gateway's local recorder writes it; an
// auditor then finds it on the Recordings page by machine, plays it (the
// <video> decodes, time advances, a seek lands where asked), clicks events on
// the session's audit timeline to seek, downloads the evidence bundle (a tar
// with the signed manifest) and puts the session under legal hold, which
// makes the gateway refuse its deletion. A viewer without `audit` sees
// neither page in the navigation and gets the permission message (the API
// answers 403).
//
// Skipped, with the reason, while the gateway has no recordings or audit API
// (404). Screenshots: $WR_E2E_ARTIFACTS/recordings/.

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { chromium } from 'playwright-core';

import {
  ARTIFACTS,
  CHROMIUM,
  CHROMIUM_ARGS,
  CTL_BIN,
  GATEWAY_BIN,
  WEB_ROOT,
  httpsJson,
  log,
  makeTempDir,
  randomSecret,
  run,
  sleep,
  startAgent,
  startGateway,
  startXterm,
  startXvfb,
  stopAll,
  tail,
  waitFor,
} from './harness.mjs';
import { signIn, signOut } from './admin-steps.mjs';

const OUT = path.join(ARTIFACTS, 'recordings');
const AGENT_ID = 'rec-agent';
const AGENT_NAME = 'Recorded machine';
const SCREEN = { width: 1280, height: 720 };
const VIEWPORT = { width: 1360, height: 900 };
const AUDITOR = 'ava';
const VIEWER = 'vic';
/** How long the recorded session streams. */
const STREAM_MS = 5000;

const env = {};

async function screenshot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.waitForTimeout(200);
  await page.screenshot({ path: file });
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

/** The player's <video> as the page sees it. */
function videoState(page) {
  return page.evaluate(() => {
    const v = document.querySelector('[data-testid="recording-video"]');
    if (!v) return null;
    return {
      readyState: v.readyState,
      currentTime: v.currentTime,
      duration: v.duration,
      paused: v.paused,
      seeking: v.seeking,
      width: v.videoWidth,
      height: v.videoHeight,
      error: v.error ? `${v.error.code} ${v.error.message}` : null,
      segment: v.dataset.segment ?? null,
    };
  });
}

/**
 * Signs in as `user` on a fresh page, whatever the last test left behind:
 * the access token lives in page memory and the refresh cookie is cleared.
 */
async function freshSignIn(page, user, password) {
  await env.context.clearCookies();
  await page.goto(env.base + '/#/login');
  await page.reload();
  await signIn(page, user, password);
}

/** Runs `fn` (a UI step) and adds the logs to any failure. */
async function step(page, name, fn) {
  try {
    await fn();
  } catch (err) {
    await screenshot(page, `failure-${name}`).catch(() => {});
    err.message += `\n--- gateway log ---\n${tail(path.join(OUT, 'gateway.log'))}`;
    throw err;
  }
}

/** GET over HTTPS into a Buffer (the gateway's certificate is self-signed). */
function httpsGet(base, urlPath) {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(urlPath, base), { rejectUnauthorized: false, timeout: 10000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

async function api(method, urlPath, { token = env.adminToken, body } = {}) {
  return httpsJson(env.base, method, urlPath, { token, body });
}

async function mustApi(method, urlPath, opts) {
  const res = await api(method, urlPath, opts);
  assert.ok(res.status >= 200 && res.status < 300, `${method} ${urlPath}: ${res.status} ${res.text}`);
  return res.body;
}

async function recordingsOf(agent) {
  const res = await api('GET', `/api/v1/recordings?agent=${encodeURIComponent(agent)}`);
  assert.equal(res.status, 200, `GET /api/v1/recordings: ${res.status} ${res.text}`);
  return res.body.recordings;
}

describe('session recordings in Chromium', { timeout: 300000 }, () => {
  before(async () => {
    for (const [what, file] of [
      ['gateway binary', GATEWAY_BIN],
      ['built web client (npm run build in web/)', path.join(WEB_ROOT, 'index.html')],
      ['Chromium', CHROMIUM],
    ]) {
      assert.ok(fs.existsSync(file), `${what} not found at ${file}`);
    }
    await fsp.rm(OUT, { recursive: true, force: true });
    await fsp.mkdir(OUT, { recursive: true });

    env.tmp = await makeTempDir();
    env.adminPassword = 'e2e-' + randomSecret();
    env.auditorPassword = 'ava-' + randomSecret().slice(0, 16);
    env.viewerPassword = 'vic-' + randomSecret().slice(0, 16);
    const stateDir = path.join(env.tmp, 'state');
    await fsp.mkdir(stateDir, { mode: 0o700 });

    const { display } = await startXvfb({ ...SCREEN, logName: 'recordings/xvfb' });
    env.display = display;
    await startXterm(display, path.join(env.tmp, 'typed.txt'), 'recordings/xterm');
    // The default configuration: the gateway starts its local recorder.
    const gw = await startGateway({ stateDir, password: env.adminPassword, logName: 'recordings/gateway' });
    env.base = gw.base;
    env.stateDir = stateDir;

    const login = await httpsJson(env.base, 'POST', '/api/v1/login', { body: { username: 'admin', password: env.adminPassword } });
    assert.equal(login.status, 200, 'admin signs in through the API');
    env.adminToken = login.body.token;
    for (const [route, what] of [
      ['/api/v1/recordings', 'recordings'],
      ['/api/v1/audit?limit=1', 'audit'],
    ]) {
      const res = await api('GET', route);
      if (res.status === 404) {
        env.skip = `the gateway has no ${what} API yet (GET ${route} is 404)`;
        log(`recordings tests skipped: ${env.skip}`);
        return;
      }
    }

    await startAgent({ gateway: gw, display, id: AGENT_ID, name: AGENT_NAME, logName: 'recordings/agent' });
    await mustApi('POST', '/api/v1/users', { body: { name: AUDITOR, password: env.auditorPassword, display_name: 'Ava Auditor' } });
    await mustApi('POST', '/api/v1/grants', { body: { subject_kind: 'user', subject: AUDITOR, role: 'auditor' } });
    await mustApi('POST', '/api/v1/users', { body: { name: VIEWER, password: env.viewerPassword } });
    await mustApi('POST', '/api/v1/grants', { body: { subject_kind: 'user', subject: VIEWER, role: 'viewer', group: 'default' } });

    env.browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: false, // --headless=new is in CHROMIUM_ARGS
      args: CHROMIUM_ARGS,
      env: { ...process.env, DISPLAY: '' },
      timeout: 30000,
    });
    env.context = await env.browser.newContext({ ignoreHTTPSErrors: true, viewport: VIEWPORT, acceptDownloads: true });
    env.page = await env.context.newPage();
    env.consoleLines = [];
    env.page.on('console', (m) => env.consoleLines.push(`[${m.type()}] ${m.text()}`));
    env.page.on('pageerror', (e) => env.consoleLines.push(`[pageerror] ${e.message}`));
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

  it('a session with "Record this session" shows the REC notice and is recorded', { timeout: 90000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    const page = env.page;
    await step(page, 'record', async () => {
      // The gateway's own recorder connects on its own after start-up.
      await waitFor('the local recorder to connect (audit event recorder.connected)', async () => {
        const res = await api('GET', '/api/v1/audit?type=recorder.connected&limit=1');
        return res.status === 200 && res.body.events.length > 0;
      }, { timeout: 30000, interval: 500 });

      await page.goto(env.base + '/', { waitUntil: 'load' });
      await signIn(page, 'admin', env.adminPassword);
      const row = page.locator(`[data-agent="${AGENT_ID}"]`);
      await waitFor('the agent online', async () => (await row.locator('[data-testid="agent-status"]').innerText()) === 'online', {
        timeout: 30000,
        interval: 250,
      });
      // Unticked by default; the default group records nothing on its own.
      const check = row.locator('[data-testid="record-session"]');
      assert.equal(await check.isChecked(), false);
      await check.check();
      await screenshot(page, '01-machines-record-ticked');
      await row.locator('[data-testid="connect"]').click();
      await page.waitForURL(/#\/session\/rec-agent\?record=1$/);

      await waitFor('decoded video frames', async () => (await framesDecoded(page)) > 0, { timeout: 30000, interval: 200 });
      const rec = page.locator('[data-stat="recording"]');
      await waitFor('the status bar to say the session is recorded', async () => {
        return (await rec.count()) > 0 && (await rec.getAttribute('data-state')) === 'on';
      }, { timeout: 15000, interval: 200 });
      assert.match(await rec.innerText(), /● REC\s*This session is recorded/);
      const badgeColour = await page.locator('[data-testid="rec-badge"]').evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(badgeColour, 'rgb(218, 54, 51)', 'the REC badge is red');
      assert.equal(await page.locator('[data-testid="rec-pill"]').isVisible(), true, 'REC in the toolbar too');
      await sleep(1000);
      await screenshot(page, '02-session-recorded');

      const f0 = await framesDecoded(page);
      // Something happens on the screen while it is recorded.
      await page.keyboard.type('this line is on the recording');
      await sleep(STREAM_MS);
      const f1 = await framesDecoded(page);
      // The agent may send frames only when the screen changes: the typing does.
      assert.ok(f1 > f0, `video kept streaming: ${f0} -> ${f1}`);
      // Still recorded at the end (no "interrupted").
      assert.equal(await rec.getAttribute('data-state'), 'on');
      await page.click('[data-testid="disconnect"]');
      await page.locator('[data-testid="session-message"]').waitFor({ timeout: 5000 });
      assert.equal(await page.locator('[data-stat="recording"]').count(), 0, 'no REC notice once the session is over');

      // The recorder closes the last segment; the recording completes.
      let recs;
      await waitFor('the recording to complete', async () => {
        recs = await recordingsOf(AGENT_ID);
        return recs.length === 1 && recs[0].status !== 'recording' && recs[0].segments.length > 0;
      }, { timeout: 30000, interval: 500 });
      const r = recs[0];
      log(`recording ${r.id}: ${r.status}, ${r.duration_ms} ms, ${r.segments.length} segment(s), ${r.size} bytes`);
      assert.equal(r.status, 'complete', `status ${r.status} (${r.reason})`);
      assert.equal(r.user, 'admin');
      assert.ok(r.duration_ms >= STREAM_MS - 1000, `about ${STREAM_MS} ms recorded: ${r.duration_ms}`);
      env.recording = r;
      await page.locator('[data-testid="session-message"]').getByRole('button', { name: 'Back to machines' }).click();
      await signOut(page);
    });
  });

  it('an auditor finds the recording by machine and plays it with seeking', { timeout: 60000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    assert.ok(env.recording, 'the recording from the previous test');
    const page = env.page;
    await step(page, 'play', async () => {
      await freshSignIn(page, AUDITOR, env.auditorPassword);
      await page.locator('[data-testid="nav-recordings"]').waitFor({ timeout: 10000 });
      assert.equal(await page.locator('[data-testid="nav-audit"]').count(), 1, 'the Audit page is offered');
      assert.equal(await page.locator('[data-testid="nav-admin"]').count(), 0, 'an auditor is no admin');
      await page.click('[data-testid="nav-recordings"]');
      await page.fill('input[name="agent"]', AGENT_ID);
      await page.click('[data-testid="recordings-apply"]');
      const row = page.locator(`tr[data-recording="${env.recording.id}"]`);
      await row.waitFor({ timeout: 10000 });
      assert.equal(await page.locator('tr[data-recording]').count(), 1, 'one recording of this machine');
      assert.equal(await row.locator('[data-testid="recording-status"]').innerText(), 'complete');
      assert.match(await row.innerText(), /admin/);
      // A filter for another machine finds nothing.
      await page.fill('input[name="agent"]', 'no-such-machine');
      await page.click('[data-testid="recordings-apply"]');
      await page.locator('[data-testid="recordings-empty"]').waitFor({ timeout: 10000 });
      await page.fill('input[name="agent"]', AGENT_ID);
      await page.click('[data-testid="recordings-apply"]');
      await row.waitFor({ timeout: 10000 });
      await screenshot(page, '03-recordings-list');

      await row.locator('[data-testid="recording-open"]').click();
      await page.waitForURL(new RegExp(`#/recordings/${env.recording.id}$`));
      let s;
      await waitFor('the recording to load in the <video>', async () => {
        s = await videoState(page);
        if (s?.error) throw new Error(`video error ${s.error}`);
        return s && s.readyState >= 2;
      }, { timeout: 15000, interval: 200 });
      log(`player: ${JSON.stringify(s)}`);
      assert.equal(s.width, SCREEN.width, 'the recording has the screen width');
      assert.equal(s.height, SCREEN.height, 'the recording has the screen height');
      assert.ok(Number.isFinite(s.duration) && s.duration >= 2, `a playable duration: ${s.duration}`);

      // Play: time advances.
      await page.evaluate(() => {
        const v = document.querySelector('[data-testid="recording-video"]');
        v.muted = true;
        return v.play();
      });
      const t0 = (await videoState(page)).currentTime;
      await sleep(1500);
      const t1 = (await videoState(page)).currentTime;
      assert.ok(t1 - t0 >= 0.8, `currentTime advances while playing: ${t0} -> ${t1}`);

      // Seek to the middle (HTTP Range requests behind it).
      const target = s.duration / 2;
      await page.evaluate((to) => {
        const v = document.querySelector('[data-testid="recording-video"]');
        v.pause();
        v.currentTime = to;
      }, target);
      await waitFor('the seek to finish', async () => {
        const st = await videoState(page);
        return !st.seeking && st.readyState >= 2;
      }, { timeout: 10000, interval: 100 });
      const afterSeek = (await videoState(page)).currentTime;
      assert.ok(Math.abs(afterSeek - target) < 0.5, `seek to ${target.toFixed(2)} s landed at ${afterSeek}`);
      await screenshot(page, '04-player-middle');
    });
  });

  it('the audit timeline lists the session and a click seeks the player', { timeout: 40000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    assert.ok(env.recording, 'the recording from the first test');
    const page = env.page;
    await step(page, 'timeline', async () => {
      const items = page.locator('[data-testid="timeline-event"]');
      await items.first().waitFor({ timeout: 10000 });
      const types = await items.evaluateAll((els) => els.map((e) => e.dataset.type));
      log(`timeline: ${types.join(', ')}`);
      for (const type of ['session.granted', 'session.ended']) assert.ok(types.includes(type), `${type} on the timeline`);
      const times = await items.evaluateAll((els) => els.map((e) => Number(e.dataset.ts)));
      assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');

      // Each click lands where the recording shows that moment: the segment
      // covering it at ts - start_ms; before the first segment its start,
      // after the last its end (the player clamps to what the file holds).
      const segs = env.recording.segments;
      const expected = (ts) => {
        const i = segs.findIndex((sg) => ts >= sg.start_ms && ts <= sg.end_ms);
        if (i >= 0) return { seg: segs[i].index, offset: (ts - segs[i].start_ms) / 1000 };
        if (ts < segs[0].start_ms) return { seg: segs[0].index, offset: 0 };
        const next = segs.find((sg) => sg.start_ms > ts);
        if (next) return { seg: next.index, offset: 0 };
        const last = segs[segs.length - 1];
        return { seg: last.index, offset: (last.end_ms - last.start_ms) / 1000 };
      };
      const clickAndCheck = async (type) => {
        const item = page.locator(`[data-testid="timeline-event"][data-type="${type}"]`).first();
        const ts = Number(await item.getAttribute('data-ts'));
        const want = expected(ts);
        // Away from the target first, so the click must move the player.
        await page.evaluate((to) => {
          const v = document.querySelector('[data-testid="recording-video"]');
          v.currentTime = to;
        }, want.offset > 1.5 ? 0.5 : 2.0);
        await sleep(300);
        await item.click();
        let st;
        try {
          await waitFor(`${type} to seek to segment ${want.seg} at ${want.offset.toFixed(2)} s`, async () => {
            st = await videoState(page);
            const target = Math.min(want.offset, st.duration - 0.05);
            return !st.seeking && st.segment === String(want.seg) && Math.abs(st.currentTime - target) < 0.6;
          }, { timeout: 10000, interval: 100 });
        } catch (err) {
          err.message += `; player at ${JSON.stringify(st)}`;
          throw err;
        }
        log(`${type} at ${ts}: player at ${st.currentTime.toFixed(2)} s (wanted ${want.offset.toFixed(2)}, duration ${st.duration})`);
        return st;
      };
      const end = await clickAndCheck('session.ended');
      assert.ok(end.currentTime >= end.duration * 0.75, `session.ended is near the end: ${end.currentTime} of ${end.duration}`);
      const start = await clickAndCheck('session.granted');
      assert.ok(start.currentTime <= 1.0, `session.granted is at the start: ${start.currentTime}`);
      if (types.includes('recording.started')) await clickAndCheck('recording.started');
      await screenshot(page, '05-player-timeline');
    });
  });

  it('the evidence bundle downloads as a tar with the signed manifest', { timeout: 40000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    assert.ok(env.recording, 'the recording from the first test');
    const page = env.page;
    await step(page, 'bundle', async () => {
      const link = page.locator('[data-testid="bundle-download"]');
      await link.waitFor({ timeout: 10000 });
      assert.match(await link.getAttribute('href'), /^\/api\/v1\/media\//, 'a signed media link');
      const href = await link.getAttribute('href');
      // The link itself, as any HTTP client sees it: no Authorization header.
      const res = await httpsGet(env.base, href);
      const segBytes = env.recording.segments.reduce((n, sg) => n + sg.size, 0);
      log(`bundle: ${res.status} ${res.headers['content-type']} ${res.body.length} bytes (segments ${segBytes})`);
      assert.equal(res.status, 200);
      assert.match(res.headers['content-type'] ?? '', /^application\/x-tar/);
      const data = res.body;
      assert.equal(data.subarray(257, 262).toString('latin1'), 'ustar', 'a tar archive');
      assert.ok(data.length > segBytes, `the bundle holds the segments: ${data.length} > ${segBytes}`);
      // And through the page: the link is a download.
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 20000 }), link.click()]);
      assert.match(download.suggestedFilename(), /\.tar$/);
      // Each download is itself audited, so two downloads differ in their
      // audit slice: what counts is that the saved file verifies offline.
      const saved = await fsp.readFile(await download.path());
      assert.equal(saved.subarray(257, 262).toString('latin1'), 'ustar', 'the browser saved a tar archive');
      assert.ok(saved.length > segBytes, `the saved bundle holds the segments: ${saved.length} > ${segBytes}`);
      const savedPath = path.join(ARTIFACTS, 'evidence-bundle.tar');
      await fsp.writeFile(savedPath, saved);
      const verified = await run(CTL_BIN, ['recording', 'verify', savedPath], { timeout: 30000 });
      log(`webremotectl recording verify: ${verified.trim().split('\n').slice(-1)[0]}`);
      const text = data.toString('latin1');
      for (const name of ['manifest.json', 'manifest.sig', 'public-key.txt', 'segments/', 'audit/events.jsonl']) {
        assert.ok(text.includes(name), `${name} in the bundle`);
      }
    });
  });

  it('a legal hold is shown and blocks deletion until released', { timeout: 40000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    assert.ok(env.recording, 'the recording from the first test');
    const page = env.page;
    const id = env.recording.id;
    await step(page, 'hold', async () => {
      const toggle = page.locator('[data-testid="hold-toggle"]');
      assert.equal(await toggle.innerText(), 'Place legal hold');
      await toggle.click();
      await page.locator('.rec-head [data-testid="legal-hold"]').waitFor({ timeout: 10000 });
      assert.equal(await toggle.innerText(), 'Release legal hold');
      const held = await mustApi('GET', `/api/v1/recordings/${encodeURIComponent(id)}`);
      assert.equal(held.legal_hold, true, 'the gateway has the hold');
      const del = await api('DELETE', `/api/v1/recordings/${encodeURIComponent(id)}`);
      assert.equal(del.status, 409, `deleting a held recording is refused: ${del.status} ${del.text}`);
      await screenshot(page, '06-player-legal-hold');

      await toggle.click();
      await page.locator('[data-testid="confirm-dialog"] button[type="submit"]').click();
      await waitFor('the hold released', async () => (await page.locator('.rec-head [data-testid="legal-hold"]').count()) === 0);
      const released = await mustApi('GET', `/api/v1/recordings/${encodeURIComponent(id)}`);
      assert.equal(released.legal_hold, false);
      await signOut(page);
    });
  });

  it('a viewer without audit sees no recordings and gets the permission message', { timeout: 40000 }, async (t) => {
    if (env.skip) return t.skip(env.skip);
    const page = env.page;
    await step(page, 'viewer', async () => {
      await freshSignIn(page, VIEWER, env.viewerPassword);
      await page.locator(`[data-agent="${AGENT_ID}"]`).waitFor({ timeout: 10000 });
      assert.equal(await page.locator('[data-testid="nav-recordings"]').count(), 0, 'no Recordings in the navigation');
      assert.equal(await page.locator('[data-testid="nav-audit"]').count(), 0, 'no Audit in the navigation');
      // Nor may a viewer ask for recording: no record permission.
      assert.equal(await page.locator(`[data-agent="${AGENT_ID}"] [data-testid="record-session"]`).count(), 0);
      const id = encodeURIComponent(env.recording?.id ?? 'some-recording');
      for (const hash of ['#/recordings', `#/recordings/${id}`, '#/audit']) {
        await page.goto(env.base + '/' + hash);
        const msg = page.locator('[data-testid="needs-permission"]');
        await msg.waitFor({ timeout: 10000 });
        assert.match(await msg.innerText(), /You need the audit permission/);
      }
      await screenshot(page, '07-viewer-no-audit');
      const login = await httpsJson(env.base, 'POST', '/api/v1/login', { body: { username: VIEWER, password: env.viewerPassword } });
      assert.equal(login.status, 200);
      for (const route of ['/api/v1/recordings', `/api/v1/recordings/${id}`, '/api/v1/audit']) {
        const res = await api('GET', route, { token: login.body.token });
        assert.equal(res.status, 403, `${route} for a viewer: ${res.status}`);
      }
    });
  });

  it('the pages ran without script errors or CSP violations', (t) => {
    if (env.skip) return t.skip(env.skip);
    const bad = env.consoleLines.filter((l) => /^\[pageerror\]|Content Security Policy|Refused to/i.test(l));
    assert.deepEqual(bad, []);
  });
});
