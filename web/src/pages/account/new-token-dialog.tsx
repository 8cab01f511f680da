import { useState } from 'preact/hooks';
import { createToken, errorMessage, type NewApiToken } from '../../api';
import { AGENT_PERMISSIONS } from '../../permissions';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';
import { PermissionCheckboxes } from '../../ui/permission-checkboxes';

const DAY = 86400;
const EXPIRY: { label: string; seconds: number }[] = [
  { label: '1 day', seconds: DAY },
  { label: '7 days', seconds: 7 * DAY },
  { label: '30 days', seconds: 30 * DAY },
  { label: '90 days', seconds: 90 * DAY },
  { label: '1 year', seconds: 365 * DAY },
];

export function NewTokenDialog({
  permissions,
  onClose,
  onCreated,
}: {
  /** The user's system permissions; machine scopes are checked by the gateway. */
  permissions: string[];
  onClose: () => void;
  onCreated: (token: NewApiToken) => void;
}) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<string[]>(['view']);
  const [expiry, setExpiry] = useState(30 * DAY);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const allowed = [...AGENT_PERMISSIONS.map((p) => p.name), ...permissions];

  const submit = async () => {
    setError(null);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(name.trim())) {
      return setError('Name the token with 1 to 64 letters, digits, dots, dashes or underscores.');
    }
    if (scopes.length === 0) return setError('Choose at least one scope.');
    setBusy(true);
    try {
      onCreated(await createToken(name.trim(), scopes, expiry));
    } catch (err) {
      setError(errorMessage(err, 'Cannot create the token.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title="New API token"
      onClose={onClose}
      onSubmit={submit}
      wide
      testId="token-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Create token
          </button>
        </>
      }
    >
      <div class="form-row">
        <label class="field grow">
          <span>Name</span>
          <input
            name="token-name"
            autoFocus
            autocomplete="off"
            placeholder="e.g. backup-script"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
        <label class="field">
          <span>Expires after</span>
          <select name="token-expiry" value={String(expiry)} onChange={(e) => setExpiry(Number(e.currentTarget.value))}>
            {EXPIRY.map((o) => (
              <option key={o.seconds} value={String(o.seconds)}>
                {o.label}
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="field">
        <span>Scopes</span>
        <PermissionCheckboxes selected={scopes} onChange={setScopes} allowed={allowed} />
        <span class="field-hint">A token can never do more than you can.</span>
      </div>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
