import { useState } from 'preact/hooks';
import type { TotpSetup } from '../../api';
import { SecretRow } from '../../ui/secret-row';
import { QrCode } from '../../ui/qr-code';

/** Step 2 of the setup: scan (or type) the secret, confirm with a code. */
export function TotpEnroll({
  setup,
  busy,
  onEnable,
  onCancel,
}: {
  setup: TotpSetup;
  busy: boolean;
  onEnable: (code: string) => void;
  onCancel: () => void;
}) {
  const [code, setCode] = useState('');
  const ready = code.length === 6;
  return (
    <div class="totp-enroll">
      <div class="totp-qr">
        <QrCode text={setup.otpauth_uri} label="QR code for your authenticator app" />
      </div>
      <form
        class="totp-steps"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (ready && !busy) onEnable(code);
        }}
      >
        <ol class="steps">
          <li>Scan the QR code with your authenticator app.</li>
          <li>
            Or enter this key by hand:
            <SecretRow text={setup.secret} testId="totp-secret" />
            <details class="uri">
              <summary>Show the setup link</summary>
              <code class="secret secret-uri" data-testid="totp-uri">
                {setup.otpauth_uri}
              </code>
            </details>
          </li>
          <li>Enter the 6-digit code the app shows to turn two-factor authentication on.</li>
        </ol>
        <div class="inline-form">
          <label class="field">
            <span>Code from the app</span>
            <input
              name="totp-enable-code"
              class="code-input"
              inputMode="numeric"
              pattern="[0-9]*"
              autocomplete="one-time-code"
              maxLength={6}
              placeholder="123456"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value.replace(/\D/g, '').slice(0, 6))}
            />
          </label>
          <button type="submit" class="btn btn-primary" disabled={busy || !ready} data-testid="totp-enable">
            Turn on
          </button>
          <button type="button" class="btn btn-secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
