import { useState } from 'preact/hooks';
import { Alert } from '../ui/alert';

/** The second sign-in step: a TOTP code, or one of the recovery codes. */
export function SecondFactorStep({
  kind,
  busy,
  error,
  onSubmit,
  onSwitch,
  onBack,
}: {
  kind: 'totp' | 'recovery';
  busy: boolean;
  error: string | null;
  onSubmit: (code: string) => void;
  onSwitch: () => void;
  onBack: () => void;
}) {
  const [code, setCode] = useState('');
  const totp = kind === 'totp';
  const value = totp ? code.replace(/\D/g, '') : code.trim();
  const ready = totp ? value.length === 6 : value.length > 0;

  return (
    <form
      class="login-form"
      key={kind}
      onSubmit={(e) => {
        e.preventDefault();
        if (ready && !busy) onSubmit(value);
      }}
      aria-labelledby="second-title"
      noValidate
    >
      <h1 id="second-title">{totp ? 'Two-factor authentication' : 'Use a recovery code'}</h1>
      <p class="muted login-lead">
        {totp
          ? 'Enter the 6-digit code from your authenticator app.'
          : 'Enter one of the recovery codes you saved when you set up two-factor authentication. Each code works once.'}
      </p>
      {totp ? (
        <label class="field">
          <span>Authentication code</span>
          <input
            name="totp"
            class="code-input"
            inputMode="numeric"
            pattern="[0-9]*"
            autocomplete="one-time-code"
            maxLength={6}
            autoFocus
            placeholder="123456"
            value={code}
            onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, '').slice(0, 6))}
          />
        </label>
      ) : (
        <label class="field">
          <span>Recovery code</span>
          <input
            name="recovery"
            class="mono"
            autocomplete="off"
            autoCapitalize="off"
            spellcheck={false}
            autoFocus
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </label>
      )}
      {error && <Alert testId="login-error">{error}</Alert>}
      <button class="btn btn-primary btn-block" type="submit" disabled={busy || !ready}>
        {busy ? 'Verifying…' : 'Verify'}
      </button>
      <div class="login-links">
        <button type="button" class="link" onClick={onSwitch} data-testid="switch-second-factor">
          {totp ? 'Use a recovery code' : 'Use the authenticator app'}
        </button>
        <button type="button" class="link" onClick={onBack}>
          Back
        </button>
      </div>
    </form>
  );
}
