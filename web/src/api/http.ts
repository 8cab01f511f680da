// The one place that talks HTTP to the gateway's /api/v1: bearer token,
// JSON bodies, `{code, message}` errors, and one refresh-and-retry when the
// access token has expired.

import { clearSession, getMode, getToken, setMode, setSession } from './session-store';
import type { LoginResult } from './types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

type UnauthorizedHandler = () => void;
let unauthorizedHandler: UnauthorizedHandler = () => {};

/** Called when the session is gone for good (a 401 that a refresh did not fix). */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  unauthorizedHandler = handler;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** No bearer token, and a 401 is an answer, not an expired session (sign-in). */
  anonymous?: boolean;
}

// Every call carries it: cookie-authenticated endpoints refuse requests
// without it (a cross-site form cannot set custom headers).
const CSRF_HEADER = { 'X-Requested-With': 'webremote' };

export async function errorFromResponse(res: Response): Promise<ApiError> {
  let code = 'http_' + res.status;
  let message = res.statusText || 'Request failed';
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown };
    if (typeof body.code === 'string') code = body.code;
    if (typeof body.message === 'string') message = body.message;
  } catch {
    // Not JSON (a proxy error page, say): keep the status line.
  }
  return new ApiError(res.status, code, message);
}

async function send(path: string, opts: RequestOptions, token: string | null): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...CSRF_HEADER };
  if (token) headers.Authorization = 'Bearer ' + token;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  try {
    return await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the gateway');
  }
}

async function parse<T>(res: Response): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  if (!text) return undefined as T;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError(res.status, 'bad_response', 'The gateway sent an answer this page cannot read');
  }
}

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  if (opts.anonymous) {
    const res = await send(path, opts, null);
    if (!res.ok) throw await errorFromResponse(res);
    return parse<T>(res);
  }

  let token = getToken();
  if (!token && getMode() === 'cookie' && (await refreshSession()) === 'ok') token = getToken();
  if (!token) {
    unauthorizedHandler();
    throw new ApiError(401, 'unauthorized', 'Not signed in');
  }
  let res = await send(path, opts, token);
  if (res.status === 401 && getMode() === 'cookie') {
    // The access token expired (or was revoked): one refresh, one retry.
    if ((await refreshSession()) === 'ok') res = await send(path, opts, getToken());
  }
  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401) {
      clearSession();
      cancelRefreshTimer();
      unauthorizedHandler();
    }
    throw err;
  }
  return parse<T>(res);
}

// ---- Refresh ---------------------------------------------------------------

export type RefreshOutcome = 'ok' | 'unsupported' | 'failed' | 'network';

let inFlight: Promise<RefreshOutcome> | null = null;
let refreshTimer: number | undefined;

function cancelRefreshTimer(): void {
  window.clearTimeout(refreshTimer);
  refreshTimer = undefined;
}

/** Renews the access token a little before it expires, so a long session
 *  always has a valid token for its next WebSocket or API call. */
export function scheduleRefresh(expiresIn: number): void {
  cancelRefreshTimer();
  if (getMode() !== 'cookie' || !Number.isFinite(expiresIn) || expiresIn <= 0) return;
  const seconds = Math.max(10, Math.min(expiresIn * 0.8, expiresIn - 30));
  refreshTimer = window.setTimeout(() => {
    refreshSession().then((r) => {
      if (r === 'failed') {
        clearSession();
        unauthorizedHandler();
      }
    });
  }, seconds * 1000);
}

async function doRefresh(): Promise<RefreshOutcome> {
  let res: Response;
  try {
    res = await fetch('/api/v1/auth/refresh', {
      method: 'POST',
      headers: { Accept: 'application/json', ...CSRF_HEADER },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    return 'network';
  }
  if (res.status === 404) return 'unsupported';
  if (!res.ok) return 'failed';
  let result: LoginResult;
  try {
    result = (await res.json()) as LoginResult;
  } catch {
    return 'failed';
  }
  if (!result || typeof result.token !== 'string') return 'failed';
  setMode('cookie');
  setSession(result.token, result.user ?? { name: 'user' });
  scheduleRefresh(result.expires_in);
  return 'ok';
}

/**
 * Trades the refresh cookie for a new access token. Concurrent callers share
 * one request; across tabs a Web Lock keeps two tabs from presenting the same
 * cookie at once (the gateway rotates it on every use and treats reuse of an
 * old one as theft).
 */
export function refreshSession(): Promise<RefreshOutcome> {
  if (inFlight) return inFlight;
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  const run = locks ? () => locks.request('webremote-refresh', doRefresh) : doRefresh;
  inFlight = run().finally(() => {
    inFlight = null;
  });
  return inFlight;
}

export function stopRefreshing(): void {
  cancelRefreshTimer();
}
