import { useState } from 'preact/hooks';
import { createUser, errorMessage } from '../../api';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';

export const MIN_PASSWORD = 8;

export function NewUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    const n = name.trim();
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(n)) {
      return setError('The username takes 1 to 64 letters, digits, dots, dashes, underscores or @.');
    }
    if (password.length < MIN_PASSWORD) return setError(`The password needs at least ${MIN_PASSWORD} characters.`);
    setBusy(true);
    try {
      await createUser(n, password, displayName.trim() || undefined);
      onCreated(n);
    } catch (err) {
      setError(errorMessage(err, 'Cannot create the user.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title="New user"
      onClose={onClose}
      onSubmit={submit}
      testId="user-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Create user
          </button>
        </>
      }
    >
      <label class="field">
        <span>Username</span>
        <input name="new-user-name" autoFocus autocomplete="off" value={name} onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>
          Display name <span class="optional">optional</span>
        </span>
        <input name="new-user-display-name" autocomplete="off" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
      </label>
      <label class="field">
        <span>Initial password</span>
        <input
          name="new-user-password"
          type="password"
          autocomplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <span class="field-hint">At least {MIN_PASSWORD} characters. Tell the user to change it on their Account page.</span>
      </label>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
