import { useState } from 'preact/hooks';
import { errorMessage, listAgents, setAgentGroup, type Agent, type Group } from '../../api';
import { Spinner } from '../../ui/basics';
import { Alert } from '../../ui/alert';
import { useLoader } from '../../ui/use-loader';
import { SectionHead } from './section-head';

/** Each machine with a group selector (PUT /api/v1/agents/{id}/group). */
export function GroupAgents({ groups }: { groups: Group[] }) {
  const agents = useLoader(listAgents, 'the machines');
  const [message, setMessage] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  const move = async (a: Agent, group: string) => {
    setMessage(null);
    setBusy(a.id);
    try {
      await setAgentGroup(a.id, group);
      setMessage({ kind: 'success', text: `${a.name || a.id} is now in ${group}.` });
      await agents.reload();
    } catch (err) {
      setMessage({ kind: 'error', text: errorMessage(err, 'Cannot move the machine.') });
    } finally {
      setBusy(null);
    }
  };

  const list = agents.data ? [...agents.data].sort((a, b) => (a.name || a.id).localeCompare(b.name || b.id)) : null;

  return (
    <section class="card" data-testid="admin-group-agents">
      <SectionHead title="Machines">Which group each machine belongs to.</SectionHead>
      {message && <Alert kind={message.kind}>{message.text}</Alert>}
      {agents.error && <Alert>{agents.error}</Alert>}
      {agents.loading && !agents.data && (
        <div class="table-empty">
          <Spinner /> Loading…
        </div>
      )}
      {list && list.length === 0 && <p class="muted table-empty">No machines have connected yet.</p>}
      {list && list.length > 0 && (
        <table class="table">
          <thead>
            <tr>
              <th>Machine</th>
              <th>Status</th>
              <th>Group</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      )}
    </section>
  );
}
