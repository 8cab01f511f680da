// Administration: grants (a role for a user or an SSO group, on one agent
// group or on all of them).

import { request } from './http';
import type { Grant, SubjectKind } from './types';

export async function listGrants(): Promise<Grant[]> {
  const res = await request<{ grants: Grant[] }>('/api/v1/grants');
  return Array.isArray(res?.grants) ? res.grants : [];
}

export function createGrant(subjectKind: SubjectKind, subject: string, role: string, group: string | null): Promise<Grant> {
  const body: Record<string, string> = { subject_kind: subjectKind, subject, role };
  if (group) body.group = group;
  return request<Grant>('/api/v1/grants', { method: 'POST', body });
}

export function deleteGrant(id: Grant['id']): Promise<void> {
  return request<void>('/api/v1/grants/' + encodeURIComponent(String(id)), { method: 'DELETE' });
}
