import { useState } from 'preact/hooks';
import { deleteGroup, errorMessage, listGroups, setGroupRequireReason, type Group } from '../../api';
import { Spinner } from '../../ui/basics';
import { Alert } from '../../ui/alert';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { Switch } from '../../ui/switch';
import { useLoader } from '../../ui/use-loader';
import { SectionHead } from './section-head';
import { NewGroupDialog } from './new-group-dialog';
import { GroupAgents } from './group-agents';

type Pending = { kind: 'new' } | { kind: 'delete'; group: Group } | null;

/** Groups of machines, their session policy, and which machine is in which. */
export function GroupsSection() {
  const groups = useLoader(listGroups, 'the groups');
  const [pending, setPending] = useState<Pending>(null);
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const close = () => setPending(null);

  const toggleReason = async (g: Group) => {
    setMessage(null);
    try {
      await setGroupRequireReason(g.name, !g.require_reason);
      await groups.reload();
    } catch (err) {
      setMessage({ kind: 'error', text: errorMessage(err) });
    }
  };

  return (
    <>
      <section class="card" data-testid="admin-groups">
        <SectionHead
          title="Groups"
          action={
            <button type="button" class="btn btn-primary" onClick={() => setPending({ kind: 'new' })} data-testid="group-new">
              New group
            </button>
          }
        >
          Every machine is in one group; grants give access per group. A group can require a reason or ticket for each
          session.
        </SectionHead>
        {message && <Alert kind={message.kind}>{message.text}</Alert>}
        {groups.error && <Alert>{groups.error}</Alert>}
        {groups.loading && !groups.data && (
          <div class="table-empty">
            <Spinner /> Loading…
          </div>
        )}
        {groups.data && (
          <table class="table">
            <thead>
              <tr>
                <th>Group</th>
                <th>Require a reason</th>
                <th class="col-actions">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {groups.data.map((g) => (
                <tr key={g.name} data-group={g.name}>
                  <td>
                    <span class="cell-title mono">{g.name}</span>
                    {g.name === 'default' && <span class="chip chip-muted">default</span>}
                  </td>
                  <td>
                    <div class="switch-cell">
                      <Switch
                        on={g.require_reason}
                        onChange={() => toggleReason(g)}
                        label={`Require a reason for sessions in ${g.name}`}
                        testId={'reason-' + g.name}
                      />
                      <span class="muted small">{g.require_reason ? 'required' : 'not required'}</span>
                    </div>
                  </td>
                  <td class="col-actions">
                    {g.name !== 'default' && (
                      <button type="button" class="btn btn-danger-outline btn-small" onClick={() => setPending({ kind: 'delete', group: g })}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <GroupAgents groups={groups.data ?? []} />
      {pending?.kind === 'new' && (
        <NewGroupDialog
          onClose={close}
          onCreated={(name) => {
            close();
            setMessage({ kind: 'success', text: `Group ${name} created. Move machines into it below.` });
            groups.reload();
          }}
        />
      )}
      {pending?.kind === 'delete' && (
        <ConfirmDialog
          title="Delete the group?"
          confirmLabel="Delete group"
          onClose={close}
          onConfirm={async () => {
            await deleteGroup(pending.group.name);
            setMessage({ kind: 'success', text: `Group ${pending.group.name} deleted.` });
            await groups.reload();
          }}
        >
          Delete <strong>{pending.group.name}</strong>? Its grants no longer give access to anything.
        </ConfirmDialog>
      )}
    </>
  );
}
