import { useState } from 'preact/hooks';
import { ApiError, login } from '../api';
import { Logo } from '../components';

function messageFor(err: unknown): string {
  if (err instanceof ApiError) {
    switch (err.status) {
      case 401:
        return 'Wrong username or password.';
      case 429:
        return 'Too many sign-in attempts. Wait a minute, then try again.';
      case 400:
        return 'Enter a username and a password.';
      case 0:
        return 'Cannot reach the gateway. Check your connection and try again.';
    }
    return `Sign-in failed (${err.status}): ${err.message}`;
  }
  return 'Sign-in failed.';
}

export function LoginPage({ onSignedIn }: { onSignedIn: () => void }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      await login(username.trim(), password);
      onSignedIn();
    } catch (err) {
      setError(messageFor(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login-page">
      <form class="login-card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div class="login-brand">
          <Logo />
          <span>webremote</span>
        </div>
        <h1 id="login-title">Sign in</h1>
        <p class="muted">Remote access to your machines, in the browser.</p>
        <label class="field">
          <span>Username</span>
          <input
            name="username"
            autocomplete="username"
            autoFocus
            required
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error && (
          <div class="alert alert-error" role="alert" data-testid="login-error">
            {error}
          </div>
        )}
        <button class="btn btn-primary btn-block" type="submit" disabled={busy || !username || !password}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
