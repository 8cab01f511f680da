import type { AuditEvent } from '../../api';
import { formatMs } from '../../ui/format';
import { eventSummary, outcomeClass } from './event-text';

export const AUDIT_COLUMNS = ['Time', 'Type', 'Outcome', 'Actor', 'Machine', 'Details'];

/** One event; expanded, a second row with everything it carries. */
export function AuditRow({
  event,
  open,
  onToggle,
  onSession,
}: {
  event: AuditEvent;
  open: boolean;
  onToggle: () => void;
  onSession: (sid: string) => void;
}) {
  const bad = event.outcome === 'failed' || event.outcome === 'denied' || event.outcome === 'error';
  const summary = eventSummary(event);
  return (
    <>
      <tr
        class={'audit-row' + (bad ? ' audit-row-' + event.outcome : '') + (open ? ' audit-row-open' : '')}
        data-seq={event.seq}
        data-type={event.type}
        data-outcome={event.outcome}
      >
        <td class="nowrap audit-time">{formatMs(event.ts)}</td>
        <td class="mono nowrap">{event.type}</td>
        <td>
          <span class={outcomeClass(event.outcome)} data-testid="audit-outcome">
            {event.outcome}
          </span>
        </td>
        <td class="mono">{event.actor ?? '—'}</td>
        <td class="mono">{event.agent ?? '—'}</td>
        <td class="audit-summary" title={summary}>
          {summary || <span class="muted">—</span>}
        </td>
        <td class="col-actions">
          <button
            type="button"
            class="btn btn-secondary btn-small"
            aria-expanded={open}
            onClick={onToggle}
            data-testid="audit-expand"
          >
            {open ? 'Hide' : 'Details'}
          </button>
        </td>
      </tr>
      {open && (
        <tr class="audit-detail-row" data-testid="audit-detail">
          <td colSpan={AUDIT_COLUMNS.length + 1}>
            <dl class="facts audit-facts">
              <dt>Sequence</dt>
              <dd class="mono">{event.seq}</dd>
              <dt>Time</dt>
              <dd>
                {formatMs(event.ts)} <span class="muted mono">({new Date(event.ts).toISOString()})</span>
              </dd>
              <dt>Address</dt>
              <dd class="mono">{event.address ?? '—'}</dd>
              <dt>Session</dt>
              <dd>
                {event.session ? (
                  <>
                    <span class="mono">{event.session}</span>{' '}
                    <button type="button" class="link" onClick={() => onSession(event.session!)}>
                      Show this session's events
                    </button>
                  </>
                ) : (
                  '—'
                )}
              </dd>
              <dt>Row hash</dt>
              <dd class="mono hash">{event.hash}</dd>
              <dt>Detail</dt>
              <dd>
                <pre class="json">{JSON.stringify(event.detail ?? {}, null, 2)}</pre>
              </dd>
            </dl>
          </td>
        </tr>
      )}
    </>
  );
}
