import { useState } from 'preact/hooks';
import { Modal } from './modal';

export const REASON_MAX = 512;

/** Asks for the reason or ticket a group policy requires before a session. */
export function ReasonDialog({
  machine,
  onSubmit,
  onClose,
  initial = '',
}: {
  machine: string;
  onSubmit: (reason: string) => void;
  onClose: () => void;
  initial?: string;
}) {
  const [reason, setReason] = useState(initial);
  const [touched, setTouched] = useState(false);
  const trimmed = reason.trim();
  const invalid = trimmed.length === 0 || reason.length > REASON_MAX;
  return (
    <Modal
      title="Reason for this session"
      onClose={onClose}
      testId="reason-dialog"
      onSubmit={() => {
        setTouched(true);
        if (!invalid) onSubmit(trimmed);
      }}
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={touched && invalid}>
            Start session
          </button>
        </>
      }
    >
      <p class="modal-text">
        The policy for <strong>{machine}</strong> asks for a reason or a ticket number. It is recorded with the
        session.
      </p>
      <label class="field">
        <span>Reason or ticket</span>
        <textarea
          name="reason"
          rows={3}
          maxLength={REASON_MAX}
          required
          autoFocus
          placeholder="e.g. INC-4821: printer queue stuck"
          value={reason}
          onInput={(e) => setReason(e.currentTarget.value)}
        />
        <span class={'field-hint' + (touched && invalid ? ' field-hint-error' : '')}>
          {touched && trimmed.length === 0 ? 'A reason is required.' : `${reason.length} / ${REASON_MAX}`}
        </span>
      </label>
    </Modal>
  );
}
