import { useState } from 'preact/hooks';
import { createGrant, listGroups, listUsers, type Grant, type Role, type SubjectKind } from '../../api';
import { FormDialog } from '../../ui/form-dialog';
import { useFormSubmit } from '../../ui/use-form-submit';
import { useLoader } from '../../ui/use-loader';

const ALL = '';
const KINDS: { kind: SubjectKind; label: string }[] = [
  { kind: 'user', label: 'A user' },
  { kind: 'oidc-group', label: 'An SSO group' },
];

export function GrantDialog({ roles, onClose, onCreated }: { roles: Role[]; onClose: () => void; onCreated: (g: Grant) => void }) {
  const users = useLoader(listUsers, 'the users');
  const groups = useLoader(listGroups, 'the groups');
  const [kind, setKind] = useState<SubjectKind>('user');
  const [subject, setSubject] = useState('');
  const [role, setRole] = useState(roles.find((r) => r.name === 'viewer')?.name ?? roles[0]?.name ?? '');
  const [group, setGroup] = useState(ALL);
  const s = subject.trim();

  const form = useFormSubmit(
    () => {
      if (!s) return kind === 'user' ? 'Choose a user.' : 'Enter the SSO group name.';
      if (!role) return 'Choose a role.';
    },
    async () => {
      const created = await createGrant(kind, s, role, group === ALL ? null : group);
      onCreated(created ?? { id: '', subject_kind: kind, subject: s, role, group: group || null });
    },
    'Cannot create the grant.',
  );

  return (
    <FormDialog title="New grant" submitLabel="Create grant" form={form} onClose={onClose} testId="grant-dialog">
      <fieldset class="segmented">
        <legend>Give the role to</legend>
        {KINDS.map((k) => (
          <label key={k.kind} class={'segment' + (kind === k.kind ? ' segment-on' : '')}>
            <input
              type="radio"
              name="grant-kind"
              value={k.kind}
              checked={kind === k.kind}
              onChange={() => {
                setKind(k.kind);
                setSubject('');
              }}
            />
            {k.label}
          </label>
        ))}
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
    </FormDialog>
  );
}
