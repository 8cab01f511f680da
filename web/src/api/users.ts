// Administration: local user accounts.

import { request } from './http';
import type { AdminUser } from './types';

const userPath = (name: string) => '/api/v1/users/' + encodeURIComponent(name);

export async function listUsers(): Promise<AdminUser[]> {
  const res = await request<{ users: AdminUser[] }>('/api/v1/users');
  return Array.isArray(res?.users) ? res.users : [];
}

export function createUser(name: string, password: string, displayName?: string): Promise<AdminUser> {
  const body: Record<string, string> = { name, password };
  if (displayName) body.display_name = displayName;
  return request<AdminUser>('/api/v1/users', { method: 'POST', body });
}

export interface UserPatch {
  display_name?: string;
  disabled?: boolean;
  password?: string;
  /** Only false: resets the user's TOTP (they set it up again). */
  totp_enabled?: false;
}

export function updateUser(name: string, patch: UserPatch): Promise<AdminUser> {
  return request<AdminUser>(userPath(name), { method: 'PATCH', body: patch });
}

export function deleteUser(name: string): Promise<void> {
  return request<void>(userPath(name), { method: 'DELETE' });
}
