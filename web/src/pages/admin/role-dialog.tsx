import { useState } from 'preact/hooks';
import { createRole, updateRole, type Role } from '../../api';
import { FormDialog } from '../../ui/form-dialog';
import { PermissionCheckboxes } from '../../ui/permission-checkboxes';
import { TextField } from '../../ui/text-field';
import { useFormSubmit } from '../../ui/use-form-submit';

/** Create a custom role, or change the permissions of one. */
export function RoleDialog({ role, onClose, onSaved }: { role: Role | null; onClose: () => void; onSaved: (name: string) => void }) {
  const [name, setName] = useState(role?.name ?? '');
  const [permissions, setPermissions] = useState<string[]>(role?.permissions ?? ['view']);
  const n = name.trim();

  const form = useFormSubmit(
    () => {
      if (!role && !/^[A-Za-z0-9._-]{1,64}$/.test(n)) return 'Name the role with 1 to 64 letters, digits, dots, dashes or underscores.';
      if (permissions.length === 0) return 'Choose at least one permission.';
    },
    async () => {
      if (role) await updateRole(role.name, permissions);
      else await createRole(n, permissions);
      onSaved(role ? role.name : n);
    },
    'Cannot save the role.',
  );

  return (
    <FormDialog
      title={role ? `Edit role ${role.name}` : 'New role'}
      submitLabel={role ? 'Save' : 'Create role'}
      form={form}
      onClose={onClose}
      wide
      testId="role-dialog"
    >
      {!role && <TextField label="Name" name="role-name" autoFocus placeholder="e.g. helpdesk" value={name} onValue={setName} />}
      <div class="field">
        <span>Permissions</span>
        <PermissionCheckboxes selected={permissions} onChange={setPermissions} />
      </div>
    </FormDialog>
  );
}
