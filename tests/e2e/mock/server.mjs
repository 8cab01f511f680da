// A throwaway in-memory imitation of the gateway's issue-3 REST API
// (docs/api.md), for looking at the web client's pages during development
// only: the real tests never use it. Serves web/dist over plain HTTP on
// 127.0.0.1 (localhost counts as a secure context in Chromium).
//
//   node tests/e2e/mock/server.mjs [PORT]

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { totp, totpStep } from '../totp.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const WEB_ROOT = process.env.WR_WEB_ROOT || path.resolve(here, '..', '..', '..', 'web', 'dist');
const now = () => Math.floor(Date.now() / 1000);
const rnd = (n = 16) => randomBytes(n).toString('hex');

const AGENT_PERMS = ['view', 'control', 'clipboard', 'file-transfer', 'command', 'record'];
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const newSecret = () => Array.from(randomBytes(20), (b) => BASE32[b % 32]).join('');

/** Real RFC 6238 check (this step or the one before), each step usable once. */
function totpOk(u, code) {
  if (!u.totp || typeof code !== 'string') return false;
  for (const step of [totpStep(), totpStep() - 1]) {
    if (step > (u.lastStep ?? -1) && totp(u.totp, step * 30) === code) {
      u.lastStep = step;
      return true;
    }
  }
  return false;
}
// MOCK_SEED=minimal: only admin, the built-in roles, group default and two
// machines, like a fresh gateway (for mock/check-admin-steps.mjs).
const minimal = process.env.MOCK_SEED === 'minimal';
const state = {
  users: {
    admin: { name: 'admin', display_name: 'Administrator', password: 'admin-pass', disabled: false, totp: null, sso: false, locked_until: null, created_at: now() - 86400 * 30 },
    alice: { name: 'alice', display_name: 'Alice Martin', password: 'alice-pass', disabled: false, totp: 'JBSWY3DPEHPK3PXP', recovery: ['abcde-12345'], sso: false, locked_until: null, created_at: now() - 86400 * 12 },
    bob: { name: 'bob', display_name: '', password: 'bob-pass', disabled: true, totp: null, sso: false, locked_until: null, created_at: now() - 86400 * 3 },
    carol: { name: 'carol', display_name: 'Carol (IT)', password: null, disabled: false, totp: null, sso: true, locked_until: now() + 600, created_at: now() - 3600 },
  },
  roles: [
    { name: 'admin', builtin: true, permissions: [...AGENT_PERMS, 'admin', 'audit', 'enroll'] },
    { name: 'operator', builtin: true, permissions: ['view', 'control', 'clipboard', 'file-transfer'] },
    { name: 'viewer', builtin: true, permissions: ['view'] },
    { name: 'auditor', builtin: true, permissions: ['view', 'audit'] },
    { name: 'helpdesk', builtin: false, permissions: ['view', 'control', 'clipboard'] },
  ],
  groups: [
    { name: 'default', require_reason: false },
    { name: 'kiosks', require_reason: true },
    { name: 'lab', require_reason: false },
  ],
  grants: [
    { id: 1, subject_kind: 'user', subject: 'admin', role: 'admin', group: null },
    { id: 2, subject_kind: 'user', subject: 'alice', role: 'helpdesk', group: 'kiosks' },
    { id: 3, subject_kind: 'oidc-group', subject: 'it-support', role: 'operator', group: 'lab' },
    { id: 4, subject_kind: 'user', subject: 'bob', role: 'viewer', group: 'default' },
  ],
  nextGrant: 5,
  agents: [
    { id: 'reception-01', name: 'Reception desk', online: true, version: '0.3.0', displays: [{ name: ':0', width: 1920, height: 1080 }], encoders: ['x264enc'], pipelines: [{ display: ':0', encoder: 'x264enc', peers: 1 }], last_seen: now(), group: 'kiosks' },
    { id: 'lab-ws-7', name: 'Lab workstation 7', online: true, version: '0.3.0', displays: [{ name: ':0', width: 2560, height: 1440 }, { name: ':1', width: 1280, height: 720 }], encoders: ['x264enc'], pipelines: [], last_seen: now(), group: 'lab' },
    { id: 'build-server', name: 'Build server', online: false, version: '0.2.1', displays: [{ name: ':0', width: 1280, height: 720 }], encoders: [], pipelines: [], last_seen: now() - 7200, group: 'default' },
  ],
  tokens: { admin: [{ name: 'backup-script', scopes: ['view'], created_at: now() - 86400 * 5, expires_at: now() + 86400 * 25 }] },
  access: new Map(), // token -> user
  refresh: new Map(), // cookie -> user
};

if (minimal) {
  state.users = { admin: { ...state.users.admin, password: process.env.MOCK_ADMIN_PASSWORD || 'admin-pass' } };
  state.roles = state.roles.filter((r) => r.builtin);
  state.groups = [{ name: 'default', require_reason: false }];
  state.grants = [state.grants[0]];
  state.tokens = {};
  state.agents = [
    { ...state.agents[1], id: 'lab-agent', name: 'Lab machine', group: 'default' },
    { ...state.agents[0], id: 'office-agent', name: 'Office machine', group: 'default' },
  ];
}

function permsOn(user, group) {
  const perms = new Set();
  for (const g of state.grants) {
    if (g.subject_kind !== 'user' || g.subject !== user) continue;
    if (g.group !== null && g.group !== group) continue;
    for (const p of state.roles.find((r) => r.name === g.role)?.permissions ?? []) perms.add(p);
  }
  return perms;
}

function systemPerms(user) {
  const all = new Set();
  for (const g of state.grants) {
    if (g.subject_kind === 'user' && g.subject === user) for (const p of state.roles.find((r) => r.name === g.role)?.permissions ?? []) all.add(p);
  }
  return ['admin', 'audit', 'enroll'].filter((p) => all.has(p));
}

const publicUser = (u) => ({ name: u.name, display_name: u.display_name, permissions: systemPerms(u.name), totp_enabled: !!u.totp, sso: u.sso });
const adminUser = (u) => ({ name: u.name, display_name: u.display_name, disabled: u.disabled, totp_enabled: !!u.totp, sso: u.sso, locked_until: u.locked_until, created_at: u.created_at });

function agentFor(a, user) {
  const group = state.groups.find((g) => g.name === a.group);
  const perms = permsOn(user, a.group);
  return { ...a, require_reason: !!group?.require_reason, permissions: AGENT_PERMS.filter((p) => perms.has(p)) };
}

function issue(res, user) {
  const token = rnd();
  state.access.set(token, user);
  const cookie = rnd();
  state.refresh.set(cookie, user);
  res.setHeader('Set-Cookie', `wr_refresh=${cookie}; HttpOnly; SameSite=Strict; Path=/api/v1/auth`);
  return { token, expires_in: 600, user: publicUser(state.users[user]) };
}

function send(res, status, body) {
  res.statusCode = status;
  res.setHeader('Cache-Control', 'no-store');
  if (body === undefined) return res.end();
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(body));
}
const fail = (res, status, code, message) => send(res, status, { code, message });

function cookieOf(req) {
  return /(?:^|;\s*)wr_refresh=([^;]+)/.exec(req.headers.cookie || '')?.[1];
}

async function readBody(req) {
  let data = '';
  for await (const c of req) data += c;
  if (!data) return {};
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

async function api(req, res, url) {
  const p = url.pathname.replace(/^\/api\/v1/, '');
  const m = req.method;
  const body = m === 'GET' || m === 'DELETE' ? {} : await readBody(req);
  if (body === null) return fail(res, 400, 'bad_request', 'the body is not JSON');

  if (p === '/login' && m === 'POST') {
    const u = state.users[body.username];
    if (!u || u.password !== body.password) return fail(res, 401, 'unauthorized', 'wrong username or password');
    if (u.disabled) return fail(res, 401, 'unauthorized', 'wrong username or password');
    if (u.name === 'locked') return fail(res, 423, 'locked', 'too many failed sign-ins; try again in 14 minutes');
    if (u.totp && !body.totp_code && !body.recovery_code) return fail(res, 401, 'totp_required', 'enter the code');
    if (u.totp && body.recovery_code !== undefined) {
      const i = (u.recovery ?? []).indexOf(body.recovery_code);
      if (i < 0) return fail(res, 401, 'totp_invalid', 'wrong recovery code');
      u.recovery.splice(i, 1);
    } else if (u.totp && !totpOk(u, body.totp_code) && body.totp_code !== '123456') {
      return fail(res, 401, 'totp_invalid', 'wrong code');
    }
    return send(res, 200, issue(res, u.name));
  }
  if (p === '/auth/sso' && m === 'GET') return send(res, 200, { enabled: true, label: 'Sign in with SSO' });
  if (p.startsWith('/auth/') && req.headers['x-requested-with'] !== 'webremote') return fail(res, 403, 'csrf', 'missing X-Requested-With');
  if (p === '/auth/refresh' && m === 'POST') {
    const c = cookieOf(req);
    const user = c && state.refresh.get(c);
    if (!user) return fail(res, 401, 'unauthorized', 'no session');
    state.refresh.delete(c);
    return send(res, 200, issue(res, user));
  }
  if (p === '/auth/logout' && m === 'POST') {
    const c = cookieOf(req);
    if (c) state.refresh.delete(c);
    res.setHeader('Set-Cookie', 'wr_refresh=; Max-Age=0; Path=/api/v1/auth');
    return send(res, 204);
  }

  const token = /^Bearer (.+)$/.exec(req.headers.authorization || '')?.[1];
  const who = token && state.access.get(token);
  if (!who) return fail(res, 401, 'unauthorized', 'log in first');
  const me = state.users[who];
  const isAdmin = systemPerms(who).includes('admin');

  if (p === '/me' && m === 'GET') return send(res, 200, publicUser(me));
  if (p === '/me/password' && m === 'POST') {
    if (body.current_password !== me.password) return fail(res, 400, 'wrong_password', 'the current password is wrong');
    me.password = body.new_password;
    return send(res, 204);
  }
  if (p === '/me/totp/setup' && m === 'POST') {
    me.pending = newSecret();
    return send(res, 200, { secret: me.pending, otpauth_uri: `otpauth://totp/webremote:${who}?secret=${me.pending}&issuer=webremote&algorithm=SHA1&digits=6&period=30` });
  }
  if (p === '/me/totp/enable' && m === 'POST') {
    me.totp = me.pending;
    if (!totpOk(me, body.code) && body.code !== '123456') {
      me.totp = null;
      return fail(res, 400, 'totp_invalid', 'the code is not valid');
    }
    me.recovery = Array.from({ length: 10 }, () => rnd(5).replace(/(.{5})/, '$1-'));
    return send(res, 200, { recovery_codes: me.recovery });
  }
  if (p === '/me/totp/disable' && m === 'POST') {
    if (body.password !== me.password) return fail(res, 400, 'wrong_password', 'the password is wrong');
    me.totp = null;
    return send(res, 204);
  }
  if (p === '/me/tokens' && m === 'GET') return send(res, 200, { tokens: state.tokens[who] ?? [] });
  if (p === '/me/tokens' && m === 'POST') {
    const t = { name: body.name, scopes: body.scopes, created_at: now(), expires_at: now() + body.expires_in };
    (state.tokens[who] ??= []).push(t);
    return send(res, 201, { ...t, token: 'wrt_' + rnd(20) });
  }
  let mm;
  if ((mm = /^\/me\/tokens\/(.+)$/.exec(p)) && m === 'DELETE') {
    state.tokens[who] = (state.tokens[who] ?? []).filter((t) => t.name !== decodeURIComponent(mm[1]));
    return send(res, 204);
  }
  if (p === '/agents' && m === 'GET') {
    return send(res, 200, { agents: state.agents.map((a) => agentFor(a, who)).filter((a) => a.permissions.includes('view')) });
  }
  if ((mm = /^\/agents\/([^/]+)$/.exec(p)) && m === 'GET') {
    const a = state.agents.find((x) => x.id === decodeURIComponent(mm[1]));
    return a ? send(res, 200, agentFor(a, who)) : fail(res, 404, 'not_found', 'no such agent');
  }

  if (!isAdmin) return fail(res, 403, 'forbidden', 'admin permission required');
  if ((mm = /^\/agents\/([^/]+)\/group$/.exec(p)) && m === 'PUT') {
    const a = state.agents.find((x) => x.id === decodeURIComponent(mm[1]));
    if (!a) return fail(res, 404, 'not_found', 'no such agent');
    if (!state.groups.some((g) => g.name === body.group)) return fail(res, 400, 'bad_request', 'no such group');
    a.group = body.group;
    return send(res, 200, agentFor(a, who));
  }
  if (p === '/users' && m === 'GET') return send(res, 200, { users: Object.values(state.users).map(adminUser) });
  if (p === '/users' && m === 'POST') {
    if (state.users[body.name]) return fail(res, 409, 'exists', `a user named ${body.name} already exists`);
    state.users[body.name] = { name: body.name, display_name: body.display_name ?? '', password: body.password, disabled: false, totp: null, sso: false, locked_until: null, created_at: now() };
    return send(res, 201, adminUser(state.users[body.name]));
  }
  if ((mm = /^\/users\/([^/]+)$/.exec(p))) {
    const u = state.users[decodeURIComponent(mm[1])];
    if (!u) return fail(res, 404, 'not_found', 'no such user');
    if (m === 'PATCH') {
      if ('disabled' in body) u.disabled = body.disabled;
      if ('password' in body) u.password = body.password;
      if (body.totp_enabled === false) u.totp = null;
      if ('display_name' in body) u.display_name = body.display_name;
      return send(res, 200, adminUser(u));
    }
    if (m === 'DELETE') {
      delete state.users[u.name];
      return send(res, 204);
    }
  }
  if (p === '/roles' && m === 'GET') return send(res, 200, { roles: state.roles });
  if (p === '/roles' && m === 'POST') {
    if (state.roles.some((r) => r.name === body.name)) return fail(res, 409, 'exists', `a role named ${body.name} already exists`);
    state.roles.push({ name: body.name, builtin: false, permissions: body.permissions });
    return send(res, 201, state.roles.at(-1));
  }
  if ((mm = /^\/roles\/([^/]+)$/.exec(p))) {
    const r = state.roles.find((x) => x.name === decodeURIComponent(mm[1]));
    if (!r) return fail(res, 404, 'not_found', 'no such role');
    if (r.builtin) return fail(res, 409, 'builtin', 'built-in roles cannot be changed');
    if (m === 'PATCH') {
      r.permissions = body.permissions;
      return send(res, 200, r);
    }
    if (m === 'DELETE') {
      if (state.grants.some((g) => g.role === r.name)) return fail(res, 409, 'in_use', `the role ${r.name} is still granted`);
      state.roles = state.roles.filter((x) => x !== r);
      return send(res, 204);
    }
  }
  if (p === '/groups' && m === 'GET') return send(res, 200, { groups: state.groups });
  if (p === '/groups' && m === 'POST') {
    if (state.groups.some((g) => g.name === body.name)) return fail(res, 409, 'exists', `a group named ${body.name} already exists`);
    state.groups.push({ name: body.name, require_reason: !!body.require_reason });
    return send(res, 201, state.groups.at(-1));
  }
  if ((mm = /^\/groups\/([^/]+)$/.exec(p))) {
    const g = state.groups.find((x) => x.name === decodeURIComponent(mm[1]));
    if (!g) return fail(res, 404, 'not_found', 'no such group');
    if (m === 'PATCH') {
      g.require_reason = !!body.require_reason;
      return send(res, 200, g);
    }
    if (m === 'DELETE') {
      if (g.name === 'default') return fail(res, 409, 'default', 'the default group cannot be deleted');
      state.groups = state.groups.filter((x) => x !== g);
      return send(res, 204);
    }
  }
  if (p === '/grants' && m === 'GET') return send(res, 200, { grants: state.grants });
  if (p === '/grants' && m === 'POST') {
    const g = { id: state.nextGrant++, subject_kind: body.subject_kind, subject: body.subject, role: body.role, group: body.group ?? null };
    state.grants.push(g);
    return send(res, 201, g);
  }
  if ((mm = /^\/grants\/([^/]+)$/.exec(p)) && m === 'DELETE') {
    state.grants = state.grants.filter((g) => String(g.id) !== decodeURIComponent(mm[1]));
    return send(res, 204);
  }
  return fail(res, 404, 'not_found', 'no such endpoint');
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  );
  if (url.pathname.startsWith('/api/v1/')) return api(req, res, url);
  if (url.pathname === '/api/v1/auth/sso/start') return send(res, 302);
  let file = path.join(WEB_ROOT, path.normalize(url.pathname));
  if (!file.startsWith(WEB_ROOT) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(WEB_ROOT, 'index.html');
  res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream');
  fs.createReadStream(file).pipe(res);
});

const port = Number(process.argv[2] || 0);
server.listen(port, '127.0.0.1', () => {
  console.log(`mock gateway on http://127.0.0.1:${server.address().port}`);
});
