// The nine permissions (docs/api.md), with the words the pages use for them.

export interface PermissionInfo {
  name: string;
  label: string;
  description: string;
  kind: 'agent' | 'system';
}

export const PERMISSIONS: PermissionInfo[] = [
  { name: 'view', label: 'View', description: 'See the screen of machines', kind: 'agent' },
  { name: 'control', label: 'Control', description: 'Send pointer and keyboard input', kind: 'agent' },
  { name: 'clipboard', label: 'Clipboard', description: 'Share the clipboard', kind: 'agent' },
  { name: 'file-transfer', label: 'File transfer', description: 'Copy files to and from machines', kind: 'agent' },
  { name: 'command', label: 'Command', description: 'Run commands on machines', kind: 'agent' },
  { name: 'record', label: 'Record', description: 'Record sessions', kind: 'agent' },
  { name: 'admin', label: 'Admin', description: 'Manage users, roles, groups and grants', kind: 'system' },
  { name: 'audit', label: 'Audit', description: 'Read the audit log and all sessions', kind: 'system' },
  { name: 'enroll', label: 'Enroll', description: 'Enroll new machines', kind: 'system' },
];

export const AGENT_PERMISSIONS = PERMISSIONS.filter((p) => p.kind === 'agent');
export const SYSTEM_PERMISSIONS = PERMISSIONS.filter((p) => p.kind === 'system');

export function permissionLabel(name: string): string {
  return PERMISSIONS.find((p) => p.name === name)?.label ?? name;
}

/** Sorted in the canonical order above; unknown names last. */
export function sortPermissions(names: string[]): string[] {
  const index = (n: string) => {
    const i = PERMISSIONS.findIndex((p) => p.name === n);
    return i < 0 ? PERMISSIONS.length : i;
  };
  return [...names].sort((a, b) => index(a) - index(b) || a.localeCompare(b));
}
