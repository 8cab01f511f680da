// One remote session: the /ws/client signaling WebSocket plus the
// RTCPeerConnection it negotiates (docs/protocol.md, "The client channel").
// The agent is the offerer; this side answers and trickles candidates.

import { agentChannel } from './agent-channel';

export type Phase =
  | 'connecting' // WebSocket opening
  | 'requesting' // session.request sent, waiting for the grant
  | 'negotiating' // offer/answer and ICE in progress
  | 'connected' // media flowing
  | 'ended' // finished: by us, by the agent, or by an error
  ;

export interface EndInfo {
  /** Human-readable explanation shown to the user. */
  message: string;
  /** Protocol error code or a local reason code. */
  code: string;
  /** Whether trying again may help. */
  retryable: boolean;
}

/** What happens to a command run from this session (docs/protocol.md, "Commands"). */
export type CommandEvent =
  | { kind: 'accepted'; ref: string; cid: string }
  | { kind: 'output'; cid: string; stream: 'stdout' | 'stderr'; data: string }
  | { kind: 'exit'; cid: string; status: number; signal: number | null; timedOut: boolean; truncated: boolean }
  | { kind: 'error'; ref: string; code: string; message: string };

export interface SessionCallbacks {
  onPhase(phase: Phase): void;
  onStream(stream: MediaStream): void;
  onInputChannel(channel: RTCDataChannel | null): void;
  onEnd(info: EndInfo): void;
  onNotice(message: string): void;
  onPeerConnection(pc: RTCPeerConnection | null): void;
  /** The scopes the gateway granted (the requested ones if it does not say). */
  onGranted(scopes: string[]): void;
  /** Commands: acceptance, output, exit and refusals. */
  onCommand?(event: CommandEvent): void;
  /** Whether the session is recorded: from session.granted, then session.recording. */
  onRecording?(state: RecordingState, reason?: string): void;
}

/** docs/protocol.md: session.granted `recording`, session.recording `state`. */
export type RecordingState = 'on' | 'interrupted' | 'off';

export interface SessionOptions {
  /** Asked for; the gateway grants their intersection with the user's rights. */
  scopes: string[];
  /** Reason or ticket, for groups whose policy requires one. */
  reason?: string;
}

interface Message {
  v?: number;
  type?: string;
  [key: string]: unknown;
}

const PROTOCOL_VERSION = 1;
const PING_INTERVAL_MS = 20000;

function describeError(code: string, message: string): EndInfo {
  switch (code) {
    case 'agent_offline':
      return { code, message: 'This machine is offline. It may be restarting; try again in a moment.', retryable: true };
    case 'not_found':
      return { code, message: 'This machine (or its display) is not known to the gateway.', retryable: true };
    case 'forbidden':
      return {
        code,
        message: 'You do not have permission to open a session on this machine. Ask an administrator for access.',
        retryable: false,
      };
    case 'reason_required':
      return { code, message: 'This machine requires a reason or ticket for every session.', retryable: true };
    case 'unauthorized':
      return { code, message: 'Your sign-in is no longer valid.', retryable: false };
    case 'internal':
      return { code, message: 'The gateway failed to start the session. Its log has the details.', retryable: true };
    case 'recording_unavailable':
      return {
        code,
        message: 'Sessions on this machine must be recorded and no recorder is available right now. Try again in a moment or ask an administrator.',
        retryable: true,
      };
    default:
      return { code, message: message ? `${message} (${code})` : `Error: ${code}`, retryable: true };
  }
}

function closeMessage(ev: CloseEvent): string {
  const reason = ev.reason ? `: ${ev.reason}` : '';
  switch (ev.code) {
    case 1000:
      return `The gateway closed the connection${reason}.`;
    case 1001:
      return 'The gateway is going away (restart or shutdown).';
    case 1006:
      return 'The connection to the gateway was lost.';
    case 1008:
      return `The gateway closed the connection (policy violation${reason}).`;
    case 1009:
      return 'The gateway closed the connection (message too big).';
    case 1011:
      return 'The gateway hit an internal error.';
    default:
      return `The connection to the gateway closed (code ${ev.code}${reason}).`;
  }
}

function iceUfrag(sdp: string): string | null {
  const m = /^a=ice-ufrag:(\S+)/m.exec(sdp);
  return m ? m[1] : null;
}

export class SessionClient {
  private ws: WebSocket | null = null;
  private pc: RTCPeerConnection | null = null;
  private sid: string | null = null;
  private iceServers: RTCIceServer[] = [];
  private pendingCandidates: RTCIceCandidateInit[] = [];
  private input: RTCDataChannel | null = null;
  private phase: Phase = 'connecting';
  private finished = false;
  private opened = false;
  private pingTimer: number | undefined;
  private nextId = 1;
  private requestId = '';
  private control = false;
  /** Ids of command.run messages not answered yet (errors go to the panel). */
  private commandRefs = new Set<string>();
  /** cid -> the ref of its command.run, forgotten at command.exit. */
  private commandCids = new Map<string, string>();

  constructor(
    private readonly agent: string,
    private readonly token: string,
    private readonly cb: SessionCallbacks,
    private readonly options: SessionOptions = { scopes: ['view', 'control'] },
  ) {}

  /** Whether the grant includes control: without it no input is sent. */
  get canControl(): boolean {
    return this.control;
  }

  start(): void {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}/ws/client`;
    let ws: WebSocket;
    try {
      // Browsers cannot set headers on a WebSocket: the token rides in the
      // subprotocol list and the gateway answers "webremote.v1".
      ws = new WebSocket(url, ['webremote.v1', 'bearer.' + this.token]);
    } catch (err) {
      this.finish({ code: 'websocket', message: `Cannot open the signaling connection: ${String(err)}`, retryable: true });
      return;
    }
    this.ws = ws;
    this.setPhase('connecting');
    ws.onopen = () => {
      this.opened = true;
      this.requestId = this.newId();
      const request: Record<string, unknown> = {
        type: 'session.request',
        id: this.requestId,
        agent: this.agent,
        scopes: this.options.scopes,
      };
      if (this.options.reason) request.reason = this.options.reason;
      this.send(request);
      this.setPhase('requesting');
      this.pingTimer = window.setInterval(() => this.send({ type: 'ping' }), PING_INTERVAL_MS);
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg: Message;
      try {
        msg = JSON.parse(ev.data) as Message;
      } catch {
        return;
      }
      if (!msg || typeof msg !== 'object' || typeof msg.type !== 'string') return;
      this.handle(msg).catch((err) => {
        console.error('webremote: handling', msg.type, err);
        this.finish({ code: 'client', message: `The browser could not handle ${msg.type}: ${String(err)}`, retryable: true });
      });
    };
    ws.onclose = (ev) => {
      this.ws = null;
      if (this.finished) return;
      // An upgrade refused with 401 shows up as a bare close before open:
      // the page checks the token and sends the user to sign in.
      if (!this.opened) {
        this.finish({ code: 'ws_refused', message: 'Cannot open the signaling connection to the gateway.', retryable: true });
        return;
      }
      this.finish({ code: 'ws_closed', message: closeMessage(ev), retryable: true });
    };
    ws.onerror = () => {
      // onclose follows with the details.
    };
  }

  /** Ends the session on purpose (the Disconnect button, leaving the page). */
  stop(reason = 'user disconnected'): void {
    if (this.finished) return;
    if (this.sid) this.send({ type: 'session.end', sid: this.sid, reason });
    this.finish({ code: 'user', message: 'You disconnected.', retryable: true });
  }

  /** Sends one input message on the DataChannel; dropped when it is not open. */
  sendInput(msg: Record<string, unknown>): boolean {
    const ch = this.input;
    if (!ch || ch.readyState !== 'open' || !this.control) return false;
    // Input is worthless when late: rather drop than queue behind a stall.
    if (ch.bufferedAmount > 256 * 1024 && msg.type === 'pointer.move') return false;
    try {
      ch.send(JSON.stringify({ v: PROTOCOL_VERSION, ...msg }));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Asks the gateway to run @name with @args in this session; returns the
   * message id that command.accepted or an error refer to, or null when the
   * session is not up.
   */
  runCommand(name: string, args: string[]): string | null {
    if (!this.sid || this.finished) return null;
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return null;
    const id = this.newId();
    this.commandRefs.add(id);
    this.send({ type: 'command.run', id, sid: this.sid, command: name, args });
    return id;
  }

  private newId(): string {
    return 'c' + this.nextId++;
  }

  private send(msg: Record<string, unknown>): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ws.send(JSON.stringify({ v: PROTOCOL_VERSION, ...msg }));
  }

  private setPhase(phase: Phase): void {
    if (this.phase === phase || this.finished) return;
    this.phase = phase;
    this.cb.onPhase(phase);
  }

  private async handle(msg: Message): Promise<void> {
    switch (msg.type) {
      case 'welcome':
      case 'pong':
        break;
      case 'session.granted':
        if (typeof msg.sid !== 'string') return;
        this.sid = msg.sid;
        this.iceServers = Array.isArray(msg.ice_servers) ? (msg.ice_servers as RTCIceServer[]) : [];
        {
          const scopes = Array.isArray(msg.scopes)
            ? (msg.scopes as unknown[]).filter((x): x is string => typeof x === 'string')
            : this.options.scopes;
          this.control = scopes.includes('control');
          this.cb.onGranted(scopes);
          this.cb.onRecording?.(msg.recording === true ? 'on' : 'off');
        }
        this.setPhase('negotiating');
        break;
      case 'sdp.offer':
        if (msg.sid !== this.sid || typeof msg.sdp !== 'string') return;
        await this.answer(msg.sdp);
        break;
      case 'ice.candidate':
        if (msg.sid !== this.sid) return;
        await this.addRemoteCandidate(msg);
        break;
      case 'session.ended':
        if (msg.sid !== this.sid) return;
        this.finish({
          code: 'ended',
          message: `The remote side ended the session${typeof msg.reason === 'string' && msg.reason ? ` (${msg.reason})` : ''}.`,
          retryable: true,
        });
        break;
      case 'session.recording':
        if (msg.sid !== this.sid) return;
        if (msg.state === 'on' || msg.state === 'interrupted' || msg.state === 'off') {
          this.cb.onRecording?.(msg.state, typeof msg.reason === 'string' && msg.reason ? msg.reason : undefined);
        }
        break;
      case 'command.accepted':
        if (msg.sid !== this.sid || typeof msg.cid !== 'string' || typeof msg.ref !== 'string') return;
        this.commandRefs.delete(msg.ref);
        this.cb.onCommand?.({ kind: 'accepted', ref: msg.ref, cid: msg.cid });
        // The agent may still refuse it; its error carries the same ref.
        this.commandRefs.add(msg.ref);
        this.commandCids.set(msg.cid, msg.ref);
        break;
      case 'command.output':
        if (msg.sid !== this.sid || typeof msg.cid !== 'string' || typeof msg.data !== 'string') return;
        this.cb.onCommand?.({
          kind: 'output',
          cid: msg.cid,
          stream: msg.stream === 'stderr' ? 'stderr' : 'stdout',
          data: msg.data,
        });
        break;
      case 'command.exit':
        if (msg.sid !== this.sid || typeof msg.cid !== 'string') return;
        {
          const ref = this.commandCids.get(msg.cid);
          if (ref !== undefined) this.commandRefs.delete(ref);
          this.commandCids.delete(msg.cid);
        }
        this.cb.onCommand?.({
          kind: 'exit',
          cid: msg.cid,
          status: typeof msg.status === 'number' ? msg.status : -1,
          signal: typeof msg.signal === 'number' ? msg.signal : null,
          timedOut: msg.timed_out === true,
          truncated: msg.truncated === true,
        });
        break;
      case 'error':
        if (typeof msg.ref === 'string' && this.commandRefs.has(msg.ref)) {
          // A refused command is the command panel's business, never the
          // session's end.
          this.commandRefs.delete(msg.ref);
          this.cb.onCommand?.({
            kind: 'error',
            ref: msg.ref,
            code: typeof msg.code === 'string' ? msg.code : 'error',
            message: typeof msg.message === 'string' ? msg.message : '',
          });
          return;
        }
        this.handleError(msg);
        break;
      default:
        break;
    }
  }

  private handleError(msg: Message): void {
    const code = typeof msg.code === 'string' ? msg.code : 'error';
    const text = typeof msg.message === 'string' ? msg.message : '';
    // Before media flows any error about our request is fatal; later ones
    // (a dropped message, a rate limit) are shown but the session lives on.
    const aboutRequest = msg.ref === this.requestId || (!this.sid && msg.ref === undefined);
    if (
      aboutRequest ||
      (this.phase !== 'connected' && ['agent_offline', 'not_found', 'forbidden', 'reason_required', 'recording_unavailable'].includes(code))
    ) {
      this.finish(describeError(code, text));
      return;
    }
    if (code === 'rate_limited') {
      this.cb.onNotice('The gateway is rate limiting this session; some messages were dropped.');
      return;
    }
    this.cb.onNotice(text ? `Gateway: ${text} (${code})` : `Gateway error: ${code}`);
  }

  private createPeerConnection(): RTCPeerConnection {
    const pc = new RTCPeerConnection({ iceServers: this.iceServers, bundlePolicy: 'max-bundle' });
    pc.onicecandidate = (ev) => {
      if (!this.sid) return;
      const c = ev.candidate;
      // An empty candidate tells the agent that gathering is complete.
      this.send({
        type: 'ice.candidate',
        sid: this.sid,
        candidate: c ? c.candidate : '',
        sdp_mline_index: c?.sdpMLineIndex ?? 0,
      });
    };
    pc.ontrack = (ev) => {
      const receiver = ev.receiver;
      // Screen content wants the lowest delay Chromium will do; both knobs
      // are non-standard or new, so probe before use.
      if ('playoutDelayHint' in receiver) (receiver as unknown as { playoutDelayHint: number }).playoutDelayHint = 0;
      if ('jitterBufferTarget' in receiver) (receiver as unknown as { jitterBufferTarget: number }).jitterBufferTarget = 0;
      const stream = ev.streams[0] ?? new MediaStream([ev.track]);
      this.cb.onStream(stream);
    };
    pc.ondatachannel = (ev) => {
      const ch = ev.channel;
      if (ch.label !== 'input') return;
      this.input = ch;
      const update = () => {
        this.cb.onInputChannel(ch.readyState === 'open' ? ch : null);
        if (this.input === ch) agentChannel.attach(ch.readyState === 'open' ? ch : null);
      };
      ch.onopen = update;
      ch.onclose = () => {
        if (this.input === ch) this.input = null;
        update();
      };
      ch.onmessage = (m) => {
        // Errors (out_of_range, rate_limited), and the pipeline profiles.
        if (typeof m.data !== 'string') return;
        try {
          const err = JSON.parse(m.data) as Message;
          agentChannel.receive(err);
          if (err.type === 'error' && typeof err.ref === 'string' && err.ref.startsWith('profile-')) return;
          if (err.type === 'error' && err.code === 'rate_limited') this.cb.onNotice('Input is being rate limited by the remote machine.');
          else if (err.type === 'error') console.warn('webremote: input error', err.code, err.message);
        } catch {
          // ignore
        }
      };
      update();
    };
    pc.onconnectionstatechange = () => {
      switch (pc.connectionState) {
        case 'connected':
          this.setPhase('connected');
          break;
        case 'failed':
          this.finish({
            code: 'ice_failed',
            message: 'The media connection failed: no network path to the machine (ICE failed).',
            retryable: true,
          });
          break;
        case 'disconnected':
          this.cb.onNotice('The media connection is interrupted; waiting for it to recover…');
          break;
        default:
          break;
      }
    };
    return pc;
  }

  private async answer(sdp: string): Promise<void> {
    // An offer with other ICE credentials is a new connection (the agent
    // restarts it after this browser refused a codec): answer it with a new
    // RTCPeerConnection (docs/protocol.md, "The client channel").
    if (this.pc?.remoteDescription && iceUfrag(sdp) !== iceUfrag(this.pc.remoteDescription.sdp)) {
      const old = this.pc;
      old.onconnectionstatechange = null;
      old.close();
      this.pc = null;
      this.cb.onPeerConnection(null);
    }
    if (!this.pc) {
      this.pc = this.createPeerConnection();
      this.cb.onPeerConnection(this.pc);
    }
    const pc = this.pc;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const queued = this.pendingCandidates.splice(0);
    for (const c of queued) await this.addCandidate(c);
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    if (this.finished || !pc.localDescription) return;
    this.send({ type: 'sdp.answer', sid: this.sid, sdp: pc.localDescription.sdp });
  }

  private async addRemoteCandidate(msg: Message): Promise<void> {
    const candidate = typeof msg.candidate === 'string' ? msg.candidate : '';
    const index = typeof msg.sdp_mline_index === 'number' ? msg.sdp_mline_index : 0;
    const init: RTCIceCandidateInit = { candidate, sdpMLineIndex: index };
    if (!this.pc || !this.pc.remoteDescription) {
      this.pendingCandidates.push(init);
      return;
    }
    await this.addCandidate(init);
  }

  private async addCandidate(init: RTCIceCandidateInit): Promise<void> {
    if (!this.pc) return;
    try {
      await this.pc.addIceCandidate(init);
    } catch (err) {
      // A bad candidate costs that path only, not the session.
      console.warn('webremote: addIceCandidate failed', err);
    }
  }

  private finish(info: EndInfo): void {
    if (this.finished) return;
    this.finished = true;
    window.clearInterval(this.pingTimer);
    if (this.input) {
      this.input.onclose = null;
      this.input = null;
    }
    this.cb.onInputChannel(null);
    agentChannel.attach(null);
    if (this.pc) {
      this.pc.onconnectionstatechange = null;
      this.pc.close();
      this.pc = null;
      this.cb.onPeerConnection(null);
    }
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onclose = null;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'session over');
    }
    this.phase = 'ended';
    this.cb.onPhase('ended');
    this.cb.onEnd(info);
  }
}
