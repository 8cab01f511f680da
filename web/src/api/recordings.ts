// Session recordings (docs/api.md, "Recordings"): permission `audit`.
// Segment and bundle `url`s are signed, short-lived links (10 min) that a
// <video src> or a plain download link can use without a bearer token.

import { filterQuery } from './audit';
import { request } from './http';

export type RecordingStatus = 'recording' | 'complete' | 'interrupted' | 'failed';

export interface RecordingSegment {
  index: number;
  file: string;
  size: number;
  sha256: string;
  /** Wall clock of the segment's first and last media, unix ms. */
  start_ms: number;
  end_ms: number;
  /** Not closed cleanly: plays up to its last whole fragment. */
  partial: boolean;
  url: string;
}

export interface Recording {
  id: string;
  session: string;
  agent: string;
  group: string | null;
  user: string;
  recorder: string | null;
  codec: string | null;
  container: string | null;
  /** Unix ms. */
  started: number;
  ended: number | null;
  status: RecordingStatus | string;
  legal_hold: boolean;
  duration_ms: number;
  size: number;
  reason: string | null;
  segments: RecordingSegment[];
}

export interface RecordingDetail extends Recording {
  manifest: Record<string, unknown> | null;
  signature: string | null;
  bundle_url: string | null;
}

export interface RecordingFilter {
  user?: string;
  agent?: string;
  session?: string;
  from?: number;
  to?: number;
  limit?: number;
}

const recordingPath = (id: string) => '/api/v1/recordings/' + encodeURIComponent(id);

export async function listRecordings(filter: RecordingFilter): Promise<Recording[]> {
  const res = await request<{ recordings: Recording[] }>('/api/v1/recordings' + filterQuery({ ...filter }));
  return Array.isArray(res?.recordings) ? res.recordings.map(normalise) : [];
}

/** One recording with fresh segment links; the gateway audits recording.viewed. */
export async function getRecording(id: string): Promise<RecordingDetail> {
  const r = await request<RecordingDetail>(recordingPath(id));
  return { ...normalise(r), manifest: r.manifest ?? null, signature: r.signature ?? null, bundle_url: r.bundle_url ?? null };
}

/** Legal hold on the recording's session (all its recordings); returns the new state. */
export async function setLegalHold(id: string, hold: boolean): Promise<boolean> {
  const res = await request<{ legal_hold?: boolean; hold?: boolean } | undefined>(recordingPath(id) + '/hold', {
    method: 'POST',
    body: { hold },
  });
  if (typeof res?.legal_hold === 'boolean') return res.legal_hold;
  if (typeof res?.hold === 'boolean') return res.hold;
  return hold;
}

function normalise<T extends Recording>(r: T): T {
  const segments = Array.isArray(r.segments) ? [...r.segments].sort((a, b) => a.index - b.index) : [];
  return { ...r, segments, legal_hold: r.legal_hold === true };
}
