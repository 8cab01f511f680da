import { useEffect, useState } from 'preact/hooks';
import { ApiError, errorMessage, listAgents, type Agent } from '../api';
import { Spinner } from '../ui/basics';
import { Alert } from '../ui/alert';
import { AppShell } from '../ui/app-shell';
import { ReasonDialog } from '../ui/reason-dialog';
import { navigate } from '../router';
import { setSessionReason } from '../session-intent';
import { MachineRow, type OpenMode } from './machine-row';

const REFRESH_MS = 3000;

export function MachinesPage() {
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [asking, setAsking] = useState<{ agent: Agent; mode: OpenMode } | null>(null);
  // Machines whose next session is to be recorded ("Record this session").
  const [recordFor, setRecordFor] = useState<Set<string>>(new Set());

  useEffect(() => {
    let cancelled = false;
    let timer: number | undefined;
    const load = async () => {
      try {
        const list = await listAgents();
        if (cancelled) return;
        list.sort((a, b) => Number(b.online) - Number(a.online) || (a.name || a.id).localeCompare(b.name || b.id));
        setAgents(list);
        setError(null);
      } catch (err) {
        if (cancelled) return;
        if (err instanceof ApiError && err.status === 401) return;
        setError(errorMessage(err, 'Cannot load the machine list.'));
      }
      if (!cancelled) timer = window.setTimeout(load, REFRESH_MS);
    };
    load();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, []);

  const go = (agent: Agent, mode: OpenMode) =>
    navigate({
      name: 'session',
      agent: agent.id,
      viewOnly: mode === 'view',
      record: recordFor.has(agent.id) && (agent.permissions ?? []).includes('record'),
    });
  const setRecord = (id: string, on: boolean) =>
    setRecordFor((old) => {
      const next = new Set(old);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });

  const open = (agent: Agent, mode: OpenMode) => {
    if (!agent.online) return;
    if (agent.require_reason) setAsking({ agent, mode });
    else go(agent, mode);
  };

  const online = agents?.filter((a) => a.online).length ?? 0;

  return (
    <AppShell section="machines">
      <div class="content-head">
        <h1>Machines</h1>
        {agents && (
          <span class="muted" data-testid="agent-count">
            {online} of {agents.length} online
          </span>
        )}
      </div>
      {error && <Alert>{error} Retrying…</Alert>}
      {agents === null && !error && (
        <div class="empty">
          <Spinner /> Loading machines…
        </div>
      )}
      {agents && agents.length === 0 && (
        <div class="empty">
          <strong>No machines to show.</strong>
          <span class="muted">
            Machines appear here once their agent connects to this gateway and you have been granted access to them.
          </span>
        </div>
      )}
      {agents && agents.length > 0 && (
        <ul class="machines" aria-label="Machines">
          {agents.map((a) => (
            <MachineRow
              key={a.id}
              agent={a}
              onOpen={open}
              record={recordFor.has(a.id)}
              onRecordChange={(on) => setRecord(a.id, on)}
            />
          ))}
        </ul>
      )}
      {asking && (
        <ReasonDialog
          machine={asking.agent.name || asking.agent.id}
          onClose={() => setAsking(null)}
          onSubmit={(reason) => {
            setSessionReason(asking.agent.id, reason);
            const { agent, mode } = asking;
            setAsking(null);
            go(agent, mode);
          }}
        />
      )}
    </AppShell>
  );
}
