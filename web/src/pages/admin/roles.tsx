import { useState } from 'preact/hooks';
import { deleteRole, listRoles, type Role } from '../../api';
import { Spinner } from '../../ui/basics';
import { Alert } from '../../ui/alert';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { PermissionChips } from '../../ui/permission-chips';
import { useLoader } from '../../ui/use-loader';
import { SectionHead } from './section-head';
import { RoleDialog } from './role-dialog';

type Pending = { kind: 'new' } | { kind: 'edit'; role: Role } | { kind: 'delete'; role: Role } | null;

/** Built-in and custom roles, each a set of permissions. */
export function RolesSection() {
  const roles = useLoader(listRoles, 'the roles');
  const [pending, setPending] = useState<Pending>(null);
  const [message, setMessage] = useState<string | null>(null);
  const close = () => setPending(null);
  const done = (text: string) => {
    setMessage(text);
    roles.reload();
  };

  const sorted = roles.data ? [...roles.data].sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.name.localeCompare(b.name)) : null;

  return (
    <section class="card" data-testid="admin-roles">
      <SectionHead
        title="Roles"
        action={
          <button type="button" class="btn btn-primary" onClick={() => setPending({ kind: 'new' })} data-testid="role-new">
            New role
          </button>
        }
      >
        A role is a set of permissions. Grants give a role to a user or an SSO group on one group of machines or on
        all of them.
      </SectionHead>
      {message && <Alert kind="success">{message}</Alert>}
      {roles.error && <Alert>{roles.error}</Alert>}
      {roles.loading && !roles.data && (
        <div class="table-empty">
          <Spinner /> Loading…
        </div>
      )}
      {sorted && (
        <table class="table">
          <thead>
            <tr>
              <th>Role</th>
              <th>Permissions</th>
              <th class="col-actions">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((r) => (
              <tr key={r.name} data-role={r.name}>
                <td>
                  <span class="cell-title mono">{r.name}</span>
                  {r.builtin && <span class="chip chip-muted">built-in</span>}
                </td>
                <td>
                  <PermissionChips permissions={r.permissions ?? []} />
                </td>
                <td class="col-actions">
                  {r.builtin ? (
                    <span class="muted small">read-only</span>
                  ) : (
                    <div class="row-actions">
                      <button type="button" class="btn btn-secondary btn-small" onClick={() => setPending({ kind: 'edit', role: r })}>
                        Edit
                      </button>
                      <button type="button" class="btn btn-danger-outline btn-small" onClick={() => setPending({ kind: 'delete', role: r })}>
                        Delete
                      </button>
                    </div>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {(pending?.kind === 'new' || pending?.kind === 'edit') && (
        <RoleDialog
          role={pending.kind === 'edit' ? pending.role : null}
          onClose={close}
          onSaved={(name) => {
            close();
            done(pending.kind === 'new' ? `Role ${name} created.` : `Role ${name} saved.`);
          }}
        />
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete the role?"
          confirmLabel="Delete role"
          onClose={close}
          onConfirm={async () => {
            await deleteRole(pending.role.name);
            done(`Role ${pending.role.name} deleted.`);
          }}
        >
          Delete <strong>{pending.role.name}</strong>? A role that is still granted cannot be deleted: remove its grants
          first.
        </ConfirmDialog>
      )}
    </section>
  );
}
