// How one audit event reads in a table or on a timeline: its outcome's
// styling and the one line of detail that matters for its type.

import type { AuditEvent } from '../../api';
import { formatBytes } from '../../ui/format';

/** Every event type the gateway writes (docs/compliance.md), for the type filter's suggestions. */
export const AUDIT_TYPES = [
  'login', 'logout', 'token.refresh_reuse',
  'user.create', 'user.update', 'user.delete', 'user.password', 'user.totp',
  'role.create', 'role.update', 'role.delete',
  'group.create', 'group.update', 'group.delete',
  'grant.create', 'grant.delete', 'agent.group',
  'api_token.create', 'api_token.revoke',
  'enroll.token_create', 'agent.enroll', 'agent.renew', 'agent.revoke',
  'session.request', 'session.granted', 'session.started', 'session.ended',
  'control.given', 'control.taken', 'clipboard.transfer', 'file.transfer',
  'command.run', 'command.exit',
  'recording.started', 'recording.segment', 'recording.interrupted', 'recording.resumed',
  'recording.unavailable', 'recording.ended', 'recording.viewed', 'recording.downloaded',
  'recording.hold', 'recording.release', 'recording.deleted',
  'recorder.connected', 'recorder.disconnected',
  'audit.read', 'audit.export',
];

/** CSS class of the outcome chip: ok green, denied amber, failed red. */
export function outcomeClass(outcome: string): string {
  switch (outcome) {
    case 'ok':
      return 'chip chip-ok';
    case 'denied':
      return 'chip chip-warn';
    case 'failed':
    case 'error':
      return 'chip chip-danger';
    default:
      return 'chip chip-muted';
  }
}

function short(hash: string): string {
  return hash.length > 16 ? hash.slice(0, 12) + '…' : hash;
}

function value(key: string, v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (key === 'size' && typeof v === 'number') return formatBytes(v);
  if (/(^|_)(sha256|hash)$/.test(key) && typeof v === 'string') return short(v);
  if (Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// The detail keys worth a glance, per type; other types show their first few keys.
const KEYS: Record<string, string[]> = {
  login: ['method', 'reason'],
  'session.request': ['scopes', 'reason'],
  'session.granted': ['scopes', 'recording', 'reason'],
  'session.started': ['display', 'scopes'],
  'session.ended': ['reason'],
  'clipboard.transfer': ['direction', 'size', 'sha256'],
  'file.transfer': ['direction', 'name', 'size', 'sha256'],
  'command.exit': ['status', 'signal', 'timed_out'],
  'recording.started': ['codec', 'container'],
  'recording.segment': ['index', 'file', 'size', 'partial'],
  'recording.ended': ['status', 'segments', 'size'],
  'recording.viewed': [],
  'recording.downloaded': ['what'],
  'recording.hold': [],
  'recording.release': [],
  'recording.deleted': ['reason', 'recording'],
};

/** One line: the event's key detail ("method: password · reason: locked"). */
export function eventSummary(ev: AuditEvent): string {
  const d = ev.detail ?? {};
  if (ev.type === 'command.run' && typeof d.command === 'string') {
    const args = Array.isArray(d.args) ? d.args.map(String).join(' ') : '';
    return (d.command + ' ' + args).trim();
  }
  const keys = KEYS[ev.type] ?? Object.keys(d).slice(0, 4);
  return keys
    .filter((k) => d[k] !== undefined && d[k] !== null && d[k] !== '')
    .map((k) => `${k.replace(/_/g, ' ')}: ${value(k, d[k])}`)
    .join(' · ');
}
