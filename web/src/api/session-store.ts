// Who is signed in, and with which access token.
//
// With a gateway that issues refresh cookies the access token lives in memory
// only: a reload gets a new one from POST /api/v1/auth/refresh, so nothing
// script-readable outlives the page. An older gateway has no refresh
// endpoint; there the token is kept in sessionStorage as before, or every
// reload would sign the user out.

import type { User } from './types';

const TOKEN_KEY = 'webremote.token';
const USER_KEY = 'webremote.user';

export type AuthMode = 'unknown' | 'cookie' | 'storage';

interface State {
  token: string | null;
  user: User | null;
  mode: AuthMode;
}

const state: State = { token: null, user: null, mode: 'unknown' };
const listeners = new Set<() => void>();

function emit(): void {
  for (const l of listeners) l();
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function getToken(): string | null {
  return state.token;
}

export function getUser(): User | null {
  return state.user;
}

export function getMode(): AuthMode {
  return state.mode;
}

export function setMode(mode: AuthMode): void {
  state.mode = mode;
  if (mode === 'cookie') dropStored();
}

export function hasPermission(permission: string): boolean {
  return state.user?.permissions?.includes(permission) ?? false;
}

export function setSession(token: string, user: User): void {
  state.token = token;
  state.user = user;
  if (state.mode !== 'cookie') {
    try {
      sessionStorage.setItem(TOKEN_KEY, token);
      sessionStorage.setItem(USER_KEY, JSON.stringify(user));
    } catch {
      // Private mode without storage: the token stays in memory only.
    }
  }
  emit();
}

export function updateUser(user: User): void {
  if (!state.token) return;
  state.user = { ...state.user, ...user };
  if (state.mode !== 'cookie') {
    try {
      sessionStorage.setItem(USER_KEY, JSON.stringify(state.user));
    } catch {
      // see setSession
    }
  }
  emit();
}

/** Restores a token an older gateway's session left in sessionStorage. */
export function loadStored(): boolean {
  try {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) return false;
    let user: User = { name: 'user' };
    const raw = sessionStorage.getItem(USER_KEY);
    if (raw) {
      try {
        const parsed = JSON.parse(raw) as User;
        if (parsed && typeof parsed.name === 'string') user = parsed;
      } catch {
        // A bare name written by an older client.
        user = { name: raw };
      }
    }
    state.token = token;
    state.user = user;
    emit();
    return true;
  } catch {
    return false;
  }
}

function dropStored(): void {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
  } catch {
    // nothing stored
  }
}

export function clearSession(): void {
  const had = state.token !== null || state.user !== null;
  state.token = null;
  state.user = null;
  dropStored();
  if (had) emit();
}
