import { deleteGroup, listGroups, setGroupRequireReason, type Group } from '../../api';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { DataTable } from '../../ui/data-table';
import { LoadState } from '../../ui/load-state';
import { RowButton } from '../../ui/row-button';
import { Switch } from '../../ui/switch';
import { useLoader } from '../../ui/use-loader';
import { NoticeAlert } from '../../ui/use-notice';
import { SectionHead } from './section-head';
import { useSection } from './use-section';
import { NewGroupDialog } from './new-group-dialog';
import { GroupAgents } from './group-agents';

type Pending = { kind: 'new' } | { kind: 'delete'; group: Group };

/** Groups of machines, their session policy, and which machine is in which. */
export function GroupsSection() {
  const groups = useLoader(listGroups, 'the groups');
  const { notice, pending, setPending, close, done } = useSection<Pending>(groups.reload);

  const toggleReason = (g: Group) =>
    notice.run(async () => {
      await setGroupRequireReason(g.name, !g.require_reason);
      await groups.reload();
    });

  return (
    <>
      <section class="card" data-testid="admin-groups">
        <SectionHead
          title="Groups"
          create={{ label: 'New group', testId: 'group-new', onClick: () => setPending({ kind: 'new' }) }}
        >
          Every machine is in one group; grants give access per group. A group can require a reason or ticket for each
          session.
        </SectionHead>
        <NoticeAlert notice={notice.notice} />
        <LoadState loaded={groups} />
        {groups.data && (
          <DataTable columns={['Group', 'Require a reason']} actions>
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
                    <RowButton danger onClick={() => setPending({ kind: 'delete', group: g })}>Delete</RowButton>
                  )}
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </section>
      <GroupAgents groups={groups.data ?? []} />
      {pending?.kind === 'new' && (
        <NewGroupDialog
          onClose={close}
          onCreated={(name) => {
            close();
            done(`Group ${name} created. Move machines into it below.`);
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
            await done(`Group ${pending.group.name} deleted.`);
          }}
        >
          Delete <strong>{pending.group.name}</strong>? Its grants no longer give access to anything.
        </ConfirmDialog>
      )}
    </>
  );
}
