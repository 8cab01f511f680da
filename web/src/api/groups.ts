// Administration: agent groups and their session policy.

import { request } from './http';
import type { Group } from './types';

const groupPath = (name: string) => '/api/v1/groups/' + encodeURIComponent(name);

export async function listGroups(): Promise<Group[]> {
  const res = await request<{ groups: Group[] }>('/api/v1/groups');
  return Array.isArray(res?.groups) ? res.groups : [];
}

export function createGroup(name: string, requireReason: boolean): Promise<Group> {
  return request<Group>('/api/v1/groups', { method: 'POST', body: { name, require_reason: requireReason } });
}

export function setGroupRequireReason(name: string, requireReason: boolean): Promise<Group> {
  return request<Group>(groupPath(name), { method: 'PATCH', body: { require_reason: requireReason } });
}

/** "default" answers 409. */
export function deleteGroup(name: string): Promise<void> {
  return request<void>(groupPath(name), { method: 'DELETE' });
}
