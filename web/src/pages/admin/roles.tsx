import { deleteRole, listRoles, type Role } from '../../api';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { DataTable } from '../../ui/data-table';
import { LoadState } from '../../ui/load-state';
import { RowButton } from '../../ui/row-button';
import { PermissionChips } from '../../ui/permission-chips';
import { useLoader } from '../../ui/use-loader';
import { NoticeAlert } from '../../ui/use-notice';
import { SectionHead } from './section-head';
import { useSection } from './use-section';
import { RoleDialog } from './role-dialog';

type Pending = { kind: 'new' } | { kind: 'edit'; role: Role } | { kind: 'delete'; role: Role };

/** Built-in and custom roles, each a set of permissions. */
export function RolesSection() {
  const roles = useLoader(listRoles, 'the roles');
  const { notice, pending, setPending, close, done } = useSection<Pending>(roles.reload);

  const sorted = roles.data ? [...roles.data].sort((a, b) => Number(b.builtin) - Number(a.builtin) || a.name.localeCompare(b.name)) : null;

  return (
    <section class="card" data-testid="admin-roles">
      <SectionHead
        title="Roles"
        create={{ label: 'New role', testId: 'role-new', onClick: () => setPending({ kind: 'new' }) }}
      >
        A role is a set of permissions. Grants give a role to a user or an SSO group on one group of machines or on
        all of them.
      </SectionHead>
      <NoticeAlert notice={notice.notice} />
      <LoadState loaded={roles} />
      {sorted && (
        <DataTable columns={['Role', 'Permissions']} actions>
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
                    <RowButton onClick={() => setPending({ kind: 'edit', role: r })}>Edit</RowButton>
                    <RowButton danger onClick={() => setPending({ kind: 'delete', role: r })}>Delete</RowButton>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </DataTable>
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
