import { deleteGrant, listGrants, listRoles, type Grant } from '../../api';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { DataTable } from '../../ui/data-table';
import { LoadState } from '../../ui/load-state';
import { RowButton } from '../../ui/row-button';
import { PermissionChips } from '../../ui/permission-chips';
import { useLoader } from '../../ui/use-loader';
import { NoticeAlert } from '../../ui/use-notice';
import { SectionHead } from './section-head';
import { useSection } from './use-section';
import { GrantDialog } from './grant-dialog';

type Pending = { kind: 'new' } | { kind: 'delete'; grant: Grant };

export const SUBJECT_KIND_LABEL: Record<string, string> = { user: 'User', 'oidc-group': 'SSO group' };

/** Who has which role on which group of machines. */
export function GrantsSection() {
  const grants = useLoader(listGrants, 'the grants');
  const roles = useLoader(listRoles, 'the roles');
  const { notice, pending, setPending, close, done } = useSection<Pending>(grants.reload);
  const permsOf = (role: string) => roles.data?.find((r) => r.name === role)?.permissions;

  const sorted = grants.data
    ? [...grants.data].sort(
        (a, b) => a.subject_kind.localeCompare(b.subject_kind) || a.subject.localeCompare(b.subject) || a.role.localeCompare(b.role),
      )
    : null;

  return (
    <section class="card" data-testid="admin-grants">
      <SectionHead
        title="Grants"
        create={{ label: 'New grant', testId: 'grant-new', onClick: () => setPending({ kind: 'new' }) }}
      >
        A grant gives a role to a user, or to everyone in an SSO group, on one group of machines or on all groups.
      </SectionHead>
      <NoticeAlert notice={notice.notice} />
      <LoadState loaded={grants} />
      {sorted && sorted.length === 0 && <p class="muted table-empty">No grants yet: only administrators can see machines.</p>}
      {sorted && sorted.length > 0 && (
        <DataTable columns={['Who', 'Role', 'On']} actions>
          {sorted.map((g) => {
            const perms = permsOf(g.role);
            return (
              <tr key={String(g.id)} data-grant={String(g.id)}>
                <td class="nowrap">
                  <span class={'chip ' + (g.subject_kind === 'user' ? 'chip-muted' : 'chip-info')}>
                    {SUBJECT_KIND_LABEL[g.subject_kind] ?? g.subject_kind}
                  </span>{' '}
                  <span class="cell-title mono">{g.subject}</span>
                </td>
                <td>
                  <div class="cell-title mono">{g.role}</div>
                  {perms && (
                    <div class="cell-sub">
                      <PermissionChips permissions={perms} />
                    </div>
                  )}
                </td>
                <td>{g.group ? <span class="chip chip-group mono">{g.group}</span> : <em>all groups</em>}</td>
                <td class="col-actions">
                  <RowButton danger onClick={() => setPending({ kind: 'delete', grant: g })}>Remove</RowButton>
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
      {pending?.kind === 'new' && (
        <GrantDialog
          roles={roles.data ?? []}
          onClose={close}
          onCreated={(g) => {
            close();
            done(`${g.subject} now has the role ${g.role} on ${g.group ?? 'all groups'}.`);
          }}
        />
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Remove the grant?"
          confirmLabel="Remove grant"
          onClose={close}
          onConfirm={async () => {
            await deleteGrant(pending.grant.id);
            await done('Grant removed.');
          }}
        >
          <strong>{pending.grant.subject}</strong> loses the role <strong>{pending.grant.role}</strong> on{' '}
          {pending.grant.group ?? 'all groups'}. Sessions already open keep running until their grant expires.
        </ConfirmDialog>
      )}
    </section>
  );
}
