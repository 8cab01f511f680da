import { deleteUser, getUser, listUsers, updateUser, type AdminUser } from '../../api';
import { formatDate } from '../../ui/basics';
import { DataTable } from '../../ui/data-table';
import { LoadState } from '../../ui/load-state';
import { RowButton } from '../../ui/row-button';
import { NoticeAlert } from '../../ui/use-notice';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { useLoader } from '../../ui/use-loader';
import { SectionHead } from './section-head';
import { useSection } from './use-section';
import { NewUserDialog } from './new-user-dialog';
import { ResetPasswordDialog } from './reset-password-dialog';

type Pending =
  | { kind: 'new' }
  | { kind: 'password'; user: AdminUser }
  | { kind: 'totp'; user: AdminUser }
  | { kind: 'delete'; user: AdminUser }
;

function isLocked(u: AdminUser): boolean {
  return typeof u.locked_until === 'number' && u.locked_until * 1000 > Date.now();
}

function UserBadges({ user }: { user: AdminUser }) {
  return (
    <span class="chips">
      {user.disabled && <span class="chip chip-danger">disabled</span>}
      {isLocked(user) && (
        <span class="chip chip-warn" title={'Locked until ' + formatDate(user.locked_until)}>
          locked
        </span>
      )}
      {user.totp_enabled && <span class="chip chip-ok">TOTP</span>}
      {user.sso && <span class="chip chip-info">SSO</span>}
      {!user.disabled && !isLocked(user) && !user.totp_enabled && !user.sso && <span class="muted">—</span>}
    </span>
  );
}

/** Local accounts: create, reset password, disable, reset TOTP, delete. */
export function UsersSection() {
  const users = useLoader(listUsers, 'the users');
  const { notice, pending, setPending, close, done } = useSection<Pending>(users.reload);
  const me = getUser()?.name;

  const toggleDisabled = (u: AdminUser) =>
    notice.run(async () => {
      await updateUser(u.name, { disabled: !u.disabled });
      notice.success(`${u.name} is ${u.disabled ? 'enabled' : 'disabled'}.`);
      await users.reload();
    });

  return (
    <section class="card" data-testid="admin-users">
      <SectionHead
        title="Users"
        create={{ label: 'New user', testId: 'user-new', onClick: () => setPending({ kind: 'new' }) }}
      >
        Local accounts. What each one may do on which machines comes from grants.
      </SectionHead>
      <NoticeAlert notice={notice.notice} />
      <LoadState loaded={users} />
      {users.data && (
        <DataTable columns={['User', 'Status', 'Created']} actions>
          {users.data.map((u) => (
            <tr key={u.name} data-user={u.name} class={u.disabled ? 'row-muted' : undefined}>
              <td>
                <div class="cell-title mono">{u.name}</div>
                {u.display_name && <div class="cell-sub">{u.display_name}</div>}
              </td>
              <td>
                <UserBadges user={u} />
              </td>
              <td>{formatDate(u.created_at)}</td>
              <td class="col-actions">
                <div class="row-actions">
                  {!u.sso && (
                    <RowButton onClick={() => setPending({ kind: 'password', user: u })}>Reset password</RowButton>
                  )}
                  {u.totp_enabled && (
                    <RowButton onClick={() => setPending({ kind: 'totp', user: u })}>Reset TOTP</RowButton>
                  )}
                  <RowButton
                    disabled={u.name === me}
                    title={u.name === me ? 'You cannot disable your own account' : undefined}
                    onClick={() => toggleDisabled(u)}
                  >
                    {u.disabled ? 'Enable' : 'Disable'}
                  </RowButton>
                  <RowButton
                    danger
                    disabled={u.name === me}
                    title={u.name === me ? 'You cannot delete your own account' : undefined}
                    onClick={() => setPending({ kind: 'delete', user: u })}
                  >
                    Delete
                  </RowButton>
                </div>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
      {pending?.kind === 'new' && (
        <NewUserDialog
          onClose={close}
          onCreated={(name) => {
            close();
            done(`User ${name} created. Give them access on the Grants tab.`);
          }}
        />
      )}
      {pending?.kind === 'password' && (
        <ResetPasswordDialog
          user={pending.user.name}
          onClose={close}
          onDone={() => {
            close();
            done(`New password set for ${pending.user.name}.`);
          }}
        />
      )}
      {pending?.kind === 'totp' && (
        <ConfirmDialog
          title="Reset two-factor authentication?"
          confirmLabel="Reset TOTP"
          onClose={close}
          onConfirm={async () => {
            await updateUser(pending.user.name, { totp_enabled: false });
            done(`Two-factor authentication reset for ${pending.user.name}.`);
          }}
        >
          <strong>{pending.user.name}</strong> signs in with the password alone until they set up an authenticator app
          again. Their recovery codes stop working.
        </ConfirmDialog>
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete the user?"
          confirmLabel="Delete user"
          onClose={close}
          onConfirm={async () => {
            await deleteUser(pending.user.name);
            done(`User ${pending.user.name} deleted.`);
          }}
        >
          <strong>{pending.user.name}</strong> is signed out everywhere and their API tokens and grants are removed.
          This cannot be undone.
        </ConfirmDialog>
      )}
    </section>
  );
}
