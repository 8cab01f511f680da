import { useState } from 'preact/hooks';
import { createRole, errorMessage, updateRole, type Role } from '../../api';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';
import { PermissionCheckboxes } from '../../ui/permission-checkboxes';

/** Create a custom role, or change the permissions of one. */
export function RoleDialog({ role, onClose, onSaved }: { role: Role | null; onClose: () => void; onSaved: (name: string) => void }) {
  const [name, setName] = useState(role?.name ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? ['view']);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    const n = name.trim();
    if (!role && !/^[A-Za-z0-9._-]{1,64}$/.test(n)) {
      return setError('Name the role with 1 to 64 letters, digits, dots, dashes or underscores.');
    }
    if (permissions.length === 0) return setError('Choose at least one permission.');
    setBusy(true);
    try {
      if (role) await updateRole(role.name, permissions);
      else await createRole(n, permissions);
      onSaved(role ? role.name : n);
    } catch (err) {
      setError(errorMessage(err, 'Cannot save the role.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title={role ? `Edit role ${role.name}` : 'New role'}
      onClose={onClose}
      onSubmit={submit}
      wide
      testId="role-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {role ? 'Save' : 'Create role'}
          </button>
        </>
      }
    >
      {!role && (
        <label class="field">
          <span>Name</span>
          <input
            name="role-name"
            autoFocus
            autocomplete="off"
            placeholder="e.g. helpdesk"
            value={name}
            onInput={(e) => setName(e.currentTarget.value)}
          />
        </label>
      )}
      <div class="field">
        <span>Permissions</span>
        <PermissionCheckboxes selected={permissions} onChange={setPermissions} />
      </div>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
