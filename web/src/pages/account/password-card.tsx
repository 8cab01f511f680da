import { useState } from 'preact/hooks';
import { changePassword, forgetSession } from '../../api';
import { Alert } from '../../ui/alert';
import { MIN_PASSWORD, TextField } from '../../ui/text-field';
import { useFormSubmit } from '../../ui/use-form-submit';
import { setLoginNotice } from '../../login-notice';
import { navigate } from '../../router';

export function PasswordCard() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');

  const form = useFormSubmit(
    () => {
      if (next.length < MIN_PASSWORD) return `The new password needs at least ${MIN_PASSWORD} characters.`;
      if (next !== confirm) return 'The two new passwords differ.';
      if (next === current) return 'The new password is the same as the current one.';
    },
    async () => {
      await changePassword(current, next);
      // The gateway revoked every session of this user, this one included.
      forgetSession();
      setLoginNotice('Password changed. Sign in with your new password.');
      navigate({ name: 'login' });
    },
    'Cannot change the password.',
  );

  return (
    <section class="card" aria-labelledby="password-title">
      <div class="card-head">
        <h2 id="password-title">Password</h2>
        <p class="muted">Changing it signs you out everywhere, this browser included.</p>
      </div>
      <form
        class="form-grid"
        onSubmit={(e) => {
          e.preventDefault();
          form.submit();
        }}
        noValidate
      >
        <TextField
          label="Current password"
          type="password"
          name="current-password"
          autocomplete="current-password"
          value={current}
          onValue={setCurrent}
        />
        <TextField label="New password" type="password" name="new-password" autocomplete="new-password" value={next} onValue={setNext} />
        <TextField
          label="Repeat the new password"
          type="password"
          name="confirm-password"
          autocomplete="new-password"
          value={confirm}
          onValue={setConfirm}
        />
        {form.error && <Alert>{form.error}</Alert>}
        <div class="form-actions">
          <button type="submit" class="btn btn-primary" disabled={form.busy || !current || !next || !confirm}>
            Change password
          </button>
        </div>
      </form>
    </section>
  );
}
