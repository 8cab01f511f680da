import { useEffect, useRef } from 'preact/hooks';
import type { AuditEvent, RecordingSegment } from '../../api';
import { formatClock } from '../../ui/format';
import { eventSummary, outcomeClass } from '../audit/event-text';
import { positionFor } from './segment-map';

const WHERE_TEXT = {
  before: 'before the recording started',
  gap: 'in a gap of the recording',
  after: 'after the recording ended',
} as const;

/**
 * The session's audit events, oldest first, beside the player. A click
 * seeks the player to the event's moment; the event at the playing position
 * is highlighted.
 */
export function Timeline({
  events,
  segments,
  position,
  onSeek,
}: {
  events: AuditEvent[];
  segments: RecordingSegment[];
  /** Wall clock of the playing position (unix ms), or null before playback. */
  position: number | null;
  onSeek: (ts: number) => void;
}) {
  let current = -1;
  if (position !== null) {
    for (let i = 0; i < events.length; i++) if (events[i].ts <= position) current = i;
  }
  const listRef = useRef<HTMLOListElement>(null);
  // Keep the highlighted event in view while playing, without moving the page.
  useEffect(() => {
    const list = listRef.current;
    const item = list?.querySelector<HTMLElement>('.tl-current');
    if (!list || !item) return;
    const top = item.offsetTop - list.offsetTop;
    if (top < list.scrollTop || top + item.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = Math.max(0, top - list.clientHeight / 3);
    }
  }, [current]);

  return (
    <ol class="timeline" ref={listRef} data-testid="timeline">
      {events.map((ev, i) => {
        const pos = positionFor(segments, ev.ts);
        const where = pos && pos.where !== 'inside' ? WHERE_TEXT[pos.where] : '';
        const summary = eventSummary(ev);
        return (
          <li key={ev.seq} class={'tl-item' + (i === current ? ' tl-current' : '') + (where ? ' tl-outside' : '')}>
            <button
              type="button"
              class="tl-button"
              data-type={ev.type}
              data-ts={ev.ts}
              data-testid="timeline-event"
              title={where ? `Seek (the event is ${where})` : 'Seek the player to this moment'}
              onClick={() => onSeek(ev.ts)}
            >
              <span class="tl-time mono">{formatClock(ev.ts)}</span>
              <span class="tl-main">
                <span class="tl-head">
                  <span class="tl-type mono">{ev.type}</span>
                  <span class={outcomeClass(ev.outcome)}>{ev.outcome}</span>
                </span>
                <span class="tl-sub">
                  {ev.actor && <span class="mono">{ev.actor}</span>}
                  {summary && <span>{summary}</span>}
                  {where && <em class="muted">{where}</em>}
                </span>
              </span>
            </button>
          </li>
        );
      })}
    </ol>
  );
}
