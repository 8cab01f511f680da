// REST client for the gateway's /api/v1. The access token lives in
// sessionStorage: it is gone when the tab closes and is not shared between
// tabs, which suits short-lived operator tokens.

const TOKEN_KEY = 'webremote.token';
const USER_KEY = 'webremote.user';

export interface Display {
  name: string;
  width: number;
  height: number;
}

export interface Pipeline {
  display: string;
  encoder: string;
  peers: number;
}

export interface Agent {
  id: string;
  name: string;
  online: boolean;
  version?: string;
  displays?: Display[];
  encoders?: string[];
  pipelines?: Pipeline[];
  last_seen?: number;
}

export interface LoginResult {
  token: string;
  expires_in: number;
  user: { name: string };
}

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

export function getToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function getUserName(): string | null {
  try {
    return sessionStorage.getItem(USER_KEY);
  } catch {
    return null;
  }
}

function storeSession(token: string, user: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  sessionStorage.setItem(USER_KEY, user);
}

export function clearSession(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
}

type UnauthorizedHandler = () => void;
let unauthorizedHandler: UnauthorizedHandler = () => {};

/** Called whenever the gateway answers 401: the token is gone or expired. */
export function setUnauthorizedHandler(handler: UnauthorizedHandler): void {
  unauthorizedHandler = handler;
}

interface RequestOptions {
  method?: string;
  body?: unknown;
  /** The login call itself: a 401 there means a wrong password. */
  anonymous?: boolean;
}

async function errorFromResponse(res: Response): Promise<ApiError> {
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

export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (!opts.anonymous) {
    const token = getToken();
    if (!token) {
      unauthorizedHandler();
      throw new ApiError(401, 'unauthorized', 'Not signed in');
    }
    headers.Authorization = 'Bearer ' + token;
  }
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }

  let res: Response;
  try {
    res = await fetch(path, {
      method: opts.method ?? 'GET',
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the gateway');
  }

  if (!res.ok) {
    const err = await errorFromResponse(res);
    if (res.status === 401 && !opts.anonymous) {
      clearSession();
      unauthorizedHandler();
    }
    throw err;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export async function login(username: string, password: string): Promise<LoginResult> {
  const result = await request<LoginResult>('/api/v1/login', {
    method: 'POST',
    body: { username, password },
    anonymous: true,
  });
  storeSession(result.token, result.user?.name ?? username);
  return result;
}

export async function logout(): Promise<void> {
  try {
    await request<void>('/api/v1/logout', { method: 'POST' });
  } finally {
    clearSession();
  }
}

export async function listAgents(): Promise<Agent[]> {
  const res = await request<{ agents: Agent[] }>('/api/v1/agents');
  return Array.isArray(res?.agents) ? res.agents : [];
}

export async function getAgent(id: string): Promise<Agent> {
  return request<Agent>('/api/v1/agents/' + encodeURIComponent(id));
}

export async function me(): Promise<{ name: string }> {
  return request<{ name: string }>('/api/v1/me');
}
