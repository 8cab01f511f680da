// Sign-in, session restore, single sign-on discovery and sign-out.

import { ApiError, errorFromResponse, refreshSession, request, scheduleRefresh, stopRefreshing } from './http';
import { clearSession, getMode, getToken, loadStored, setMode, setSession, updateUser } from './session-store';
import type { LoginResult, SsoStatus, User } from './types';

let ssoStatus: SsoStatus | null = null;

/** Whether the gateway offers single sign-on (known after startSession). */
export function getSsoStatus(): SsoStatus | null {
  return ssoStatus;
}

async function fetchSsoStatus(): Promise<SsoStatus | null> {
  try {
    const s = await request<SsoStatus>('/api/v1/auth/sso', { anonymous: true });
    return s && typeof s.enabled === 'boolean' ? s : null;
  } catch {
    return null;
  }
}

/**
 * Run once when the app starts: restores the session from the refresh cookie
 * and finds out what the gateway supports. A gateway from before refresh
 * cookies answers the (public on newer ones) SSO probe with 401 or 404: then
 * the token a sign-in in this tab left in sessionStorage is used, as before.
 */
export async function startSession(): Promise<boolean> {
  const [outcome, sso] = await Promise.all([refreshSession(), fetchSsoStatus()]);
  ssoStatus = sso;
  if (outcome === 'ok') return true;
  if (sso !== null) {
    setMode('cookie');
    return false;
  }
  setMode('storage');
  return loadStored();
}

/** #/sso: the callback set the refresh cookie; trade it for a token. */
export async function completeSso(): Promise<boolean> {
  if (getToken() && getMode() === 'cookie') return true;
  return (await refreshSession()) === 'ok';
}

export interface SecondFactor {
  totp_code?: string;
  recovery_code?: string;
}

/**
 * POST /api/v1/login. Throws ApiError: 401 unauthorized / totp_required /
 * totp_invalid, 423 locked, 429 rate_limited, 400 bad_request.
 */
export async function login(username: string, password: string, second: SecondFactor = {}): Promise<LoginResult> {
  const result = await request<LoginResult>('/api/v1/login', {
    method: 'POST',
    body: { username, password, ...second },
    anonymous: true,
  });
  if (!result || typeof result.token !== 'string') {
    throw new ApiError(500, 'bad_response', 'The gateway sent an unexpected answer');
  }
  setSession(result.token, { ...result.user, name: result.user?.name || username });
  scheduleRefresh(result.expires_in);
  return result;
}

/** Ends the session on the gateway (access token and refresh family), then locally. */
export async function logout(): Promise<void> {
  const token = getToken();
  stopRefreshing();
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'webremote' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const post = (path: string) =>
    fetch(path, { method: 'POST', headers, credentials: 'same-origin', cache: 'no-store' });
  try {
    if (getMode() === 'cookie') {
      const res = await post('/api/v1/auth/logout');
      if (res.status === 404 && token) await post('/api/v1/logout');
      else if (!res.ok && res.status !== 401) throw await errorFromResponse(res);
    } else if (token) {
      await post('/api/v1/logout');
    }
  } finally {
    clearSession();
  }
}

/** Drops the local session without asking the gateway (it already revoked it). */
export function forgetSession(): void {
  stopRefreshing();
  clearSession();
}

export async function me(): Promise<User> {
  const user = await request<User>('/api/v1/me');
  if (user && typeof user.name === 'string') updateUser(user);
  return user;
}
