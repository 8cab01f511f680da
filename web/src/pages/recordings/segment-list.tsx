import type { RecordingSegment } from '../../api';
import { CopyButton } from '../../ui/copy-button';
import { formatBytes, formatClock, formatDuration } from '../../ui/format';
import { gapAfter } from './segment-map';

/** The segments of a recording: pick one to play; hashes on demand; gaps between them. */
export function SegmentList({
  segments,
  current,
  onPick,
}: {
  segments: RecordingSegment[];
  current: number;
  onPick: (at: number) => void;
}) {
  return (
    <ol class="rec-segments" data-testid="segment-list">
      {segments.map((s, i) => {
        const gap = gapAfter(segments, i);
        return (
          <li key={s.index} class="rec-segment-item">
            <div class={'rec-segment' + (i === current ? ' rec-segment-current' : '')} data-segment={s.index}>
              <button
                type="button"
                class="rec-segment-pick"
                aria-current={i === current ? 'true' : undefined}
                onClick={() => onPick(i)}
                title="Play this segment"
                data-testid="segment-pick"
              >
                <span class="rec-segment-name">Segment {s.index + 1}</span>
                <span class="muted small">
                  {formatClock(s.start_ms)} – {formatClock(s.end_ms)} · {formatDuration(s.end_ms - s.start_ms)} · {formatBytes(s.size)}
                </span>
              </button>
              {s.partial && (
                <span
                  class="chip chip-warn"
                  title="Not closed cleanly (the recorder stopped): it plays up to its last whole fragment"
                  data-testid="segment-partial"
                >
                  partial
                </span>
              )}
              <details class="rec-hash">
                <summary>SHA-256</summary>
                <div class="rec-hash-body">
                  <code class="mono hash" data-testid="segment-sha256">
                    {s.sha256}
                  </code>
                  <CopyButton text={s.sha256} />
                  <span class="muted small mono">{s.file}</span>
                </div>
              </details>
            </div>
            {gap > 0 && (
              <div class="rec-gap" data-testid="segment-gap">
                Gap of {formatDuration(gap)}: nothing was recorded between {formatClock(s.end_ms)} and{' '}
                {formatClock(segments[i + 1].start_ms)}.
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
