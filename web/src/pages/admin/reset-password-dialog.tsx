import { useState } from 'preact/hooks';
import { errorMessage, updateUser } from '../../api';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';
import { MIN_PASSWORD } from './new-user-dialog';

export function ResetPasswordDialog({ user, onClose, onDone }: { user: string; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    if (password.length < MIN_PASSWORD) return setError(`The password needs at least ${MIN_PASSWORD} characters.`);
    setBusy(true);
    try {
      await updateUser(user, { password });
      onDone();
    } catch (err) {
      setError(errorMessage(err, 'Cannot set the password.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={`Reset the password of ${user}`}
      onClose={onClose}
      onSubmit={submit}
      testId="password-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Set password
          </button>
        </>
      }
    >
      <label class="field">
        <span>New password</span>
        <input
          name="reset-password"
          type="password"
          autoFocus
          autocomplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
        <span class="field-hint">At least {MIN_PASSWORD} characters. Share it with the user over a safe channel.</span>
      </label>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
