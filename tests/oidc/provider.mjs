#!/usr/bin/env node
// A throwaway OpenID provider for webremote's tests, built on the certified
// `oidc-provider` package. It listens on 127.0.0.1 only, keeps everything in
// memory and prints one JSON line on stdout when it is ready:
//   {"issuer":"http://127.0.0.1:PORT","port":PORT}
// See README.md for the options, the clients and the test accounts.

import crypto from 'node:crypto';
import http from 'node:http';
import { parseArgs } from 'node:util';

import Provider from 'oidc-provider';

// stdout carries only the ready line: the library's notices go to stderr,
// and a parent that stopped reading stdout must not kill us with EPIPE.
console.log = console.error;
console.info = console.error;
process.stdout.on('error', () => {});

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.WR_OIDC_PORT ?? '0' },
    'client-id': { type: 'string', default: process.env.WR_OIDC_CLIENT_ID ?? 'webremote' },
    'client-secret': {
      type: 'string',
      default: process.env.WR_OIDC_CLIENT_SECRET ?? 'webremote-test-secret',
    },
    'redirect-uri': {
      type: 'string',
      multiple: true,
      default: (process.env.WR_OIDC_REDIRECT_URIS ?? 'https://127.0.0.1/api/v1/oidc/callback')
        .split(/\s+/).filter(Boolean),
    },
  },
});

// Test accounts. Any password is refused except PASSWORD, so that a test can
// also see a failed login.
const PASSWORD = 'test';
const ACCOUNTS = {
  alice: { name: 'Alice Support', email: 'alice@example.test', groups: ['support'] },
  bob: { name: 'Bob Auditor', email: 'bob@example.test', groups: ['auditors'] },
  carol: { name: 'Carol Admin', email: 'carol@example.test', groups: ['admins', 'support'] },
  dave: { name: 'Dave Nogroup', email: 'dave@example.test', groups: [] },
};
const SCOPES = 'openid profile email groups';

function signingKey(kid, options) {
  const { privateKey } = crypto.generateKeyPairSync(options.type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

// Fresh keys on every start: RS256 is the default ID token algorithm, the
// "-es256" client gets ES256.
const jwks = {
  keys: [
    { ...signingKey('test-rsa', { type: 'rsa', modulusLength: 2048 }), alg: 'RS256' },
    { ...signingKey('test-ec', { type: 'ec', namedCurve: 'P-256' }), alg: 'ES256' },
  ],
};

const clientId = opts['client-id'];
const redirectUris = opts['redirect-uri'];
const clients = [
  // Confidential client, secret in an Authorization: Basic header.
  {
    client_id: clientId,
    client_secret: opts['client-secret'],
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'client_secret_basic',
  },
  // Confidential client, secret in the form body, ES256 ID tokens.
  {
    client_id: `${clientId}-es256`,
    client_secret: opts['client-secret'],
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
  },
  // Public client: no secret, PKCE alone protects the code.
  {
    client_id: `${clientId}-public`,
    redirect_uris: redirectUris,
    token_endpoint_auth_method: 'none',
  },
].map((c) => ({ grant_types: ['authorization_code'], response_types: ['code'], ...c }));

const configuration = {
  clients,
  jwks,
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username'],
    email: ['email', 'email_verified'],
    groups: ['groups'],
  },
  // PKCE (S256 only) for every client, not just public ones.
  pkce: { methods: ['S256'], required: () => true },
  features: { devInteractions: { enabled: false } },
  // Short lifetimes (seconds), as a test wants them.
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 600,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  async findAccount(ctx, sub) {
    const account = ACCOUNTS[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        return {
          sub,
          preferred_username: sub,
          name: account.name,
          email: account.email,
          email_verified: true,
          groups: account.groups,
        };
      },
    };
  },
  // The test clients are first party: consent is implied, so that the only
  // interaction is the login form (see the recipe "skip consent" in the
  // oidc-provider documentation).
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES);
    await grant.save();
    return grant;
  },
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('Error', `<p id="error">${escape(out.error)}: ${escape(out.error_description ?? '')}</p>`);
  },
};

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head>`
    + `<body><h1>${escape(title)}</h1>${body}</body></html>`;
}

function loginForm(uid, error) {
  return page('Sign in to the test provider', `
${error ? `<p id="error">${escape(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${escape(uid)}/login">
  <label>Username <input id="username" name="username" autocomplete="username" autofocus></label>
  <label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
  <button id="submit" type="submit">Sign in</button>
</form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 64 * 1024) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

const issuer = (port) => `http://127.0.0.1:${port}`;
let provider;
let callback;

// The login interaction: GET /interaction/UID shows the form, POST
// /interaction/UID/login checks it and resumes the authorization request.
async function interaction(req, res) {
  const url = new URL(req.url, issuer(0));
  const match = url.pathname.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return false;
  const [, uid, login] = match;
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    if (!login && req.method === 'GET') {
      res.end(loginForm(uid));
      return true;
    }
    if (login && req.method === 'POST') {
      const form = await readForm(req);
      const username = form.get('username') ?? '';
      if (!Object.hasOwn(ACCOUNTS, username) || form.get('password') !== PASSWORD) {
        res.statusCode = 401;
        res.end(loginForm(uid, 'Unknown user or wrong password.'));
        return true;
      }
      await provider.interactionFinished(req, res, { login: { accountId: username } },
        { mergeWithLastSubmission: false });
      return true;
    }
    res.statusCode = 405;
    res.end(page('Method not allowed', ''));
  } catch (err) {
    res.statusCode = 400;
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(page('Error', `<p id="error">${escape(err.message)}</p>`));
  }
  return true;
}

const server = http.createServer(async (req, res) => {
  if (await interaction(req, res)) return;
  callback(req, res);
});

server.listen(Number(opts.port), '127.0.0.1', () => {
  const { port } = server.address();
  provider = new Provider(issuer(port), configuration);
  provider.on('server_error', (ctx, err) => console.error('provider: server error:', err));
  // The gateway under test listens on a port chosen at run time, after
  // this provider is configured: accept any loopback redirect URI (http or
  // https, any port) whose path is that of a registered one.
  const { prototype } = provider.Client;
  const registeredAllowed = prototype.redirectUriAllowed;
  prototype.redirectUriAllowed = function redirectUriAllowed(value) {
    if (registeredAllowed.call(this, value)) return true;
    let url;
    try {
      url = new URL(value);
    } catch {
      return false;
    }
    return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
      && ['http:', 'https:'].includes(url.protocol)
      && !url.search && !url.hash
      && this.redirectUris.some((uri) => new URL(uri).pathname === url.pathname);
  };
  callback = provider.callback();
  process.stdout.write(`${JSON.stringify({ issuer: issuer(port), port })}\n`);
});

const stop = () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// When the test that started us dies, its end of our stdin closes.
if (process.env.WR_OIDC_EXIT_ON_STDIN_EOF) {
  process.stdin.on('end', stop).resume();
}
