import { useState } from 'preact/hooks';
import { createGroup, errorMessage } from '../../api';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';

export function NewGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [requireReason, setRequireReason] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    const n = name.trim();
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(n)) {
      return setError('Name the group with 1 to 64 letters, digits, dots, dashes or underscores.');
    }
    setBusy(true);
    try {
      await createGroup(n, requireReason);
      onCreated(n);
    } catch (err) {
      setError(errorMessage(err, 'Cannot create the group.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title="New group"
      onClose={onClose}
      onSubmit={submit}
      testId="group-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Create group
          </button>
        </>
      }
    >
      <label class="field">
        <span>Name</span>
        <input
          name="group-name"
          autoFocus
          autocomplete="off"
          placeholder="e.g. kiosks"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
        />
      </label>
      <label class="check">
        <input
          type="checkbox"
          name="group-require-reason"
          checked={requireReason}
          onChange={(e) => setRequireReason(e.currentTarget.checked)}
        />
        <span class="check-text">
          <span class="check-label">Require a reason</span>
          <span class="check-desc">Users type a reason or ticket number before each session; it is recorded.</span>
        </span>
      </label>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
