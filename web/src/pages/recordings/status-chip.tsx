import type { Recording } from '../../api';

const TEXT: Record<string, { cls: string; label: string; title: string }> = {
  recording: { cls: 'chip chip-rec', label: 'recording', title: 'The session is still being recorded' },
  complete: { cls: 'chip chip-ok', label: 'complete', title: 'Recorded from start to end' },
  interrupted: {
    cls: 'chip chip-warn',
    label: 'interrupted',
    title: 'The recorder stopped during the session: there are gaps (see the audit timeline)',
  },
  failed: { cls: 'chip chip-danger', label: 'failed', title: 'The recorder failed; what was written is kept' },
};

/** A recording's status, coloured; the reason (if any) as its tooltip. */
export function RecordingStatusChip({ recording }: { recording: Pick<Recording, 'status' | 'reason'> }) {
  const t = TEXT[recording.status] ?? { cls: 'chip chip-muted', label: recording.status, title: '' };
  const title = recording.reason ? `${t.title} (${recording.reason})` : t.title;
  return (
    <span class={t.cls} title={title} data-testid="recording-status" data-status={recording.status}>
      {t.label}
    </span>
  );
}

export function HoldChip() {
  return (
    <span class="chip chip-hold" title="Under legal hold: retention does not delete it and deletion is refused" data-testid="legal-hold">
      legal hold
    </span>
  );
}
