import { useState } from 'preact/hooks';
import { changePassword, errorMessage, forgetSession } from '../../api';
import { Alert } from '../../ui/alert';
import { setLoginNotice } from '../../login-notice';
import { navigate } from '../../router';

const MIN_LENGTH = 8;

export function PasswordCard() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (next.length < MIN_LENGTH) return setError(`The new password needs at least ${MIN_LENGTH} characters.`);
    if (next !== confirm) return setError('The two new passwords differ.');
    if (next === current) return setError('The new password is the same as the current one.');
    setBusy(true);
    try {
      await changePassword(current, next);
      // The gateway revoked every session of this user, this one included.
      forgetSession();
      setLoginNotice('Password changed. Sign in with your new password.');
      navigate({ name: 'login' });
    } catch (err) {
      setError(errorMessage(err, 'Cannot change the password.'));
      setBusy(false);
    }
  };

  return (
    <section class="card" aria-labelledby="password-title">
      <div class="card-head">
        <h2 id="password-title">Password</h2>
        <p class="muted">Changing it signs you out everywhere, this browser included.</p>
      </div>
      <form class="form-grid" onSubmit={submit} noValidate>
        <label class="field">
          <span>Current password</span>
          <input
            type="password"
            name="current-password"
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>New password</span>
          <input
            type="password"
            name="new-password"
            autocomplete="new-password"
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Repeat the new password</span>
          <input
            type="password"
            name="confirm-password"
            autocomplete="new-password"
            value={confirm}
            onInput={(e) => setConfirm(e.currentTarget.value)}
          />
        </label>
        {error && <Alert>{error}</Alert>}
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled={busy || !current || !next || !confirm}>
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}
