import { CopyButton } from '../../ui/copy-button';
import { Alert } from '../../ui/alert';

/** Shown once, right after TOTP is turned on. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  return (
    <div class="recovery">
      <Alert kind="success">Two-factor authentication is on.</Alert>
      <p>
        <strong>Save these recovery codes now.</strong> Each one signs you in once if you lose your phone. They are not
        shown again.
      </p>
      <ul class="recovery-codes mono" data-testid="recovery-codes">
        {codes.map((c) => (
          <li key={c}>{c}</li>
        ))}
      </ul>
      <div class="form-actions">
        <CopyButton text={codes.join('\n')} label="Copy the codes" testId="copy-recovery-codes" />
        <button type="button" class="btn btn-primary" onClick={onDone} data-testid="recovery-done">
          I saved them
        </button>
      </div>
    </div>
  );
}
