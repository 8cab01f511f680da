import { useState } from 'preact/hooks';
import { createToken, type NewApiToken } from '../../api';
import { AGENT_PERMISSIONS } from '../../permissions';
import { FormDialog } from '../../ui/form-dialog';
import { PermissionCheckboxes } from '../../ui/permission-checkboxes';
import { useFormSubmit } from '../../ui/use-form-submit';

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
  const allowed = [...AGENT_PERMISSIONS.map((p) => p.name), ...permissions];

  const form = useFormSubmit(
    () => {
      if (!/^[A-Za-z0-9._-]{1,64}$/.test(name.trim())) return 'Name the token with 1 to 64 letters, digits, dots, dashes or underscores.';
      if (scopes.length === 0) return 'Choose at least one scope.';
    },
    async () => onCreated(await createToken(name.trim(), scopes, expiry)),
    'Cannot create the token.',
  );

  return (
    <FormDialog title="New API token" submitLabel="Create token" form={form} onClose={onClose} wide testId="token-dialog">
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
    </FormDialog>
  );
}
