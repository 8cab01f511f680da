import { useEffect, useState } from 'preact/hooks';
import { ApiError, getUserName, listAgents, logout, type Agent } from '../api';
import { Logo, Spinner, formatAgo } from '../components';
import { hrefFor, navigate } from '../router';

const REFRESH_MS = 3000;

function AgentRow({ agent }: { agent: Agent }) {
  const displays = agent.displays ?? [];
  const viewers = (agent.pipelines ?? []).reduce((n, p) => n + (p.peers || 0), 0);
  const open = () => {
    if (agent.online) navigate({ name: 'session', agent: agent.id });
  };
  const body = (
    <>
      <div class="machine-main">
        <div class="machine-title">
          <span class="machine-name">{agent.name || agent.id}</span>
          <span
            class={'badge ' + (agent.online ? 'badge-online' : 'badge-offline')}
            data-testid="agent-status"
          >
            {agent.online ? 'online' : 'offline'}
          </span>
        </div>
        <div class="machine-id mono">{agent.id}</div>
      </div>
      <div class="machine-meta">
        <div class="meta-item">
          <span class="meta-label">Displays</span>
          <span class="meta-value">
            {displays.length === 0
              ? '—'
              : displays.map((d) => (
                  <span class="chip mono" key={d.name}>
                    {d.name} · {d.width}x{d.height}
                  </span>
                ))}
          </span>
        </div>
        <div class="meta-item">
          <span class="meta-label">Version</span>
          <span class="meta-value mono">{agent.version || '—'}</span>
        </div>
        <div class="meta-item">
          <span class="meta-label">{agent.online ? 'Viewers' : 'Last seen'}</span>
          <span class="meta-value">{agent.online ? viewers : formatAgo(agent.last_seen)}</span>
        </div>
      </div>
      <div class="machine-action">
        {agent.online ? <span class="btn btn-primary btn-small">Connect</span> : <span class="muted">Unavailable</span>}
      </div>
    </>
  );
  if (!agent.online) {
    return (
      <li class="machine machine-offline" data-agent={agent.id} aria-disabled="true">
        {body}
      </li>
    );
  }
  return (
    <li class="machine-item" data-agent={agent.id}>
      <a
        class="machine machine-online"
        href={hrefFor({ name: 'session', agent: agent.id })}
        onClick={(e) => {
          e.preventDefault();
          open();
        }}
      >
        {body}
      </a>
    </li>
  );
}

export function MachinesPage({ onSignedOut }: { onSignedOut: () => void }) {
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [signingOut, setSigningOut] = useState(false);

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
        setError(err instanceof ApiError ? err.message : 'Cannot load the machine list');
      }
      if (!cancelled) timer = window.setTimeout(load, REFRESH_MS);
    };
    load();
    return () => {
      cancelled = true;
      window.clearTimeout(timer);
    };
  }, []);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await logout();
    } catch {
      // The token is dropped locally whatever the gateway said.
    }
    onSignedOut();
    navigate({ name: 'login' });
  };

  const online = agents?.filter((a) => a.online).length ?? 0;

  return (
    <div class="page">
      <header class="topbar">
        <div class="brand">
          <Logo />
          <span>webremote</span>
        </div>
        <div class="topbar-right">
          <span class="user muted">
            Signed in as <strong>{getUserName() ?? 'user'}</strong>
          </span>
          <button class="btn btn-secondary" onClick={signOut} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </header>
      <main class="content">
        <div class="content-head">
          <h1>Machines</h1>
          {agents && (
            <span class="muted" data-testid="agent-count">
              {online} of {agents.length} online
            </span>
          )}
        </div>
        {error && (
          <div class="alert alert-error" role="alert">
            {error}. Retrying…
          </div>
        )}
        {agents === null && !error && (
          <div class="empty">
            <Spinner /> Loading machines…
          </div>
        )}
        {agents && agents.length === 0 && (
          <div class="empty">
            <strong>No machines yet.</strong>
            <span class="muted">Start webremote-agent on a machine and point it at this gateway; it appears here.</span>
          </div>
        )}
        {agents && agents.length > 0 && (
          <ul class="machines" aria-label="Machines">
            {agents.map((a) => (
              <AgentRow key={a.id} agent={a} />
            ))}
          </ul>
        )}
      </main>
    </div>
  );
}
