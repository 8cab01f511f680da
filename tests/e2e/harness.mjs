// Starts and stops the real processes of an end-to-end run on loopback:
// Xvfb, an xterm on it, webremote-gateway and webremote-agent. Everything it
// starts is tracked and killed by stopAll(), even when a test fails.

import { spawn, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SOURCE_ROOT = process.env.WR_SOURCE_ROOT || path.resolve(here, '..', '..');
export const BUILD_ROOT = process.env.WR_BUILD_ROOT || path.join(SOURCE_ROOT, 'build');
export const ARTIFACTS = process.env.WR_E2E_ARTIFACTS || '/tmp/wr-e2e';
export const WEB_ROOT = process.env.WR_WEB_ROOT || path.join(SOURCE_ROOT, 'web', 'dist');
export const CHROMIUM = process.env.WR_CHROMIUM || '/usr/bin/chromium';

export const GATEWAY_BIN = path.join(BUILD_ROOT, 'gateway', 'webremote-gateway');
export const AGENT_BIN = path.join(BUILD_ROOT, 'agent', 'webremote-agent');
export const CTL_BIN = path.join(BUILD_ROOT, 'gateway', 'webremotectl');

// The flag set known to work here (shared/design/platform-notes.md): loopback
// ICE candidates need the first two media flags; the rest keep Chromium off
// the (closed) network.
export const CHROMIUM_ARGS = [
  '--headless=new',
  '--no-sandbox',
  '--allow-loopback-in-peer-connection',
  '--use-fake-ui-for-media-stream',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

const children = new Set();

export function log(...args) {
  const t = new Date().toISOString().slice(11, 23);
  console.error(`[e2e ${t}]`, ...args);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Thrown inside a waitFor() callback to stop waiting at once. */
export class Fatal extends Error {}

/** Polls `fn` until it returns a truthy value; throws `what` on timeout. */
export async function waitFor(what, fn, { timeout = 15000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const detail = lastError ? ` (last error: ${lastError.message ?? lastError})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${detail}`);
    }
    await sleep(interval);
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Spawns a tracked process. Its output goes to ARTIFACTS/<name>.log; `onLine`
 * sees stdout line by line.
 */
export function startProcess(name, cmd, args, { env = {}, onLine, stdio } = {}) {
  const logPath = path.join(ARTIFACTS, `${name}.log`);
  fs.mkdirSync(path.dirname(logPath), { recursive: true });
  const logStream = fs.createWriteStream(logPath);
  logStream.write(`$ ${cmd} ${args.join(' ')}\n`);
  const child = spawn(cmd, args, {
    env: { ...process.env, ...env },
    stdio: stdio ?? ['ignore', 'pipe', 'pipe'],
  });
  child.wrName = name;
  child.wrLog = logPath;
  child.wrExited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      child.wrExit = { code, signal };
      logStream.write(`\n[exited: code ${code} signal ${signal}]\n`);
      children.delete(child);
      resolve({ code, signal });
    });
  });
  child.on('error', (err) => logStream.write(`\n[spawn error: ${err.message}]\n`));
  let pending = '';
  child.stdout?.on('data', (chunk) => {
    logStream.write(chunk);
    if (!onLine) return;
    pending += chunk.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr?.on('data', (chunk) => logStream.write(chunk));
  children.add(child);
  return child;
}

export async function stopProcess(child, timeout = 3000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([child.wrExited.then(() => true), sleep(timeout).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([child.wrExited, sleep(1000)]);
  }
}

/** Stops every process still running, newest first. */
export async function stopAll() {
  const list = [...children].reverse();
  for (const child of list) {
    try {
      await stopProcess(child);
    } catch (err) {
      log(`stopping ${child.wrName}: ${err.message}`);
    }
  }
}

// Last resort when the runner itself is torn down.
process.on('exit', () => {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function run(cmd, args, { env = {}, timeout = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\n${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

/**
 * Xvfb on a free display. Returns ":N". With `animate` (the default) a
 * small animation runs in its bottom-right corner.
 *
 * The number is picked at random from a high range rather than left to
 * Xvfb's lowest-free choice: other X servers on a shared machine cluster at
 * :0, :1..., and one of them going away removes the socket of a neighbour
 * that shares its number. -displayfd still tells when the server is ready.
 */
export async function startXvfb({ width = 1280, height = 720, logName = 'xvfb', animate = true } = {}) {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    const n = 200 + Math.floor(Math.random() * 700);
    if (fs.existsSync(`/tmp/.X${n}-lock`) || fs.existsSync(`/tmp/.X11-unix/X${n}`)) continue;
    const child = startProcess(
      logName,
      'Xvfb',
      [`:${n}`, '-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp'],
      { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] },
    );
    try {
      const display = await new Promise((resolve, reject) => {
        let buf = '';
        const timer = setTimeout(() => reject(new Error('Xvfb did not report its display within 10 s')), 10000);
        child.stdio[3].on('data', (chunk) => {
          buf += chunk.toString();
          const m = /^(\d+)\s*\n/.exec(buf);
          if (m) {
            clearTimeout(timer);
            resolve(`:${m[1]}`);
          }
        });
        child.wrExited.then(({ code, signal }) => {
          clearTimeout(timer);
          reject(new Error(`Xvfb exited (code ${code}, signal ${signal}): ${tail(child.wrLog, 10)}`));
        });
      });
      // Answering X clients, not only listening.
      await waitFor(`the X server on ${display}`, async () => {
        if (child.wrExit) throw new Fatal(`Xvfb exited: ${tail(child.wrLog, 10)}`);
        await run('xdpyinfo', ['-display', display], { timeout: 5000 });
        return true;
      }, { timeout: 10000 });
      log(`Xvfb on ${display}`);
      if (animate) {
        // The agent captures on screen damage: a desktop where nothing moves
        // sends about one frame a second. A small spinning object in the
        // bottom-left corner (where no test clicks; startXterm keeps it on
        // top) keeps frames coming, as on a real desktop; animate: false
        // for a still screen.
        startProcess(`${logName}-ico`, 'ico',
          ['-display', display, '-geometry', `64x64+0+${height - 64}`, '-sleep', '0.02', '-faces'],
          { env: { DISPLAY: display } });
      }
      return { child, display };
    } catch (err) {
      lastError = err;
      log(`Xvfb on :${n} failed, trying another display: ${err.message}`);
      await stopProcess(child);
    }
  }
  throw lastError ?? new Error('no free X display found');
}

/**
 * An xterm covering the whole screen whose shell only runs `cat > outFile`:
 * whatever is typed on the X side ends up in the file, line by line.
 */
export async function startXterm(display, outFile, logName = 'xterm') {
  const child = startProcess(
    logName,
    'xterm',
    [
      '-display', display,
      '-geometry', '400x200+0+0',
      '-bg', '#ffffff',
      '-fg', '#111111',
      '-fa', 'Monospace',
      '-fs', '14',
      '+sb',
      '-b', '0',
      '-bw', '0',
      '-title', 'e2e-typing-target',
      '-e', 'sh', '-c', `cat > '${outFile}'`,
    ],
    { env: { DISPLAY: display } },
  );
  await waitFor('the xterm window', async () => {
    if (child.wrExit) throw new Fatal(`xterm exited: ${tail(child.wrLog, 10)}`);
    const out = await run('xdotool', ['search', '--onlyvisible', '--name', 'e2e-typing-target'], { env: { DISPLAY: display } }).catch(() => '');
    return out.trim() && fs.existsSync(outFile);
  });
  // Keep startXvfb's animation visible above the full-screen xterm.
  await run('xdotool', ['search', '--name', '^Ico', 'windowraise', '%@'], { env: { DISPLAY: display } }).catch(() => '');
  return child;
}

export async function pointerLocation(display) {
  const out = await run('xdotool', ['getmouselocation', '--shell'], { env: { DISPLAY: display } });
  const x = Number(/X=(\d+)/.exec(out)?.[1]);
  const y = Number(/Y=(\d+)/.exec(out)?.[1]);
  return { x, y };
}

/** JSON over HTTPS to the gateway, accepting its self-signed certificate. */
export function httpsJson(base, method, urlPath, { body, token } = {}) {
  const url = new URL(urlPath, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        rejectUnauthorized: false,
        headers: {
          Accept: 'application/json',
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        timeout: 5000,
      },
      (res) => {
        let data = '';
        res.on('data', (c) => (data += c));
        res.on('end', () => {
          let json;
          try {
            json = data ? JSON.parse(data) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode, body: json, text: data, headers: res.headers });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function makeTempDir() {
  return fsp.mkdtemp('/tmp/wr-e2e-run-');
}

export function randomSecret() {
  return randomBytes(24).toString('hex');
}

/**
 * The gateway on a free loopback port with a fresh state directory.
 * `config` (optional): the text of a gateway keyfile, or a function of the
 * chosen port returning it (an [oidc] redirect-uri names the port); it is
 * written next to the state directory and passed with --config, with
 * `[recording] ice-addresses = 127.0.0.1` added unless it has a
 * [recording] group.
 * Agents authenticate with certificates from enrollment (startAgent), so the
 * gateway gets no agent token.
 */
export async function startGateway({ stateDir, password, logName = 'gateway', config }) {
  const env = { WEBREMOTE_ADMIN_PASSWORD: password };
  const fingerprint = (
    await run(GATEWAY_BIN, ['--print-fingerprint', '--state-dir', stateDir], { env, timeout: 20000 })
  ).trim().split('\n').pop().trim();
  if (!/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/i.test(fingerprint)) {
    throw new Error(`--print-fingerprint printed ${JSON.stringify(fingerprint)}, not a SHA-256 fingerprint`);
  }
  const port = await freePort();
  // The gateway's local recorder is a WebRTC peer of agents that gather
  // 127.0.0.1 only (startAgent): it gets the same ICE restriction.
  let text = config === undefined ? '' : typeof config === 'function' ? config(port) : config;
  if (!/^\[recording\]/m.test(text)) text += '\n[recording]\nice-addresses = 127.0.0.1\n';
  const configFile = `${stateDir.replace(/\/+$/, '')}.conf`;
  await fsp.writeFile(configFile, text, { mode: 0o600 });
  const configArgs = ['--config', configFile];
  let listening = null;
  const child = startProcess(
    logName,
    GATEWAY_BIN,
    [
      ...configArgs,
      '--listen', '127.0.0.1',
      '--port', String(port),
      '--state-dir', stateDir,
      '--web-root', WEB_ROOT,
    ],
    {
      env,
      onLine: (line) => {
        const m = /webremote-gateway: listening on (https:\/\/\S+)/.exec(line);
        if (m) listening = m[1];
      },
    },
  );
  const base = `https://127.0.0.1:${port}`;
  await waitFor('the gateway to listen', async () => {
    if (child.wrExit) throw new Fatal(`gateway exited: ${tail(child.wrLog, 20)}`);
    if (!listening) return false;
    const res = await httpsJson(base, 'GET', '/healthz');
    return res.status === 200;
  }, { timeout: 20000 });
  log(`gateway ready at ${base} (announced ${listening})`);
  return { child, base, port, fingerprint, stateDir };
}

/**
 * Enrolls an agent with `gateway` (what startGateway returned) and starts
 * it: webremotectl makes a single-use token in the gateway's store,
 * `webremote-agent enroll` trades it for a client certificate (pinning the
 * gateway by its fingerprint), and the agent then connects with that
 * certificate over mTLS. Its state directory sits next to the gateway's, so
 * the test's temporary directory holds it. `group` (optional) is the agent
 * group it joins, else the default one.
 */
export async function startAgent({ gateway, display, id, name, group, logName = 'agent', args = [] }) {
  if (!gateway?.stateDir) throw new Error('startAgent needs { gateway } as returned by startGateway');
  const agentState = path.join(path.dirname(gateway.stateDir.replace(/\/+$/, '')), `agent-${id}`);
  await fsp.mkdir(agentState, { recursive: true, mode: 0o700 });
  const enrollToken = (
    await run(CTL_BIN, [
      '--state-dir', gateway.stateDir,
      'enroll', 'create',
      ...(group ? ['--group', group] : []),
      '--ttl', '1h',
    ], { timeout: 20000 })
  ).trim().split('\n').pop().trim();
  if (!/^[0-9a-f]{64}$/i.test(enrollToken)) {
    throw new Error('webremotectl enroll create did not print a token');
  }
  // The token goes through a file so it stays off the process list.
  const tokenFile = path.join(agentState, 'enroll.token');
  await fsp.writeFile(tokenFile, enrollToken + '\n', { mode: 0o600 });
  const enrollLog = path.join(ARTIFACTS, `${logName}-enroll.log`);
  try {
    const out = await run(AGENT_BIN, [
      'enroll', gateway.base,
      '--token-file', tokenFile,
      '--ca-fingerprint', gateway.fingerprint,
      '--state-dir', agentState,
      '--id', id,
    ], { timeout: 20000 });
    await fsp.writeFile(enrollLog, out);
  } catch (err) {
    await fsp.writeFile(enrollLog, err.message);
    throw new Error(`webremote-agent enroll failed for ${id}: ${err.message}`);
  } finally {
    await fsp.rm(tokenFile, { force: true });
  }
  const child = startProcess(logName, AGENT_BIN, [
    '--state-dir', agentState,
    '--display', display,
    '--ice-address', '127.0.0.1',
    '--name', name,
    ...args,
  ], { env: { DISPLAY: display } });
  child.wrStateDir = agentState;
  return child;
}

export const OIDC_DIR = path.join(SOURCE_ROOT, 'tests', 'oidc');

/**
 * The test OpenID provider (tests/oidc/provider.mjs) on a free loopback
 * port. Resolves to { child, issuer, port } once it printed its ready line.
 */
export async function startOidcProvider({ clientId, clientSecret, redirectUri, logName = 'oidc-provider' }) {
  let ready = null;
  const child = startProcess(
    logName,
    process.execPath,
    [
      path.join(OIDC_DIR, 'provider.mjs'),
      '--port', '0',
      '--client-id', clientId,
      '--client-secret', clientSecret,
      '--redirect-uri', redirectUri,
    ],
    {
      onLine: (line) => {
        try {
          const j = JSON.parse(line);
          if (j.issuer && j.port) ready = j;
        } catch {
          // not the ready line
        }
      },
    },
  );
  await waitFor('the OpenID provider to be ready', async () => {
    if (child.wrExit) throw new Fatal(`OpenID provider exited: ${tail(child.wrLog, 20)}`);
    return ready;
  }, { timeout: 20000 });
  log(`OpenID provider ready at ${ready.issuer}`);
  return { child, issuer: ready.issuer, port: ready.port };
}
