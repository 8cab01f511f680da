// Glass-to-glass latency benchmark driver (bench/run-latency starts it inside
// a private network namespace). For each screen size it starts Xvfb and
// webremote-bench-stamp (bench/latency/stamp.c), then for each system under
// test -- webremote (a real gateway and enrolled agent, the real web client
// in headless Chromium, per agent profile if PROFILES is set) and the
// x11vnc + noVNC baseline (websockify serving /usr/share/novnc) -- and each
// workload, it opens a session, waits for the first readable stamp, warms up,
// then records every frame the browser shows for DURATION seconds with
// bench/latency/reader.js, and the CPU time of the sender and the browser.
//
// Environment: WR_BUILD_ROOT, WR_SOURCE_ROOT, SIZES ("1280x720 1920x1080"),
// WORKLOADS ("static typing full-motion video-window"), SYSTEMS ("calibration webremote novnc"),
// PROFILES (agent profiles, space-separated; empty: the agent's default),
// DURATION (s, default 12), WARMUP (s, default 2), OUT_JSON, OUT_MD,
// WR_E2E_ARTIFACTS (process logs and screenshots).

import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

import {
  AGENT_BIN,
  ARTIFACTS,
  BUILD_ROOT,
  CHROMIUM,
  CHROMIUM_ARGS,
  CTL_BIN,
  SOURCE_ROOT,
  freePort,
  log,
  makeTempDir,
  randomSecret,
  run,
  sleep,
  startGateway,
  startProcess,
  startXvfb,
  stopAll,
  stopProcess,
  tail,
  waitFor,
  Fatal,
} from '../../tests/e2e/harness.mjs';

const require = createRequire(path.join(SOURCE_ROOT, 'tests', 'e2e', 'package.json'));
const { chromium } = require('playwright-core');

const STAMP_BIN = path.join(BUILD_ROOT, 'bench', 'webremote-bench-stamp');
const READER_JS = fs.readFileSync(path.join(SOURCE_ROOT, 'bench', 'latency', 'reader.js'), 'utf8');
const NOVNC_DIR = '/usr/share/novnc';
const BLOCK = 16;
const AGENT_ID = 'bench-latency';

const SIZES = (process.env.SIZES || '1280x720 1920x1080').split(/\s+/).filter(Boolean);
const WORKLOADS = (process.env.WORKLOADS || 'static typing full-motion video-window').split(/\s+/).filter(Boolean);
const SYSTEMS = (process.env.SYSTEMS || 'calibration webremote novnc').split(/\s+/).filter(Boolean);
const PROFILES = (process.env.PROFILES || '').split(/\s+/).filter(Boolean);
const DURATION = Number(process.env.DURATION || 12);
const WARMUP = Number(process.env.WARMUP || 2);
const OUT_JSON = process.env.OUT_JSON || path.join(ARTIFACTS, 'latency.json');
const OUT_MD = process.env.OUT_MD || OUT_JSON.replace(/\.json$/, '.md');
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// The decoder of reader.js, for X screenshots checked in Node.
const core = (() => {
  const ctx = vm.createContext({});
  vm.runInContext(READER_JS, ctx);
  return ctx.__wrStampCore;
})();

// ---------------------------------------------------------------- CPU time

/** utime+stime ticks of every process under (and including) `roots`. */
function treeTicks(roots) {
  const procs = new Map();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const s = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(name), { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
    } catch {
      // gone
    }
  }
  const want = new Set(roots.filter(Boolean));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!want.has(pid) && want.has(p.ppid)) {
        want.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  const per = {};
  for (const pid of want) {
    const p = procs.get(pid);
    if (p) {
      ticks += p.ticks;
      per[pid] = p.ticks;
    }
  }
  return { ticks, per };
}

/** Ticks of every process group: { name: [root pids] } -> { name: ticks } */
function snapshot(groups) {
  const out = { t: performance.now() };
  for (const [name, roots] of Object.entries(groups)) out[name] = treeTicks(roots);
  return out;
}

/** % of one core per group between two snapshots. Pids that appear only in
 * the second snapshot count from zero (a child started in the window). */
function cpuPercent(a, b) {
  const secs = (b.t - a.t) / 1000;
  const out = {};
  for (const name of Object.keys(a)) {
    if (name === 't') continue;
    let d = 0;
    for (const [pid, ticks] of Object.entries(b[name].per)) d += ticks - (a[name].per[pid] ?? 0);
    out[name] = Math.round((d / CLK_TCK / secs) * 1000) / 10;
  }
  return out;
}

// ---------------------------------------------------------------- statistics

function percentile(sorted, p) {
  if (!sorted.length) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

const round1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

/**
 * From the reader's per-frame records [t, top, bottom, edt, recv]: every
 * first showing of a stamp value is an update; its latency is the frame's
 * time minus the stamp.
 */
function analyse(frames, t0, t1, workload) {
  const interval = workload === 'full-motion' || workload === 'video-window' ? 1000 / 60 : 100;
  const updates = [];
  let prev = null;
  let unreadable = 0;
  let backwards = 0;
  const inWindow = frames.filter((f) => f[0] >= t0 && f[0] <= t1).sort((x, y) => x[0] - y[0]);
  for (const [t, top, bottom, edt, recv] of inWindow) {
    if (top < 0) {
      unreadable++;
      continue;
    }
    if (top === prev) continue;
    if (prev !== null && core.latencyOf(top, prev) < 0) backwards++;
    prev = top;
    updates.push({
      t,
      lat: core.latencyOf(t, top),
      latEdt: edt === null ? null : core.latencyOf(edt, top),
      latRecv: recv === null ? null : core.latencyOf(recv, top),
      torn: bottom >= 0 && bottom !== top,
      bottomUnreadable: bottom < 0,
    });
  }
  const secs = (t1 - t0) / 1000;
  const lats = updates.map((u) => u.lat).sort((a, b) => a - b);
  const edts = updates.filter((u) => u.latEdt !== null).map((u) => u.latEdt).sort((a, b) => a - b);
  const recvs = updates.filter((u) => u.latRecv !== null).map((u) => u.latRecv).sort((a, b) => a - b);
  // A freeze: the picture did not change for longer than the stamp's own
  // period plus 100 ms, although the stamp kept changing.
  const limit = interval * 1.25 + 100; // the longest jittered period + 100 ms
  let freezes = 0;
  let frozenMs = 0;
  const times = [t0, ...updates.map((u) => u.t), t1];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i] - times[i - 1];
    if (gap > limit) {
      freezes++;
      frozenMs += gap;
    }
  }
  const torn = updates.filter((u) => u.torn).length;
  return {
    seconds: round1(secs),
    frames: inWindow.length,
    frames_per_s: round1(inWindow.length / secs),
    updates: updates.length,
    updates_per_s: round1(updates.length / secs),
    untorn_updates_per_s: round1((updates.length - torn) / secs),
    torn,
    bottom_unreadable: updates.filter((u) => u.bottomUnreadable).length,
    unreadable_frames: unreadable,
    backwards,
    stamps_painted_per_s: round1(1000 / interval),
    latency_ms: {
      min: round1(lats[0]),
      p50: round1(percentile(lats, 50)),
      p95: round1(percentile(lats, 95)),
      p99: round1(percentile(lats, 99)),
      max: round1(lats[lats.length - 1]),
    },
    latency_expected_display_ms: edts.length
      ? { p50: round1(percentile(edts, 50)), p95: round1(percentile(edts, 95)) }
      : null,
    latency_to_receive_ms: recvs.length
      ? { p50: round1(percentile(recvs, 50)), p95: round1(percentile(recvs, 95)) }
      : null,
    freezes,
    frozen_ms: Math.round(frozenMs),
    negative_latencies: lats.filter((l) => l < 0).length,
  };
}

// ---------------------------------------------------------------- processes

async function startStamp(display, args, logName) {
  let ready = false;
  let summary = null;
  const child = startProcess(logName, STAMP_BIN, ['--display', display, '--block', String(BLOCK), ...args], {
    onLine: (line) => {
      if (line.startsWith('ready')) ready = true;
      if (line.startsWith('frames ')) summary = line;
    },
  });
  child.summary = () => summary;
  await waitFor('the stamp to paint', async () => {
    if (child.wrExit) throw new Fatal(`stamp exited: ${tail(child.wrLog, 10)}`);
    return ready;
  }, { timeout: 10000, interval: 20 });
  return child;
}

async function stopStamp(child) {
  await stopProcess(child);
  await sleep(20);
  return child.summary();
}

function waitPort(port, what, child) {
  return waitFor(what, () => new Promise((resolve, reject) => {
    if (child?.wrExit) reject(new Fatal(`${what}: process exited: ${tail(child.wrLog, 10)}`));
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  }), { timeout: 15000, interval: 50 });
}

/** Like harness.startAgent, plus an optional agent config file (profile). */
async function startBenchAgent({ gateway, display, profile, logName }) {
  const agentState = path.join(path.dirname(gateway.stateDir.replace(/\/+$/, '')), `agent-${logName}`);
  await fsp.mkdir(agentState, { recursive: true, mode: 0o700 });
  const token = (await run(CTL_BIN, ['--state-dir', gateway.stateDir, 'enroll', 'create', '--ttl', '1h'], { timeout: 20000 }))
    .trim().split('\n').pop().trim();
  const tokenFile = path.join(agentState, 'enroll.token');
  await fsp.writeFile(tokenFile, token + '\n', { mode: 0o600 });
  await run(AGENT_BIN, ['enroll', gateway.base, '--token-file', tokenFile, '--ca-fingerprint', gateway.fingerprint,
    '--state-dir', agentState, '--id', AGENT_ID], { timeout: 20000 });
  await fsp.rm(tokenFile, { force: true });
  const args = ['--state-dir', agentState, '--display', display, '--ice-address', '127.0.0.1', '--name', 'latency bench'];
  if (profile) {
    const conf = path.join(agentState, 'agent.conf');
    await fsp.writeFile(conf, `[agent]\nprofile = ${profile}\n`);
    args.unshift('--config', conf);
  }
  return startProcess(logName, AGENT_BIN, args, { env: { DISPLAY: display } });
}

// ---------------------------------------------------------------- X screenshot check

/** Decodes the stamps of an `xwd -root` dump: the check that the reader's
 * decoder reads what stamp.c paints, pixel-exact, before any transport. */
function decodeXwd(buf) {
  const be = (o) => buf.readUInt32BE(o);
  const headerSize = be(0);
  const width = be(16);
  const height = be(20);
  const byteOrder = be(28);
  const bpp = be(44);
  const bpl = be(48);
  const masks = [be(56), be(60), be(64)];
  const ncolors = be(76);
  if (bpp !== 32) throw new Error(`xwd: ${bpp} bits per pixel, expected 32`);
  const data = headerSize + ncolors * 12;
  const shift = (m) => Math.log2(m & -m);
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = data + y * bpl + x * 4;
      const px = byteOrder === 0 ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
      const p = (y * width + x) * 4;
      for (let c = 0; c < 3; c++) rgba[p + c] = (px & masks[c]) >>> shift(masks[c]);
      rgba[p + 3] = 255;
    }
  }
  return {
    top: core.decodeRow(core.rgbaLum(rgba, width), BLOCK, BLOCK, BLOCK),
    bottom: core.decodeRow(core.rgbaLum(rgba, width), BLOCK, height - 2 * BLOCK, BLOCK),
  };
}

// ---------------------------------------------------------------- browser side

async function newReaderPage(browser, size, mode, selector) {
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: size });
  const cfg = { mode, selector, screenWidth: size.width, screenHeight: size.height, block: BLOCK };
  await context.addInitScript(`window.__wrStampConfig = ${JSON.stringify(cfg)};`);
  await context.addInitScript(READER_JS);
  const page = await context.newPage();
  page.wrConsole = [];
  page.on('console', (m) => page.wrConsole.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.wrConsole.push(`[pageerror] ${e.message}`));
  return { context, page };
}

async function waitFirstFrame(page, what) {
  return waitFor(`the first readable stamp (${what})`, () => page.evaluate(() => window.__wrStamp?.firstFrameAt), {
    timeout: 30000,
    interval: 50,
  });
}

/** The receiver's WebRTC counters (webremote's page keeps its
 * RTCPeerConnection at window.__webremote.pc), or null. */
function inboundStats(page) {
  return page.evaluate(async () => {
    const pc = window.__webremote?.pc;
    if (!pc) return null;
    let found = null;
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') found = r;
    });
    return found && {
      framesDecoded: found.framesDecoded ?? 0,
      totalDecodeTime: found.totalDecodeTime ?? 0,
      totalProcessingDelay: found.totalProcessingDelay ?? 0,
      jitterBufferDelay: found.jitterBufferDelay ?? 0,
      jitterBufferEmittedCount: found.jitterBufferEmittedCount ?? 0,
      framesDropped: found.framesDropped ?? 0,
      bytesReceived: found.bytesReceived ?? 0,
    };
  }).catch(() => null);
}

/** Per-frame means over the window, from two inboundStats() readings. */
function receiverBreakdown(a, b, secs) {
  if (!a || !b) return null;
  const frames = b.framesDecoded - a.framesDecoded;
  const emitted = b.jitterBufferEmittedCount - a.jitterBufferEmittedCount;
  if (frames <= 0) return null;
  return {
    decode_ms: round1(((b.totalDecodeTime - a.totalDecodeTime) / frames) * 1000),
    processing_ms: round1(((b.totalProcessingDelay - a.totalProcessingDelay) / frames) * 1000),
    jitter_buffer_ms: emitted > 0 ? round1(((b.jitterBufferDelay - a.jitterBufferDelay) / emitted) * 1000) : null,
    frames_dropped: b.framesDropped - a.framesDropped,
    kbit_per_s: Math.round(((b.bytesReceived - a.bytesReceived) * 8) / 1000 / secs),
  };
}

/** Records DURATION s of frames with CPU snapshots around the window. */
async function measure(page, groups, workload) {
  await sleep(WARMUP * 1000);
  const rtcA = await inboundStats(page);
  const a = snapshot(groups);
  const t0 = await page.evaluate(() => window.__wrStamp.begin());
  await sleep(DURATION * 1000);
  const t1 = await page.evaluate(() => window.__wrStamp.end());
  const b = snapshot(groups);
  const rtcB = await inboundStats(page);
  const raw = await page.evaluate(() => ({
    frames: window.__wrStamp.frames,
    readMs: window.__wrStamp.readMs,
    requestAt: window.__wrStamp.requestAt,
    wsOpenedAt: window.__wrStamp.wsOpenedAt,
    firstFrameAt: window.__wrStamp.firstFrameAt,
    firstAnyFrameAt: window.__wrStamp.firstAnyFrameAt,
    clockSkewMs: window.__wrStamp.clockSkewMs,
    readPath: window.__wrStamp.readPath,
    unreadableWhy: window.__wrStamp.unreadableWhy,
  }));
  const stats = analyse(raw.frames, t0, t1, workload);
  stats.cpu = cpuPercent(a, b);
  stats.reader_ms_per_s = round1(raw.readMs / ((t1 - t0) / 1000));
  stats.clock_skew_ms = round1(raw.clockSkewMs);
  stats.read_path = raw.readPath;
  stats.unreadable_why = raw.unreadableWhy;
  // A stamp row whose blocks are all clearly black or white but whose CRC
  // fails mixes two stamp values: a tear inside the row.
  stats.torn_in_stamp_row = raw.unreadableWhy?.crc ?? 0;
  stats.receiver = receiverBreakdown(rtcA, rtcB, (t1 - t0) / 1000);
  return { stats, raw };
}

function loadavg() {
  return fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
}

// ---------------------------------------------------------------- systems

async function benchWebremote({ browser, size, display, xvfb, profile, results, tag }) {
  const tmp = await makeTempDir();
  const stateDir = path.join(tmp, 'state');
  await fsp.mkdir(stateDir, { mode: 0o700 });
  const password = 'bench-' + randomSecret();
  const gw = await startGateway({ stateDir, password, logName: `${tag}-gateway` });
  const agent = await startBenchAgent({ gateway: gw, display, profile, logName: `${tag}-agent` });
  const { context, page } = await newReaderPage(browser, size, 'video', '[data-testid="remote-video"]');
  const browserPid = browser.wrPid;
  const system = profile ? `webremote/${profile}` : 'webremote';
  try {
    await page.goto(gw.base + '/', { waitUntil: 'load' });
    await page.locator('input[name="username"]').waitFor({ timeout: 15000 });
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', password);
    await page.click('button[type="submit"]');

    const openSession = async () => {
      await page.goto(gw.base + '/#/machines');
      const row = page.locator(`[data-agent="${AGENT_ID}"]`);
      await row.waitFor({ timeout: 15000 });
      await waitFor('the agent online', async () => {
        if (agent.wrExit) throw new Fatal(`agent exited: ${tail(agent.wrLog, 20)}`);
        return (await row.locator('[data-testid="agent-status"]').innerText()) === 'online';
      }, { timeout: 30000, interval: 100 });
      await page.evaluate(() => window.__wrStamp.reset());
      await row.locator('[data-testid="connect"]').click();
      await waitFirstFrame(page, system);
    };
    const closeSession = async () => {
      await page.goto(gw.base + '/#/machines');
      await sleep(1000); // the agent tears the peer down
    };

    // Decode check: a fixed stamp must arrive exactly, in every frame.
    const fixed = 0xc0ffee00 + Math.floor(Math.random() * 255);
    const fixedStamp = await startStamp(display, ['--fixed', String(fixed)], `${tag}-stamp-fixed`);
    await openSession();
    await sleep(1500);
    const check = await page.evaluate(() => {
      const st = window.__wrStamp;
      st.begin();
      return new Promise((r) => setTimeout(() => r(st.end() && st.frames), 1000));
    });
    await page.screenshot({ path: path.join(ARTIFACTS, `${tag}-fixed.png`) });
    const readable = check.filter((f) => f[1] >= 0);
    results.checks.push({
      system, size: `${size.width}x${size.height}`, value: fixed,
      frames: check.length, readable: readable.length,
      exact: readable.filter((f) => f[1] === fixed && f[2] === fixed).length,
    });
    log(`${system} ${size.width}x${size.height} fixed-stamp check: ${readable.filter((f) => f[1] === fixed).length}/${check.length} frames exact`);
    await closeSession();
    await stopStamp(fixedStamp);

    for (const workload of WORKLOADS) {
      const stamp = await startStamp(display, ['--workload', workload], `${tag}-stamp-${workload}`);
      const load = loadavg();
      try {
        await openSession();
        const { stats, raw } = await measure(page, {
          sender: [agent.pid], gateway: [gw.child.pid], xvfb: [xvfb.pid], browser: [browserPid],
        }, workload);
        stats.ttff_ms = round1(raw.firstFrameAt - raw.requestAt);
        stats.ttff_from_ws_ms = round1(raw.firstFrameAt - raw.wsOpenedAt);
        await page.screenshot({ path: path.join(ARTIFACTS, `${tag}-${workload}.png`) }).catch(() => {});
        const summary = await stopStamp(stamp);
        results.cases.push({ system, size: `${size.width}x${size.height}`, workload, loadavg: load, stamp: summary, ...stats });
        log(`${system} ${size.width}x${size.height} ${workload}: p50 ${stats.latency_ms.p50} p95 ${stats.latency_ms.p95} ms, ${stats.updates_per_s} upd/s, cpu ${JSON.stringify(stats.cpu)}`);
      } catch (err) {
        log(`${system} ${size.width}x${size.height} ${workload} FAILED: ${err.message}`);
        results.cases.push({ system, size: `${size.width}x${size.height}`, workload, error: String(err.message).slice(0, 500) });
        await stopStamp(stamp);
      }
      await closeSession();
    }
  } finally {
    await fsp.writeFile(path.join(ARTIFACTS, `${tag}-console.log`), page.wrConsole.join('\n') + '\n').catch(() => {});
    await context.close().catch(() => {});
    await stopProcess(agent);
    await stopProcess(gw.child);
    await fsp.rm(tmp, { recursive: true, force: true });
  }
}

async function benchNovnc({ browser, size, display, xvfb, results, tag }) {
  const vncPort = await freePort();
  const wsPort = await freePort();
  const x11vnc = startProcess(`${tag}-x11vnc`, 'x11vnc', [
    '-display', display, '-localhost', '-nopw', '-forever', '-shared', '-rfbport', String(vncPort),
  ]);
  await waitPort(vncPort, 'x11vnc', x11vnc);
  const wsify = startProcess(`${tag}-websockify`, 'websockify', [
    '--web', NOVNC_DIR, `127.0.0.1:${wsPort}`, `127.0.0.1:${vncPort}`,
  ]);
  await waitPort(wsPort, 'websockify', wsify);
  const url = `http://127.0.0.1:${wsPort}/vnc_lite.html?host=127.0.0.1&port=${wsPort}&scale=false`;
  const { context, page } = await newReaderPage(browser, size, 'canvas', '#screen canvas, canvas');
  const system = 'x11vnc+noVNC';
  try {
    const openSession = async () => {
      await page.goto(url, { waitUntil: 'load' });
      await waitFirstFrame(page, system);
    };
    const closeSession = async () => {
      await page.goto('about:blank');
      await sleep(500);
    };

    const fixed = 0xc0ffee00 + Math.floor(Math.random() * 255);
    const fixedStamp = await startStamp(display, ['--fixed', String(fixed)], `${tag}-stamp-fixed`);
    await openSession();
    await sleep(1000);
    // The canvas reader records changes only: the latest read is the
    // picture now.
    const last = await page.evaluate(() => window.__wrStamp.lastRead);
    await page.screenshot({ path: path.join(ARTIFACTS, `${tag}-fixed.png`) });
    results.checks.push({
      system, size: `${size.width}x${size.height}`, value: fixed, read: last,
      exact: !!last && last[0] === fixed && last[1] === fixed,
    });
    log(`${system} ${size.width}x${size.height} fixed-stamp check: read ${JSON.stringify(last)}, painted ${fixed}`);
    await closeSession();
    await stopStamp(fixedStamp);

    for (const workload of WORKLOADS) {
      const stamp = await startStamp(display, ['--workload', workload], `${tag}-stamp-${workload}`);
      const load = loadavg();
      try {
        await openSession();
        const { stats, raw } = await measure(page, {
          sender: [x11vnc.pid, wsify.pid], x11vnc: [x11vnc.pid], websockify: [wsify.pid], xvfb: [xvfb.pid], browser: [browser.wrPid],
        }, workload);
        stats.ttff_ms = round1(raw.firstFrameAt - raw.wsOpenedAt);
        stats.ttff_from_ws_ms = stats.ttff_ms;
        await page.screenshot({ path: path.join(ARTIFACTS, `${tag}-${workload}.png`) }).catch(() => {});
        const summary = await stopStamp(stamp);
        results.cases.push({ system, size: `${size.width}x${size.height}`, workload, loadavg: load, stamp: summary, ...stats });
        log(`${system} ${size.width}x${size.height} ${workload}: p50 ${stats.latency_ms.p50} p95 ${stats.latency_ms.p95} ms, ${stats.updates_per_s} upd/s, torn ${stats.torn}, cpu ${JSON.stringify(stats.cpu)}`);
      } catch (err) {
        log(`${system} ${size.width}x${size.height} ${workload} FAILED: ${err.message}`);
        results.cases.push({ system, size: `${size.width}x${size.height}`, workload, error: String(err.message).slice(0, 500) });
        await stopStamp(stamp);
      }
      await closeSession();
    }
  } finally {
    await fsp.writeFile(path.join(ARTIFACTS, `${tag}-console.log`), page.wrConsole.join('\n') + '\n').catch(() => {});
    await context.close().catch(() => {});
    await stopProcess(wsify);
    await stopProcess(x11vnc);
  }
}

/**
 * The reader's own floor: a page paints the stamp into its canvas with
 * Date.now() every ~100 ms (jittered like stamp.c) and the same canvas
 * reader reads it back on the next animation frame. Nothing is captured or
 * sent, so what remains is the wait for the browser's next frame and the
 * reader's time base: the offset and spread every canvas figure carries.
 */
async function benchCalibration({ browser, size, results }) {
  const { context, page } = await newReaderPage(browser, size, 'canvas', 'canvas#cal');
  try {
    await page.setContent(`<body style="margin:0;background:#808080"><canvas id="cal" width="${size.width}" height="${size.height}"></canvas></body>`);
    if (!(await page.evaluate(() => !!window.__wrStamp))) throw new Error('the reader is not in the calibration page');
    await page.evaluate(({ B, H }) => {
      const c = document.getElementById('cal').getContext('2d');
      const crc8 = (v) => {
        let crc = 0;
        for (let byte = 3; byte >= 0; byte--) {
          crc ^= (v >>> (8 * byte)) & 0xff;
          for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
        }
        return crc;
      };
      const paint = (y, v) => {
        const crc = crc8(v);
        for (let i = 0; i < 44; i++) {
          let bit;
          if (i === 0 || i === 43) bit = 1;
          else if (i === 1 || i === 42) bit = 0;
          else if (i - 2 < 32) bit = (v >>> (31 - (i - 2))) & 1;
          else bit = (crc >> (7 - (i - 34))) & 1;
          c.fillStyle = bit ? '#fff' : '#000';
          c.fillRect(B + i * B, y, B, B);
        }
      };
      const tick = () => {
        const v = Date.now() >>> 0;
        paint(B, v);
        paint(H - 2 * B, v);
        setTimeout(tick, 75 + Math.random() * 50);
      };
      tick();
    }, { B: BLOCK, H: size.height });
    await waitFirstFrame(page, 'calibration');
    const { stats } = await measure(page, { browser: [browser.wrPid] }, 'static');
    results.cases.push({ system: 'calibration (in-page)', size: `${size.width}x${size.height}`, workload: 'static', loadavg: loadavg(), ...stats });
    log(`calibration ${size.width}x${size.height}: p50 ${stats.latency_ms.p50} p95 ${stats.latency_ms.p95} min ${stats.latency_ms.min}`);
  } finally {
    await context.close().catch(() => {});
  }
}

// ---------------------------------------------------------------- report

function machine() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const version = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString().trim().split('\n')[0];
    } catch {
      return null;
    }
  };
  const dpkg = (pkg) => version('dpkg-query', ['-W', '-f=${Version}', pkg]);
  return {
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown',
    cores: os.cpus().length,
    kernel: os.release(),
    os: /PRETTY_NAME="(.*)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1],
    chromium: version(CHROMIUM, ['--version']),
    gstreamer: dpkg('libgstreamer1.0-0'),
    x11vnc: dpkg('x11vnc'),
    novnc: dpkg('novnc'),
    websockify: dpkg('websockify'),
    xvfb: dpkg('xvfb'),
    node: process.version,
    agent: version(AGENT_BIN, ['--version']),
  };
}

const fmt = (x) => (x === null || x === undefined ? '-' : String(x));

function markdown(results) {
  const lines = [
    '| system | size | workload | p50 ms | p95 ms | p99 ms | fps shown | updates/s | untorn/s | torn (rows+in row) | unreadable | freezes | sender CPU | browser CPU | Xvfb CPU | first frame ms | load |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const c of results.cases) {
    if (c.error) {
      lines.push(`| ${c.system} | ${c.size} | ${c.workload} | failed: ${c.error.split('\n')[0].slice(0, 80)} |`);
      continue;
    }
    lines.push(`| ${c.system} | ${c.size} | ${c.workload} | ${fmt(c.latency_ms.p50)} | ${fmt(c.latency_ms.p95)} | ${fmt(c.latency_ms.p99)} | ` +
      `${fmt(c.frames_per_s)} | ${fmt(c.updates_per_s)} | ${fmt(c.untorn_updates_per_s)} | ${c.torn}+${c.torn_in_stamp_row} | ${c.unreadable_frames - c.torn_in_stamp_row} | ${c.freezes} | ` +
      `${fmt(c.cpu.sender)} % | ${fmt(c.cpu.browser)} % | ${fmt(c.cpu.xvfb)} % | ${fmt(c.ttff_ms)} | ${fmt(c.loadavg?.[0])} |`);
  }
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

async function main() {
  for (const [what, file] of [['stamp', STAMP_BIN], ['agent', AGENT_BIN], ['Chromium', CHROMIUM]]) {
    if (!fs.existsSync(file)) throw new Error(`${what} not found at ${file}`);
  }
  await fsp.mkdir(ARTIFACTS, { recursive: true });
  const results = {
    date: new Date().toISOString(),
    machine: machine(),
    settings: { sizes: SIZES, workloads: WORKLOADS, systems: SYSTEMS, profiles: PROFILES, duration_s: DURATION, warmup_s: WARMUP, block_px: BLOCK },
    loadavg_start: loadavg(),
    checks: [],
    cases: [],
  };
  log(`machine: ${JSON.stringify(results.machine)}; load ${results.loadavg_start}`);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: false, // --headless=new is in CHROMIUM_ARGS
    args: CHROMIUM_ARGS,
    env: { ...process.env, DISPLAY: '' },
    timeout: 30000,
  });
  // playwright-core's Browser does not expose its process: take our
  // child that is Chromium (the renderers and the GPU process are its
  // descendants).
  browser.wrPid = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number).find((pid) => {
    try {
      const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === process.pid && /chrom/i.test(fs.readFileSync(`/proc/${pid}/comm`, 'utf8'));
    } catch {
      return false;
    }
  });
  if (!browser.wrPid) throw new Error('no Chromium pid: cannot measure browser CPU');
  try {
    for (const s of SIZES) {
      const [width, height] = s.split('x').map(Number);
      const size = { width, height };
      const { child: xvfb, display } = await startXvfb({ width, height, logName: `xvfb-${s}`, animate: false });
      try {
        // Pixel-exact decode of an X screenshot.
        const fixed = 0x5ca1ab1e;
        const st = await startStamp(display, ['--fixed', String(fixed)], `stamp-xwd-${s}`);
        const xwd = execFileSync('xwd', ['-root', '-silent', '-display', display], { maxBuffer: 64 << 20 });
        const got = decodeXwd(xwd);
        results.checks.push({ system: 'X screenshot (xwd)', size: s, value: fixed, top: got.top, bottom: got.bottom, exact: got.top === fixed && got.bottom === fixed });
        log(`xwd check ${s}: painted ${fixed}, decoded top ${got.top} bottom ${got.bottom}`);
        if (got.top !== fixed || got.bottom !== fixed) throw new Error('the decoder does not read what stamp.c paints');
        await stopStamp(st);

        for (const system of SYSTEMS) {
          if (system === 'webremote') {
            for (const profile of PROFILES.length ? PROFILES : [null]) {
              const tag = `${s}-webremote${profile ? '-' + profile : ''}`;
              try {
                await benchWebremote({ browser, size, display, xvfb, profile, results, tag });
              } catch (err) {
                log(`${tag} FAILED: ${err.stack}`);
                results.cases.push({ system: profile ? `webremote/${profile}` : 'webremote', size: s, workload: '*', error: String(err.message).slice(0, 500) });
              }
            }
          } else if (system === 'calibration') {
            try {
              await benchCalibration({ browser, size, results });
            } catch (err) {
              log(`calibration FAILED: ${err.stack}`);
              results.cases.push({ system: 'calibration (in-page)', size: s, workload: 'static', error: String(err.message).slice(0, 500) });
            }
          } else if (system === 'novnc') {
            const tag = `${s}-novnc`;
            try {
              await benchNovnc({ browser, size, display, xvfb, results, tag });
            } catch (err) {
              log(`${tag} FAILED: ${err.stack}`);
              results.cases.push({ system: 'x11vnc+noVNC', size: s, workload: '*', error: String(err.message).slice(0, 500) });
            }
          } else {
            throw new Error(`unknown system ${system}`);
          }
        }
      } finally {
        await stopProcess(xvfb);
      }
    }
  } finally {
    await browser.close().catch(() => {});
    await stopAll();
  }
  results.loadavg_end = loadavg();
  await fsp.mkdir(path.dirname(OUT_JSON), { recursive: true });
  await fsp.writeFile(OUT_JSON, JSON.stringify(results, null, 1) + '\n');
  const md = markdown(results);
  await fsp.writeFile(OUT_MD, md);
  process.stdout.write(md);
  process.stdout.write(`\nchecks: ${JSON.stringify(results.checks)}\nJSON: ${OUT_JSON}\nmarkdown: ${OUT_MD}\n`);
}

main().catch(async (err) => {
  console.error(err.stack || err);
  await stopAll();
  process.exit(1);
});
