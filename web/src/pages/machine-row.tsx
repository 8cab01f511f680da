import type { Agent } from '../api';
import { formatAgo } from '../ui/basics';
import { PermissionChips } from '../ui/permission-chips';
import { hrefFor } from '../router';

export type OpenMode = 'control' | 'view';

/** One machine in the list, with the ways the user may open it. */
export function MachineRow({
  agent,
  onOpen,
  record = false,
  onRecordChange,
}: {
  agent: Agent;
  onOpen: (agent: Agent, mode: OpenMode) => void;
  /** "Record this session" ticked (offered to holders of `record` on this machine). */
  record?: boolean;
  onRecordChange?: (record: boolean) => void;
}) {
  const displays = agent.displays ?? [];
  const viewers = (agent.pipelines ?? []).reduce((n, p) => n + (p.peers || 0), 0);
  // A gateway from before roles sends no permissions: offer what it offered.
  const perms = agent.permissions;
  const canControl = perms === undefined || perms.includes('control');
  const canRecord = perms !== undefined && perms.includes('record') && onRecordChange !== undefined;

  const action = (mode: OpenMode, label: string, primary: boolean, testId: string) => (
    <a
      class={'btn btn-small ' + (primary ? 'btn-primary' : 'btn-secondary')}
      href={hrefFor({ name: 'session', agent: agent.id, viewOnly: mode === 'view', record: record && canRecord })}
      data-testid={testId}
      onClick={(e) => {
        e.preventDefault();
        onOpen(agent, mode);
      }}
    >
      {label}
    </a>
  );

  let actions;
  if (!agent.online) actions = <span class="muted">Unavailable</span>;
  else if (perms === undefined) actions = action('control', 'Connect', true, 'connect');
  else if (canControl) {
    actions = (
      <>
        {action('view', 'View only', false, 'connect-view')}
        {action('control', 'View and control', true, 'connect')}
      </>
    );
  } else actions = action('view', 'View only', true, 'connect');

  return (
    <li
      class={'machine' + (agent.online ? ' machine-online' : ' machine-offline')}
      data-agent={agent.id}
      aria-disabled={agent.online ? undefined : 'true'}
    >
      <div class="machine-main">
        <div class="machine-title">
          <span class="machine-name">{agent.name || agent.id}</span>
          <span class={'badge ' + (agent.online ? 'badge-online' : 'badge-offline')} data-testid="agent-status">
            {agent.online ? 'online' : 'offline'}
          </span>
        </div>
        <div class="machine-id mono">{agent.id}</div>
        {perms !== undefined && (
          <div class="machine-access" data-testid="agent-access" title="Your permissions on this machine">
            <PermissionChips permissions={perms} empty="no access" />
          </div>
        )}
      </div>
      <div class="machine-meta">
        {agent.group !== undefined && (
          <div class="meta-item">
            <span class="meta-label">Group</span>
            <span class="meta-value">
              <span class="chip chip-group" data-testid="agent-group">
                {agent.group}
              </span>
              {agent.require_reason && (
                <span class="chip chip-warn" title="Sessions on this machine need a reason or ticket">
                  reason required
                </span>
              )}
            </span>
          </div>
        )}
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
        <div class="machine-buttons">{actions}</div>
        {agent.online && canRecord && (
          <label class="record-check" title="Ask the gateway to record the session you open (it is audited)">
            <input
              type="checkbox"
              checked={record}
              onChange={(e) => onRecordChange?.(e.currentTarget.checked)}
              data-testid="record-session"
            />
            Record this session
          </label>
        )}
      </div>
    </li>
  );
}
