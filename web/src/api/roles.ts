// Administration: roles (named sets of permissions).

import { request } from './http';
import type { Role } from './types';

const rolePath = (name: string) => '/api/v1/roles/' + encodeURIComponent(name);

export async function listRoles(): Promise<Role[]> {
  const res = await request<{ roles: Role[] }>('/api/v1/roles');
  return Array.isArray(res?.roles) ? res.roles : [];
}

export function createRole(name: string, permissions: string[]): Promise<Role> {
  return request<Role>('/api/v1/roles', { method: 'POST', body: { name, permissions } });
}

/** Built-in roles answer 409 builtin. */
export function updateRole(name: string, permissions: string[]): Promise<Role> {
  return request<Role>(rolePath(name), { method: 'PATCH', body: { permissions } });
}

/** Built-in roles and roles still granted answer 409. */
export function deleteRole(name: string): Promise<void> {
  return request<void>(rolePath(name), { method: 'DELETE' });
}
