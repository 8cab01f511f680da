import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { Alert } from './alert';
import { Modal } from './modal';

/** "Are you sure?" for destructive actions; shows the failure if it fails. */
export function ConfirmDialog({
  title,
  confirmLabel,
  children,
  onConfirm,
  onClose,
  danger = true,
}: {
  title: string;
  confirmLabel: string;
  children: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  danger?: boolean;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };
  return (
    <Modal
      title={title}
      onClose={onClose}
      onSubmit={confirm}
      testId="confirm-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={'btn ' + (danger ? 'btn-danger' : 'btn-primary')} disabled={busy}>
            {confirmLabel}
          </button>
        </>
      }
    >
      <div class="confirm-text">{children}</div>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
