// The audit log (docs/api.md, "Audit"): filtered reads, newest first, and
// the signed export bundle. Permission `audit`; every read is itself audited.

import { ApiError, errorFromResponse, refreshSession, request } from './http';
import { getMode, getToken } from './session-store';

export interface AuditEvent {
  seq: number;
  /** Unix milliseconds. */
  ts: number;
  type: string;
  outcome: string;
  actor: string | null;
  agent: string | null;
  session: string | null;
  address: string | null;
  detail: Record<string, unknown> | null;
  hash: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Pass as `before` for the next (older) page; null at the oldest. */
  next_before: number | null;
}

export interface AuditFilter {
  user?: string;
  agent?: string;
  session?: string;
  type?: string;
  /** Unix milliseconds, inclusive. */
  from?: number;
  to?: number;
  limit?: number;
  before?: number;
}

/** The query string for a filter: empty and undefined values are left out. */
export function filterQuery(filter: Record<string, string | number | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) {
    if (v === undefined || v === null || v === '') continue;
    if (typeof v === 'number' && !Number.isFinite(v)) continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? '?' + s : '';
}

export async function listAudit(filter: AuditFilter): Promise<AuditPage> {
  const res = await request<AuditPage>('/api/v1/audit' + filterQuery({ ...filter }));
  return {
    events: Array.isArray(res?.events) ? res.events : [],
    next_before: typeof res?.next_before === 'number' ? res.next_before : null,
  };
}

/**
 * Every event of one session, oldest first (the recordings page's
 * timeline); at most `max` of them.
 */
export async function sessionEvents(session: string, max = 1000): Promise<{ events: AuditEvent[]; truncated: boolean }> {
  const all: AuditEvent[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await listAudit({ session, limit: 200, before });
    all.push(...page.events);
    if (page.next_before === null || page.events.length === 0) return { events: all.sort(byTime), truncated: false };
    if (all.length >= max) return { events: all.sort(byTime), truncated: true };
    before = page.next_before;
  }
}

function byTime(a: AuditEvent, b: AuditEvent): number {
  return a.ts - b.ts || a.seq - b.seq;
}

export interface Download {
  blob: Blob;
  filename: string;
}

/** The file name from a Content-Disposition header, if it gives a safe one. */
function dispositionName(header: string | null): string | null {
  if (!header) return null;
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(header);
  if (!m) return null;
  let name = m[1];
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  name = name.replace(/[/\\]/g, '_').trim();
  return name || null;
}

/**
 * GET with the bearer token into a Blob: for downloads from routes that need
 * Authorization (a plain link cannot send it). One refresh-and-retry on 401,
 * as request() does.
 */
export async function fetchBlob(path: string, fallbackName: string): Promise<Download> {
  const get = (token: string | null) =>
    fetch(path, {
      headers: {
        'X-Requested-With': 'webremote',
        ...(token ? { Authorization: 'Bearer ' + token } : {}),
      },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  let res: Response;
  try {
    res = await get(getToken());
    if (res.status === 401 && getMode() === 'cookie' && (await refreshSession()) === 'ok') res = await get(getToken());
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach the gateway');
  }
  if (!res.ok) throw await errorFromResponse(res);
  return { blob: await res.blob(), filename: dispositionName(res.headers.get('Content-Disposition')) ?? fallbackName };
}

/** The audit export bundle (tar) for [from, to] (unix ms; either may be left open). */
export function exportAudit(from?: number, to?: number): Promise<Download> {
  const name = `webremote-audit-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.tar`;
  return fetchBlob('/api/v1/audit/export' + filterQuery({ from, to }), name);
}

/** Hands a Blob to the browser as a file download. */
export function saveDownload({ blob, filename }: Download): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Late enough for the download to have started.
  window.setTimeout(() => URL.revokeObjectURL(url), 60000);
}
