import { useState } from 'preact/hooks';
import { deleteUser, errorMessage, getUser, listUsers, updateUser, type AdminUser } from '../../api';
import { Spinner, formatDate } from '../../ui/basics';
import { Alert } from '../../ui/alert';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { useLoader } from '../../ui/use-loader';
import { SectionHead } from './section-head';
import { NewUserDialog } from './new-user-dialog';
import { ResetPasswordDialog } from './reset-password-dialog';

type Pending =
  | { kind: 'new' }
  | { kind: 'password'; user: AdminUser }
  | { kind: 'totp'; user: AdminUser }
  | { kind: 'delete'; user: AdminUser }
  | null;

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
  const [pending, setPending] = useState<Pending>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const me = getUser()?.name;

  const toggleDisabled = async (u: AdminUser) => {
    setMessage(null);
    try {
      await updateUser(u.name, { disabled: !u.disabled });
      setMessage({ kind: 'success', text: `${u.name} is ${u.disabled ? 'enabled' : 'disabled'}.` });
      await users.reload();
    } catch (err) {
      setMessage({ kind: 'error', text: errorMessage(err) });
    }
  };

  const close = () => setPending(null);
  const done = (text: string) => {
    setMessage({ kind: 'success', text });
    users.reload();
  };

  return (
    <section class="card" data-testid="admin-users">
      <SectionHead
        title="Users"
        action={
          <button type="button" class="btn btn-primary" onClick={() => setPending({ kind: 'new' })} data-testid="user-new">
            New user
          </button>
        }
      >
        Local accounts. What each one may do on which machines comes from grants.
      </SectionHead>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {users.error && <Alert>{users.error}</Alert>}
      {users.loading && !users.data && (
        <div class="table-empty">
          <Spinner /> Loading…
        </div>
      )}
      {users.data && (
        <table class="table">
          <thead>
            <tr>
              <th>User</th>
              <th>Status</th>
              <th>Created</th>
              <th class="col-actions">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
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
                      <button type="button" class="btn btn-secondary btn-small" onClick={() => setPending({ kind: 'password', user: u })}>
                        Reset password
                      </button>
                    )}
                    {u.totp_enabled && (
                      <button type="button" class="btn btn-secondary btn-small" onClick={() => setPending({ kind: 'totp', user: u })}>
                        Reset TOTP
                      </button>
                    )}
                    <button
                      type="button"
                      class="btn btn-secondary btn-small"
                      disabled={u.name === me}
                      title={u.name === me ? 'You cannot disable your own account' : undefined}
                      onClick={() => toggleDisabled(u)}
                    >
                      {u.disabled ? 'Enable' : 'Disable'}
                    </button>
                    <button
                      type="button"
                      class="btn btn-danger-outline btn-small"
                      disabled={u.name === me}
                      title={u.name === me ? 'You cannot delete your own account' : undefined}
                      onClick={() => setPending({ kind: 'delete', user: u })}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
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
