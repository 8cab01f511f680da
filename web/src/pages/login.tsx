import { useState } from 'preact/hooks';
import { ApiError, getSsoStatus, login, type SecondFactor } from '../api';
import { Logo } from '../ui/basics';
import { Alert } from '../ui/alert';
import { TextField } from '../ui/text-field';
import { takeLoginNotice } from '../login-notice';
import { SecondFactorStep } from './login-second-factor';

type Step = 'password' | 'totp' | 'recovery';

function messageFor(err: unknown, step: Step): string {
  if (err instanceof ApiError) {
    if (err.code === 'totp_invalid') {
      return step === 'recovery'
        ? 'That recovery code is not valid or was already used.'
        : 'That code is not valid. Check the time on your phone and try the current code.';
    }
    if (err.code === 'locked' || err.status === 423) {
      return err.message && err.message !== 'Locked' ? `This account is locked: ${err.message}` : 'This account is locked after too many failed attempts. Try again later.';
    }
    switch (err.status) {
      case 401:
        return 'Wrong username or password.';
      case 429:
        return 'Too many sign-in attempts. Wait a minute, then try again.';
      case 400:
        return step === 'password' ? 'Enter a username and a password.' : 'Enter the code.';
      case 0:
        return 'Cannot reach the gateway. Check your connection and try again.';
    }
    return `Sign-in failed (${err.status}): ${err.message}`;
  }
  return 'Sign-in failed.';
}

const SSO_ERRORS: Record<string, string> = {
  sso: 'Single sign-on failed. Try again, or sign in with your username and password.',
};

export function LoginPage({ onSignedIn, error: routeError }: { onSignedIn: () => void; error?: string }) {
  const [notice] = useState(takeLoginNotice);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [step, setStep] = useState<Step>('password');
  const [error, setError] = useState<string | null>(routeError ? SSO_ERRORS[routeError] ?? 'Sign-in failed.' : null);
  const [busy, setBusy] = useState(false);
  const sso = getSsoStatus();

  const attempt = async (second: SecondFactor, currentStep: Step) => {
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      await login(username.trim(), password, second);
      onSignedIn();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') {
        setStep('totp');
      } else {
        setError(messageFor(err, currentStep));
        if (currentStep === 'password' || (err instanceof ApiError && err.code === 'unauthorized')) {
          setPassword('');
          setStep('password');
        }
      }
    } finally {
      setBusy(false);
    }
  };

  const restart = () => {
    setStep('password');
    setPassword('');
    setError(null);
  };

  return (
    <main class="login-page">
      <div class="login-card">
        <div class="login-brand">
          <Logo />
          <span>webremote</span>
        </div>
        {step === 'password' ? (
          <form
            class="login-form"
            onSubmit={(e) => {
              e.preventDefault();
              attempt({}, 'password');
            }}
            aria-labelledby="login-title"
            noValidate
          >
            <h1 id="login-title">Sign in</h1>
            <p class="muted login-lead">Remote access to your machines, in the browser.</p>
            {notice && <Alert kind="success">{notice}</Alert>}
            <TextField
              label="Username"
              name="username"
              autocomplete="username"
              autoFocus
              required
              value={username}
              onValue={setUsername}
            />
            <TextField
              label="Password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onValue={setPassword}
            />
            {error && <Alert testId="login-error">{error}</Alert>}
            <button class="btn btn-primary btn-block" type="submit" disabled={busy || !username || !password}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
            {sso?.enabled && (
              <>
                <div class="divider" role="separator">
                  <span>or</span>
                </div>
                <a class="btn btn-secondary btn-block" href="/api/v1/auth/sso/start" data-testid="sso-button">
                  {sso.label || 'Sign in with SSO'}
                </a>
              </>
            )}
          </form>
        ) : (
          <SecondFactorStep
            kind={step}
            busy={busy}
            error={error}
            onSubmit={(code) => attempt(step === 'totp' ? { totp_code: code } : { recovery_code: code }, step)}
            onSwitch={() => {
              setError(null);
              setStep(step === 'totp' ? 'recovery' : 'totp');
            }}
            onBack={restart}
          />
        )}
      </div>
    </main>
  );
}
