import { useState } from 'preact/hooks';
import { createGrant, errorMessage, listGroups, listUsers, type Grant, type Role, type SubjectKind } from '../../api';
import { Alert } from '../../ui/alert';
import { Modal } from '../../ui/modal';
import { useLoader } from '../../ui/use-loader';

const ALL = '';

export function GrantDialog({ roles, onClose, onCreated }: { roles: Role[]; onClose: () => void; onCreated: (g: Grant) => void }) {
  const users = useLoader(listUsers, 'the users');
  const groups = useLoader(listGroups, 'the groups');
  const [kind, setKind] = useState<SubjectKind>('user');
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState(roles.find((r) => r.name === 'viewer')?.name ?? roles[0]?.name ?? '');
  const [group, setGroup] = useState(ALL);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async () => {
    setError(null);
    const s = subject.trim();
    if (!s) return setError(kind === 'user' ? 'Choose a user.' : 'Enter the SSO group name.');
    if (!role) return setError('Choose a role.');
    setBusy(true);
    try {
      const created = await createGrant(kind, s, role, group === ALL ? null : group);
      onCreated(created ?? { id: '', subject_kind: kind, subject: s, role, group: group || null });
    } catch (err) {
      setError(errorMessage(err, 'Cannot create the grant.'));
      setBusy(false);
    }
  };

  return (
    <Modal
      title="New grant"
      onClose={onClose}
      onSubmit={submit}
      testId="grant-dialog"
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            Create grant
          </button>
        </>
      }
    >
      <fieldset class="segmented">
        <legend>Give the role to</legend>
        <label class={'segment' + (kind === 'user' ? ' segment-on' : '')}>
          <input
            type="radio"
            name="grant-kind"
            value="user"
            checked={kind === 'user'}
            onChange={() => {
              setKind('user');
              setSubject('');
            }}
          />
          A user
        </label>
        <label class={'segment' + (kind === 'oidc-group' ? ' segment-on' : '')}>
          <input
            type="radio"
            name="grant-kind"
            value="oidc-group"
            checked={kind === 'oidc-group'}
            onChange={() => {
              setKind('oidc-group');
              setSubject('');
            }}
          />
          An SSO group
        </label>
      </fieldset>
      {kind === 'user' ? (
        <label class="field">
          <span>User</span>
          <select name="grant-subject" value={subject} onChange={(e) => setSubject(e.currentTarget.value)}>
            <option value="">Choose a user…</option>
            {(users.data ?? []).map((u) => (
              <option key={u.name} value={u.name}>
                {u.display_name ? `${u.name} (${u.display_name})` : u.name}
              </option>
            ))}
          </select>
          {users.error && <span class="field-hint field-hint-error">{users.error}</span>}
        </label>
      ) : (
        <label class="field">
          <span>SSO group</span>
          <input
            name="grant-subject"
            autocomplete="off"
            placeholder="the group name as the identity provider sends it"
            value={subject}
            onInput={(e) => setSubject(e.currentTarget.value)}
          />
        </label>
      )}
      <label class="field">
        <span>Role</span>
        <select name="grant-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
          {roles.map((r) => (
            <option key={r.name} value={r.name}>
              {r.name}
              {r.builtin ? ' (built-in)' : ''}
            </option>
          ))}
        </select>
      </label>
      <label class="field">
        <span>On</span>
        <select name="grant-group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
          <option value={ALL}>All groups</option>
          {(groups.data ?? []).map((g) => (
            <option key={g.name} value={g.name}>
              Group {g.name}
            </option>
          ))}
        </select>
      </label>
      {error && <Alert>{error}</Alert>}
    </Modal>
  );
}
