import { useState } from 'preact/hooks';
import { listAgents, setAgentGroup, type Agent, type Group } from '../../api';
import { DataTable } from '../../ui/data-table';
import { LoadState } from '../../ui/load-state';
import { useLoader } from '../../ui/use-loader';
import { NoticeAlert, useNotice } from '../../ui/use-notice';
import { SectionHead } from './section-head';

/** Each machine with a group selector (PUT /api/v1/agents/{id}/group). */
export function GroupAgents({ groups }: { groups: Group[] }) {
  const agents = useLoader(listAgents, 'the machines');
  const notice = useNotice();
  const [busy, setBusy] = useState<string | null>(null);

  const move = async (a: Agent, group: string) => {
    setBusy(a.id);
    await notice.run(async () => {
      await setAgentGroup(a.id, group);
      notice.success(`${a.name || a.id} is now in ${group}.`);
      await agents.reload();
    }, 'Cannot move the machine.');
    setBusy(null);
  };

  const list = agents.data ? [...agents.data].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id)) : null;

  return (
    <section class="card" data-testid="admin-group-agents">
      <SectionHead title="Machines">Which group each machine belongs to.</SectionHead>
      <NoticeAlert notice={notice.notice} />
      <LoadState loaded={agents} />
      {list && list.length === 0 && <p class="muted table-empty">No machines have connected yet.</p>}
      {list && list.length > 0 && (
        <DataTable columns={['Machine', 'Status', 'Group']}>
          {list.map((a) => {
            const names = groups.map((g) => g.name);
            if (a.group && !names.includes(a.group)) names.push(a.group);
            return (
              <tr key={a.id} data-agent-row={a.id}>
                <td>
                  <div class="cell-title">{a.name || a.id}</div>
                  <div class="cell-sub mono">{a.id}</div>
                </td>
                <td>
                  <span class={'badge ' + (a.online ? 'badge-online' : 'badge-offline')}>{a.online ? 'online' : 'offline'}</span>
                </td>
                <td>
                  <select
                    class="select"
                    name={'agent-group-' + a.id}
                    aria-label={`Group of ${a.name || a.id}`}
                    value={a.group ?? ''}
                    disabled={busy === a.id || names.length === 0}
                    onChange={(e) => move(a, e.currentTarget.value)}
                  >
                    {!a.group && <option value="">—</option>}
                    {names.map((n) => (
                      <option key={n} value={n}>
                        {n}
                      </option>
                    ))}
                  </select>
                </td>
              </tr>
            );
          })}
        </DataTable>
      )}
    </section>
  );
}
