import { useEffect, useRef, useState } from 'preact/hooks';
import { getAgent, getToken, me, type Agent } from '../api';
import { Logo, Spinner } from '../ui/basics';
import { ReasonDialog } from '../ui/reason-dialog';
import { takeSessionReason } from '../session-intent';
import { InputController } from '../input/input-controller';
import { SessionClient, type EndInfo, type Phase, type RecordingState } from '../rtc/session-client';
import { readStats, type SessionStats, type StatsSample } from '../rtc/stats';
import { navigate } from '../router';
import { CommandsPanel, applyCommandEvent, type CommandRun } from './commands-panel';
import { ProfilePicker } from './session/profile-picker';

declare global {
  interface Window {
    /** Debug hook (and the e2e tests' window into the media path). */
    __webremote?: { pc: RTCPeerConnection | null };
  }
}

const PHASE_TEXT: Record<Phase, string> = {
  connecting: 'Connecting to the gateway…',
  requesting: 'Asking the machine for a session…',
  negotiating: 'Setting up the video stream…',
  connected: 'Connected',
  ended: 'Disconnected',
};

function fmt(v: number | null, digits = 0, unit = ''): string {
  return v === null ? '—' : v.toFixed(digits) + unit;
}

/** What the viewer is told about recording; `wasOn` tells "stopped" from "never recorded". */
export interface RecordingInfo {
  state: RecordingState;
  reason?: string;
  wasOn: boolean;
}

/** The status bar's recording notice: red while recorded, amber when the recording has a gap. */
function RecordingStat({ rec }: { rec: RecordingInfo | null }) {
  if (!rec || (rec.state === 'off' && !rec.wasOn)) return null;
  if (rec.state === 'on') {
    return (
      <span class="stat stat-rec" data-stat="recording" data-state="on" role="status" title="A recorder is saving this session's video; it is audited">
        <span class="rec-badge" data-testid="rec-badge">
          ● REC
        </span>
        This session is recorded
      </span>
    );
  }
  if (rec.state === 'interrupted') {
    return (
      <span
        class="stat stat-rec"
        data-stat="recording"
        data-state="interrupted"
        role="status"
        title={'The recorder lost the stream; the gap is audited' + (rec.reason ? ` (${rec.reason})` : '')}
      >
        <span class="rec-badge rec-badge-warn" data-testid="rec-badge">
          ● REC
        </span>
        Recording interrupted{rec.reason ? `: ${rec.reason}` : ''}
      </span>
    );
  }
  return (
    <span class="stat stat-rec" data-stat="recording" data-state="off" role="status" title={rec.reason}>
      <span class="rec-badge rec-badge-off">REC</span>
      Recording stopped
    </span>
  );
}

function StatusBar({
  phase,
  stats,
  connection,
  inputReady,
  viewOnly,
  recording,
}: {
  phase: Phase;
  stats: SessionStats | null;
  connection: string;
  inputReady: boolean;
  viewOnly: boolean;
  recording: RecordingInfo | null;
}) {
  const s = stats;
  const stateClass = phase === 'connected' ? 'dot-ok' : phase === 'ended' ? 'dot-bad' : 'dot-wait';
  return (
    <footer class="statusbar" data-testid="statusbar" aria-live="off">
      <RecordingStat rec={phase === 'ended' ? null : recording} />
      <span class="stat" data-stat="state" title="Peer connection state">
        <span class={'dot ' + stateClass} />
        {phase === 'connected' ? connection : PHASE_TEXT[phase]}
      </span>
      <span class="stat" data-stat="transport" title="Selected ICE candidate pair (local side)">
        <span class="stat-label">Transport</span>
        {s?.transport ?? '—'}
      </span>
      <span class="stat" data-stat="codec" title="Video codec">
        <span class="stat-label">Codec</span>
        {s?.codec ?? '—'}
      </span>
      <span class="stat" data-stat="resolution" title="Decoded frame size">
        <span class="stat-label">Resolution</span>
        {s?.width && s?.height ? `${s.width}x${s.height}` : '—'}
      </span>
      <span class="stat" data-stat="fps" title="Frames per second decoded">
        <span class="stat-label">FPS</span>
        {fmt(s?.fps ?? null)}
      </span>
      <span class="stat" data-stat="bitrate" title="Received video bitrate">
        <span class="stat-label">Bitrate</span>
        {fmt(s?.bitrateMbps ?? null, 2, ' Mbit/s')}
      </span>
      <span class="stat" data-stat="rtt" title="ICE round-trip time">
        <span class="stat-label">RTT</span>
        {fmt(s?.rttMs ?? null, 0, ' ms')}
      </span>
      {viewOnly ? (
        <span class="stat stat-viewonly" data-stat="input" title="Your grant has no control: input is not sent">
          <span class="stat-label">Input</span>
          <span class="viewonly-badge" data-testid="view-only">
            View only
          </span>
        </span>
      ) : (
        <span class="stat" data-stat="input" title="Input channel">
          <span class="stat-label">Input</span>
          {inputReady ? 'ready' : '—'}
        </span>
      )}
    </footer>
  );
}

function Toggle({
  label,
  on,
  onChange,
  title,
  testId,
}: {
  label: string;
  on: boolean;
  onChange: (on: boolean) => void;
  title: string;
  testId: string;
}) {
  return (
    <button
      type="button"
      class={'toggle' + (on ? ' toggle-on' : '')}
      aria-pressed={on}
      title={title}
      data-testid={testId}
      onClick={() => onChange(!on)}
    >
      <span class="toggle-track">
        <span class="toggle-thumb" />
      </span>
      {label}
    </button>
  );
}

export function SessionPage({
  agentId,
  viewOnly: askedViewOnly,
  record = false,
}: {
  agentId: string;
  viewOnly: boolean;
  /** Ask for the `record` scope: the session is recorded (granted only to holders of `record`). */
  record?: boolean;
}) {
  const [agent, setAgent] = useState<Agent | null>(null);
  const [reason, setReason] = useState<string | undefined>(() => takeSessionReason(agentId));
  const [askReason, setAskReason] = useState(false);
  const [granted, setGranted] = useState<string[] | null>(null);
  const [attempt, setAttempt] = useState(0);
  const [phase, setPhase] = useState<Phase>('connecting');
  const [end, setEnd] = useState<EndInfo | null>(null);
  const [stream, setStream] = useState<MediaStream | null>(null);
  const [inputReady, setInputReady] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const [stats, setStats] = useState<SessionStats | null>(null);
  const [connection, setConnection] = useState('new');
  const [pointerOn, setPointerOn] = useState(true);
  const [keyboardOn, setKeyboardOn] = useState(true);
  const [fullscreen, setFullscreen] = useState(false);
  const [wasConnected, setWasConnected] = useState(false);
  const [commandRuns, setCommandRuns] = useState<CommandRun[]>([]);
  const [commandsOpen, setCommandsOpen] = useState(false);
  const [recording, setRecording] = useState<RecordingInfo | null>(null);

  const videoRef = useRef<HTMLVideoElement>(null);
  const stageRef = useRef<HTMLDivElement>(null);
  const clientRef = useRef<SessionClient | null>(null);
  const inputRef = useRef<InputController | null>(null);
  const pcRef = useRef<RTCPeerConnection | null>(null);

  useEffect(() => {
    let cancelled = false;
    getAgent(agentId)
      .then((a) => !cancelled && setAgent(a))
      .catch(() => {
        // The session itself reports a missing or offline machine.
      });
    return () => {
      cancelled = true;
    };
  }, [agentId]);

  // One SessionClient per attempt; Reconnect bumps the attempt.
  useEffect(() => {
    const token = getToken();
    if (!token) return;
    setGranted(null);
    setPhase('connecting');
    setEnd(null);
    setStream(null);
    setStats(null);
    setNotice(null);
    setConnection('new');
    setWasConnected(false);
    setCommandRuns([]);
    setRecording(null);
    // `command` is granted only when the user has it; asking costs nothing.
    const scopes = askedViewOnly ? ['view', 'command'] : ['view', 'control', 'command'];
    if (record) scopes.push('record');
    const client = new SessionClient(agentId, token, {
      onPhase: (p) => {
        setPhase(p);
        if (p === 'connected') setWasConnected(true);
      },
      onStream: setStream,
      onInputChannel: (ch) => setInputReady(ch !== null),
      onEnd: (info) => {
        setEnd(info);
        setStream(null);
        setStats(null);
        if (info.code === 'reason_required') setAskReason(true);
        if (info.code === 'ws_refused') {
          // Maybe the token expired: me() refreshes it (then one more try)
          // or, when the session is gone, sends the user to sign in.
          me()
            .then(() => {
              if (getToken() !== token && attempt === 0) setAttempt(1);
            })
            .catch(() => {});
        }
      },
      onNotice: (msg) => setNotice(msg),
      onPeerConnection: (pc) => {
        pcRef.current = pc;
        window.__webremote = { pc };
        if (pc) {
          const update = () => setConnection(pc.connectionState);
          pc.addEventListener('connectionstatechange', update);
          update();
        }
      },
      onGranted: setGranted,
      onCommand: (ev) => setCommandRuns((runs) => applyCommandEvent(runs, ev)),
      onRecording: (state, why) =>
        setRecording((old) => ({ state, reason: why, wasOn: (old?.wasOn ?? false) || state !== 'off' })),
    }, { scopes, reason });
    clientRef.current = client;
    client.start();
    return () => {
      client.stop('viewer left');
      if (clientRef.current === client) clientRef.current = null;
    };
  }, [agentId, attempt, reason]);

  // Input capture lives as long as the page; it sends through whichever
  // client is current.
  useEffect(() => {
    const video = videoRef.current;
    const stage = stageRef.current;
    if (!video || !stage) return;
    const ctl = new InputController((msg) => clientRef.current?.sendInput(msg) ?? false);
    inputRef.current = ctl;
    ctl.attach(video, stage);
    return () => {
      ctl.detach();
      inputRef.current = null;
    };
  }, []);

  // Without control nothing is captured (and SessionClient sends nothing).
  const viewOnly = askedViewOnly || (granted !== null && !granted.includes('control'));
  useEffect(() => {
    inputRef.current?.setOptions({ pointer: pointerOn && !viewOnly, keyboard: keyboardOn && !viewOnly });
  }, [pointerOn, keyboardOn, viewOnly]);

  useEffect(() => {
    const video = videoRef.current;
    if (!video) return;
    if (video.srcObject !== stream) video.srcObject = stream;
    if (stream) video.play().catch(() => {});
  }, [stream]);

  // Status bar: one getStats() per second.
  useEffect(() => {
    if (phase === 'ended') return;
    let previous: StatsSample | null = null;
    let busy = false;
    let cancelled = false;
    const timer = window.setInterval(async () => {
      const pc = pcRef.current;
      if (!pc || busy) return;
      busy = true;
      try {
        const r = await readStats(pc, previous);
        previous = r.sample;
        if (!cancelled) setStats(r.stats);
      } catch {
        // The connection closed between ticks.
      } finally {
        busy = false;
      }
    }, 1000);
    return () => {
      cancelled = true;
      window.clearInterval(timer);
    };
  }, [phase, attempt]);

  // Notices fade out on their own.
  useEffect(() => {
    if (!notice) return;
    const t = window.setTimeout(() => setNotice(null), 6000);
    return () => window.clearTimeout(t);
  }, [notice]);

  useEffect(() => {
    const onChange = () => {
      const isFull = document.fullscreenElement === stageRef.current && stageRef.current !== null;
      setFullscreen(isFull);
      // Keyboard Lock lets Escape, Alt+Tab and friends reach the remote
      // machine, but only in fullscreen; not every browser has it.
      const kb = (navigator as Navigator & { keyboard?: { lock?: () => Promise<void>; unlock?: () => void } }).keyboard;
      if (isFull) kb?.lock?.().catch(() => {});
      else kb?.unlock?.();
    };
    document.addEventListener('fullscreenchange', onChange);
    return () => document.removeEventListener('fullscreenchange', onChange);
  }, []);

  const toggleFullscreen = () => {
    const stage = stageRef.current;
    if (!stage) return;
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else stage.requestFullscreen?.().catch(() => setNotice('Fullscreen is not available here.'));
  };

  const canCommand = granted !== null && granted.includes('command');
  const runCommand = (name: string, args: string[]): boolean => {
    const ref = clientRef.current?.runCommand(name, args);
    if (!ref) return false;
    const run: CommandRun = { ref, cid: null, name, args, chunks: [], exit: null, error: null };
    // Newest first; the panel keeps the last 20 runs.
    setCommandRuns((runs) => [run, ...runs].slice(0, 20));
    return true;
  };

  const disconnect = () => clientRef.current?.stop('user disconnected');
  const reconnect = () => setAttempt((n) => n + 1);
  const title = agent?.name || agentId;
  const ended = phase === 'ended' && end !== null;
  const waiting = !ended && (phase !== 'connected' || !stream);

  return (
    <div class="session-page">
      <header class="session-toolbar">
        <div class="toolbar-left">
          <a
            class="btn btn-ghost"
            href="#/machines"
            onClick={(e) => {
              e.preventDefault();
              navigate({ name: 'machines' });
            }}
          >
            ← Machines
          </a>
          <span class="session-title">
            <Logo size={20} />
            <strong>{title}</strong>
            {agent?.name && agent.name !== agentId && <span class="mono dim">{agentId}</span>}
          </span>
          {!ended && recording && recording.state !== 'off' && (
            <span
              class={'rec-pill' + (recording.state === 'interrupted' ? ' rec-pill-warn' : '')}
              title={recording.state === 'on' ? 'This session is recorded' : 'Recording interrupted'}
              data-testid="rec-pill"
            >
              ● REC
            </span>
          )}
        </div>
        <div class="toolbar-right">
          {viewOnly ? (
            <span class="toolbar-note" title="Your grant has no control: pointer and keyboard are not sent">
              View only
            </span>
          ) : (
            <>
          <Toggle
            label="Pointer"
            on={pointerOn}
            onChange={setPointerOn}
            title="Send mouse moves, clicks and scrolling to the remote machine"
            testId="toggle-pointer"
          />
          <Toggle
            label="Keyboard"
            on={keyboardOn}
            onChange={setKeyboardOn}
            title="Send key presses to the remote machine"
            testId="toggle-keyboard"
          />
            </>
          )}
          <ProfilePicker hidden={viewOnly || ended} />
          {canCommand && (
            <button
              type="button"
              class={'btn btn-dark' + (commandsOpen ? ' toggle-on' : '')}
              aria-pressed={commandsOpen}
              title="Run a command this machine allows"
              data-testid="toggle-commands"
              onClick={() => setCommandsOpen((o) => !o)}
            >
              Commands
            </button>
          )}
          <button type="button" class="btn btn-dark" onClick={toggleFullscreen} disabled={ended}>
            {fullscreen ? 'Exit fullscreen' : 'Fullscreen'}
          </button>
          <button type="button" class="btn btn-danger" onClick={disconnect} disabled={ended} data-testid="disconnect">
            Disconnect
          </button>
        </div>
      </header>

      <div
        class={'stage' + (pointerOn && !viewOnly ? ' stage-pointer' : '')}
        ref={stageRef}
        tabIndex={-1}
        data-testid="stage"
      >
        <video
          ref={videoRef}
          class="remote-video"
          autoplay
          muted
          playsInline
          disablePictureInPicture
          data-testid="remote-video"
        />
        {waiting && (
          <div class="overlay">
            <div class="overlay-card">
              <Spinner />
              <span>{PHASE_TEXT[phase === 'connected' ? 'negotiating' : phase]}</span>
            </div>
          </div>
        )}
        {ended && end && (
          <div class="overlay">
            <div class="overlay-card overlay-error" role="alert" data-testid="session-message">
              <strong>{end.code === 'user' ? 'Session closed' : wasConnected ? 'Session ended' : 'Could not connect'}</strong>
              <span>{end.message}</span>
              <div class="overlay-actions">
                <button type="button" class="btn btn-primary" onClick={reconnect}>
                  {end.code === 'user' ? 'Connect again' : 'Reconnect'}
                </button>
                <button type="button" class="btn btn-dark" onClick={() => navigate({ name: 'machines' })}>
                  Back to machines
                </button>
              </div>
            </div>
          </div>
        )}
        {notice && !ended && (
          <div class="notice" role="status">
            {notice}
          </div>
        )}
      </div>

      {canCommand && commandsOpen && (
        <CommandsPanel runs={commandRuns} onRun={runCommand} disabled={ended} />
      )}
      <StatusBar
        phase={phase}
        stats={stats}
        connection={connection}
        inputReady={inputReady}
        viewOnly={viewOnly}
        recording={recording}
      />
      {askReason && (
        <ReasonDialog
          machine={title}
          initial={reason ?? ''}
          onClose={() => {
            setAskReason(false);
            navigate({ name: 'machines' });
          }}
          onSubmit={(r) => {
            setAskReason(false);
            setReason(r);
            setAttempt((n) => n + 1);
          }}
        />
      )}
    </div>
  );
}
