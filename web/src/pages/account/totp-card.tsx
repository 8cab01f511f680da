import { useState } from 'preact/hooks';
import { disableTotp, enableTotp, errorMessage, me, setupTotp, type TotpSetup } from '../../api';
import { Alert } from '../../ui/alert';
import { TextField } from '../../ui/text-field';
import { TotpEnroll } from './totp-enroll';
import { RecoveryCodes } from './recovery-codes';

type State =
  | { step: 'idle' }
  | { step: 'setup'; setup: TotpSetup }
  | { step: 'codes'; codes: string[] }
  | { step: 'disable' };

/** Two-factor authentication with an authenticator app (RFC 6238). */
export function TotpCard({ enabled }: { enabled: boolean }) {
  const [state, setState] = useState<State>({ step: 'idle' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [password, setPassword] = useState('');

  const run = async (what: string, fn: () => Promise<void>) => {
    setError(null);
    setBusy(true);
    try {
      await fn();
    } catch (err) {
      setError(errorMessage(err, what));
    } finally {
      setBusy(false);
    }
  };

  const start = () =>
    run('Cannot start the setup.', async () => {
      setState({ step: 'setup', setup: await setupTotp() });
    });

  const enable = (code: string) =>
    run('Cannot turn on two-factor authentication.', async () => {
      const codes = await enableTotp(code);
      setState({ step: 'codes', codes });
      await me().catch(() => {});
    });

  const disable = (e: Event) => {
    e.preventDefault();
    run('Cannot turn off two-factor authentication.', async () => {
      await disableTotp(password);
      setPassword('');
      setState({ step: 'idle' });
      await me().catch(() => {});
    });
  };

  return (
    <section class="card" aria-labelledby="totp-title" data-testid="totp-card">
      <div class="card-head">
        <h2 id="totp-title">
          Two-factor authentication
          <span class={'badge ' + (enabled ? 'badge-online' : 'badge-offline')} data-testid="totp-status">
            {enabled ? 'on' : 'off'}
          </span>
        </h2>
        <p class="muted">
          {enabled
            ? 'Signing in asks for a code from your authenticator app after the password.'
            : 'Add a code from an authenticator app (such as FreeOTP, Aegis or Google Authenticator) to every sign-in.'}
        </p>
      </div>

      {state.step === 'setup' && (
        <TotpEnroll setup={state.setup} busy={busy} onEnable={enable} onCancel={() => setState({ step: 'idle' })} />
      )}
      {state.step === 'codes' && <RecoveryCodes codes={state.codes} onDone={() => setState({ step: 'idle' })} />}
      {state.step === 'disable' && (
        <form class="form-grid" onSubmit={disable} noValidate>
          <TextField
            label="Confirm with your password"
            type="password"
            name="totp-disable-password"
            autocomplete="current-password"
            autoFocus
            value={password}
            onValue={setPassword}
          />
          <div class="form-actions">
            <button type="button" class="btn btn-secondary" onClick={() => setState({ step: 'idle' })}>
              Cancel
            </button>
            <button type="submit" class="btn btn-danger" disabled={busy || !password}>
              Turn off
            </button>
          </div>
        </form>
      )}
      {error && <Alert>{error}</Alert>}
      {state.step === 'idle' && (
        <div class="form-actions">
          {enabled ? (
            <button type="button" class="btn btn-secondary" onClick={() => setState({ step: 'disable' })}>
              Turn off two-factor authentication
            </button>
          ) : (
            <button type="button" class="btn btn-primary" onClick={start} disabled={busy} data-testid="totp-setup">
              Set up two-factor authentication
            </button>
          )}
        </div>
      )}
    </section>
  );
}
