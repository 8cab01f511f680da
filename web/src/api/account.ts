// The signed-in user's own account: password, TOTP, API tokens.

import { request } from './http';
import type { ApiToken, NewApiToken, TotpSetup } from './types';

/** The gateway then revokes every token of the user: sign in again. */
export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return request<void>('/api/v1/me/password', {
    method: 'POST',
    body: { current_password: currentPassword, new_password: newPassword },
  });
}

/** A new secret, pending until a code from it is confirmed with enableTotp. */
export function setupTotp(): Promise<TotpSetup> {
  return request<TotpSetup>('/api/v1/me/totp/setup', { method: 'POST' });
}

export async function enableTotp(code: string): Promise<string[]> {
  const res = await request<{ recovery_codes: string[] }>('/api/v1/me/totp/enable', {
    method: 'POST',
    body: { code },
  });
  return Array.isArray(res?.recovery_codes) ? res.recovery_codes : [];
}

export function disableTotp(password: string): Promise<void> {
  return request<void>('/api/v1/me/totp/disable', { method: 'POST', body: { password } });
}

export async function listTokens(): Promise<ApiToken[]> {
  const res = await request<{ tokens: ApiToken[] }>('/api/v1/me/tokens');
  return Array.isArray(res?.tokens) ? res.tokens : [];
}

export function createToken(name: string, scopes: string[], expiresIn: number): Promise<NewApiToken> {
  return request<NewApiToken>('/api/v1/me/tokens', {
    method: 'POST',
    body: { name, scopes, expires_in: expiresIn },
  });
}

export function revokeToken(name: string): Promise<void> {
  return request<void>('/api/v1/me/tokens/' + encodeURIComponent(name), { method: 'DELETE' });
}
