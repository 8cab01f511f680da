// Wall clock <-> (segment, offset) for a recording cut into segments whose
// [start_ms, end_ms] are the wall-clock times of their first and last media.

import type { RecordingSegment } from '../../api';

export interface SegmentPosition {
  /** Position in the segments array (not the segment's own index field). */
  at: number;
  /** Seconds from the start of that segment. */
  offset: number;
  /** Where the wall-clock moment lies relative to what was recorded. */
  where: 'inside' | 'before' | 'gap' | 'after';
}

/**
 * The place to seek to for wall-clock `ts`: the segment covering it at
 * ts - start_ms; before the first segment its start, in a gap between two
 * segments the start of the next one, after the last its end.
 */
export function positionFor(segments: RecordingSegment[], ts: number): SegmentPosition | null {
  if (segments.length === 0) return null;
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i];
    if (ts >= s.start_ms && ts <= s.end_ms) return { at: i, offset: (ts - s.start_ms) / 1000, where: 'inside' };
  }
  if (ts < segments[0].start_ms) return { at: 0, offset: 0, where: 'before' };
  for (let i = 1; i < segments.length; i++) {
    if (ts < segments[i].start_ms) return { at: i, offset: 0, where: 'gap' };
  }
  const last = segments.length - 1;
  return { at: last, offset: Math.max(0, (segments[last].end_ms - segments[last].start_ms) / 1000), where: 'after' };
}

/** Gaps of more than `minMs` between consecutive segments: [after array position, length ms]. */
export function gapAfter(segments: RecordingSegment[], at: number, minMs = 2000): number {
  if (at + 1 >= segments.length) return 0;
  const gap = segments[at + 1].start_ms - segments[at].end_ms;
  return gap > minMs ? gap : 0;
}
