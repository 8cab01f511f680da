// The agent's messages on the session's "input" DataChannel that are not
// answers to input: the pipeline profiles (docs/protocol.md, "Profiles").
// SessionClient feeds it; the profile picker reads it and sends profile.set.

export interface ProfilesState {
  /** Profiles the agent offers (`profiles.available`). */
  available: string[];
  /** The profile the display streams with. */
  active: string | null;
  encoder: string | null;
  codec: string | null;
  /** A profile.set sent and not yet answered. */
  pending: string | null;
  /** The last refusal of a profile.set (its message). */
  error: string | null;
}

type Listener = (state: ProfilesState) => void;

const EMPTY: ProfilesState = { available: [], active: null, encoder: null, codec: null, pending: null, error: null };

class AgentChannel {
  private channel: RTCDataChannel | null = null;
  private state: ProfilesState = EMPTY;
  private listeners = new Set<Listener>();
  private nextId = 1;

  /** A new input channel (or none): what the old one said no longer holds. */
  attach(channel: RTCDataChannel | null): void {
    if (channel === this.channel) return;
    this.channel = channel;
    // A new connection of the same session opens a new channel; the agent
    // sends `profiles` again on it, so keep the list until then.
    this.update(channel ? { pending: null, error: null } : EMPTY);
  }

  /** Called with every parsed message from the agent on the channel. */
  receive(msg: { type?: string; [key: string]: unknown }): void {
    switch (msg.type) {
      case 'profiles':
        this.update({
          available: Array.isArray(msg.available) ? msg.available.filter((x): x is string => typeof x === 'string') : [],
          active: typeof msg.active === 'string' ? msg.active : null,
          encoder: typeof msg.encoder === 'string' ? msg.encoder : null,
          codec: typeof msg.codec === 'string' ? msg.codec : null,
        });
        break;
      case 'profile.changed':
        this.update({
          active: typeof msg.profile === 'string' ? msg.profile : this.state.active,
          encoder: typeof msg.encoder === 'string' ? msg.encoder : null,
          codec: typeof msg.codec === 'string' ? msg.codec : null,
          pending: null,
          error: null,
        });
        break;
      case 'error':
        if (typeof msg.ref === 'string' && msg.ref.startsWith('profile-')) {
          this.update({ pending: null, error: typeof msg.message === 'string' ? msg.message : String(msg.code) });
        }
        break;
      default:
        break;
    }
  }

  /** Asks the agent to switch the display's profile; false when the channel is closed. */
  setProfile(name: string): boolean {
    const ch = this.channel;
    if (!ch || ch.readyState !== 'open') return false;
    ch.send(JSON.stringify({ v: 1, type: 'profile.set', id: `profile-${this.nextId++}`, profile: name }));
    this.update({ pending: name, error: null });
    return true;
  }

  get(): ProfilesState {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    listener(this.state);
    return () => this.listeners.delete(listener);
  }

  private update(patch: Partial<ProfilesState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l(this.state);
  }
}

/** One session view at a time: one agent channel. */
export const agentChannel = new AgentChannel();
