// Pipeline profile picker in the session toolbar (docs/pipelines.md,
// "Switching live"): lists the agent's profiles, switches the display with
// profile.set on the input DataChannel, shows the encoder in use.
import { useEffect, useState } from 'preact/hooks';

import { agentChannel, type ProfilesState } from '../../rtc/agent-channel';

export function ProfilePicker({ hidden }: { hidden: boolean }) {
  const [state, setState] = useState<ProfilesState>(agentChannel.get());

  useEffect(() => agentChannel.subscribe(setState), []);

  // View-only sessions cannot switch (the agent would answer forbidden).
  if (hidden || state.available.length === 0) return null;
  const value = state.pending ?? state.active ?? '';
  // The codec is in the status bar; the encoder is what the profile got.
  const encoder = state.pending ? 'switching…' : state.encoder ?? '—';
  return (
    <span
      class="profile-picker"
      data-testid="profile-picker"
      title={state.error ?? `Pipeline profile of this display (every viewer of it sees the change); encoder ${state.encoder ?? '?'}${state.codec ? ' · ' + state.codec : ''}`}
      style={{ display: 'inline-flex', alignItems: 'center', gap: '4px', fontSize: '12px', whiteSpace: 'nowrap' }}
    >
      <select
        aria-label="Pipeline profile"
        data-testid="profile-select"
        value={value}
        disabled={state.pending !== null}
        onChange={(e) => agentChannel.setProfile((e.currentTarget as HTMLSelectElement).value)}
        style={{ background: '#1f2430', color: 'inherit', border: '1px solid #3a4150', borderRadius: '4px', padding: '2px 4px', maxWidth: '110px' }}
      >
        {state.available.map((name) => (
          <option key={name} value={name}>
            {name}
          </option>
        ))}
      </select>
      <span class="mono dim" data-testid="profile-encoder">
        {encoder}
      </span>
      {state.error && (
        <span data-testid="profile-error" style={{ color: '#f0a36b' }}>
          not switched
        </span>
      )}
    </span>
  );
}
