import { useEffect, useRef, useState } from 'preact/hooks';
import {
  ApiError,
  errorMessage,
  getRecording,
  sessionEvents,
  setLegalHold,
  type AuditEvent,
  type RecordingDetail,
} from '../../api';
import { hrefFor } from '../../router';
import { Alert } from '../../ui/alert';
import { Spinner } from '../../ui/basics';
import { ConfirmDialog } from '../../ui/confirm-dialog';
import { formatBytes, formatClock, formatDuration, formatMs } from '../../ui/format';
import { SegmentList } from './segment-list';
import { positionFor } from './segment-map';
import { HoldChip, RecordingStatusChip } from './status-chip';
import { Timeline } from './timeline';

interface PendingSeek {
  offset: number;
  play: boolean;
}

/** #/recordings/ID: the player, its segments, the session's audit timeline and the evidence actions. */
export function RecordingView({ id, onForbidden }: { id: string; onForbidden: () => void }) {
  const [rec, setRec] = useState<RecordingDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [eventsError, setEventsError] = useState<string | null>(null);
  const [truncated, setTruncated] = useState(false);
  const [at, setAt] = useState(0);
  const [wall, setWall] = useState<number | null>(null);
  const [mediaError, setMediaError] = useState<string | null>(null);
  const [holdBusy, setHoldBusy] = useState(false);
  const [holdError, setHoldError] = useState<string | null>(null);
  const [confirmRelease, setConfirmRelease] = useState(false);
  const videoRef = useRef<HTMLVideoElement>(null);
  const pending = useRef<PendingSeek | null>(null);

  const fetchRecording = async () => {
    try {
      const r = await getRecording(id);
      setRec(r);
      setError(null);
      setMediaError(null);
      return r;
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) onForbidden();
      else setError(errorMessage(err, 'Cannot load this recording.'));
      return null;
    }
  };

  const alive = useRef(true);
  const loadEvents = (session: string) =>
    sessionEvents(session)
      .then((res) => {
        if (!alive.current) return;
        setEvents(res.events);
        setTruncated(res.truncated);
        setEventsError(null);
      })
      .catch((err) => alive.current && setEventsError(errorMessage(err, 'Cannot load the audit events of this session.')));

  useEffect(() => {
    alive.current = true;
    fetchRecording().then((r) => {
      if (r && alive.current) loadEvents(r.session);
    });
    return () => {
      alive.current = false;
    };
  }, [id]);

  const segments = rec?.segments ?? [];
  const seg = segments[at];

  /** Seeks within the loaded segment, clamped to what it holds. */
  const seekLoaded = (video: HTMLVideoElement, offset: number) => {
    const end = Number.isFinite(video.duration) ? Math.max(0, video.duration - 0.05) : offset;
    video.currentTime = Math.max(0, Math.min(offset, end));
  };

  const seekToWall = (ts: number) => {
    const video = videoRef.current;
    const pos = positionFor(segments, ts);
    if (!video || !pos) return;
    if (pos.at === at && video.readyState >= 1) {
      seekLoaded(video, pos.offset);
    } else {
      pending.current = { offset: pos.offset, play: !video.paused };
      setAt(pos.at);
    }
  };

  const pick = (i: number) => {
    const video = videoRef.current;
    if (i === at) {
      if (video) seekLoaded(video, 0);
      return;
    }
    pending.current = { offset: 0, play: video ? !video.paused : false };
    setAt(i);
  };

  const onLoadedMetadata = () => {
    const video = videoRef.current;
    const p = pending.current;
    pending.current = null;
    if (!video || !p) return;
    if (p.offset > 0) seekLoaded(video, p.offset);
    if (p.play) video.play().catch(() => {});
  };

  const onEnded = () => {
    // Auto-advance to the next segment.
    if (at + 1 < segments.length) {
      pending.current = { offset: 0, play: true };
      setAt(at + 1);
    }
  };

  const onTimeUpdate = () => {
    const video = videoRef.current;
    if (video && seg) setWall(seg.start_ms + video.currentTime * 1000);
  };

  const onMediaError = () => {
    const code = videoRef.current?.error?.code;
    // Links live 10 minutes; an expired one answers 403, which the element reports as a network/source error.
    setMediaError(
      code === 3
        ? 'The browser could not decode this segment.'
        : 'This segment could not be loaded. Its link may have expired (links last 10 minutes): reload the links.',
    );
  };

  const reloadLinks = async () => {
    const video = videoRef.current;
    pending.current = { offset: video?.currentTime ?? 0, play: false };
    await fetchRecording();
  };

  const toggleHold = async (hold: boolean) => {
    if (!rec) return;
    setHoldBusy(true);
    setHoldError(null);
    try {
      const now = await setLegalHold(rec.id, hold);
      setRec({ ...rec, legal_hold: now });
      // The hold is audited: show it on the timeline.
      loadEvents(rec.session);
    } catch (err) {
      setHoldError(errorMessage(err, 'Cannot change the legal hold.'));
      throw err;
    } finally {
      setHoldBusy(false);
    }
  };

  if (error) {
    return (
      <>
        <BackLink />
        <Alert>{error}</Alert>
      </>
    );
  }
  if (!rec) {
    return (
      <>
        <BackLink />
        <div class="empty">
          <Spinner /> Loading the recording…
        </div>
      </>
    );
  }

  const troubled = rec.status === 'interrupted' || rec.status === 'failed';
  return (
    <>
      <BackLink />
      <div class="rec-head">
        <div>
          <h1>
            Session on <span class="mono">{rec.agent}</span>
          </h1>
          <p class="muted rec-sub">
            <span class="mono">{rec.user}</span> · {formatMs(rec.started)} · {formatDuration(rec.duration_ms)} ·{' '}
            <RecordingStatusChip recording={rec} /> {rec.legal_hold && <HoldChip />}
          </p>
        </div>
        <div class="rec-actions">
          {rec.bundle_url ? (
            <a
              class="btn btn-primary"
              href={rec.bundle_url}
              download={`recording-${rec.id}.tar`}
              title="Segments, signed manifest and the session's audit slice; check it offline with webremotectl recording verify"
              data-testid="bundle-download"
            >
              Download evidence bundle
            </a>
          ) : (
            <span class="muted small" title="The bundle exists once the recording has ended">
              Evidence bundle not available yet
            </span>
          )}
          {rec.legal_hold ? (
            <button type="button" class="btn btn-secondary" disabled={holdBusy} onClick={() => setConfirmRelease(true)} data-testid="hold-toggle">
              Release legal hold
            </button>
          ) : (
            <button
              type="button"
              class="btn btn-secondary"
              disabled={holdBusy}
              onClick={() => toggleHold(true).catch(() => {})}
              title="Keep this session's recordings past their retention; deletion is refused while held"
              data-testid="hold-toggle"
            >
              Place legal hold
            </button>
          )}
        </div>
      </div>
      {holdError && <Alert>{holdError}</Alert>}
      {troubled && (
        <Alert kind="warning" testId="recording-trouble">
          {rec.status === 'failed' ? 'The recorder failed' : 'The recording was interrupted'}
          {rec.reason ? ` (${rec.reason})` : ''}. What was written plays below; gaps show between the segments and in
          the audit timeline.
        </Alert>
      )}
      <div class="rec-layout">
        <section class="card rec-player-card">
          {segments.length === 0 ? (
            <div class="table-empty">No segments were written for this recording.</div>
          ) : (
            <>
              <video
                ref={videoRef}
                class="rec-video"
                src={seg?.url}
                controls
                preload="metadata"
                playsInline
                data-testid="recording-video"
                data-segment={seg?.index}
                onLoadedMetadata={onLoadedMetadata}
                onEnded={onEnded}
                onTimeUpdate={onTimeUpdate}
                onSeeked={onTimeUpdate}
                onError={onMediaError}
              />
              <div class="rec-position" data-testid="player-position">
                <span>
                  Segment {at + 1} of {segments.length}
                  {seg?.partial && <span class="chip chip-warn">partial</span>}
                </span>
                <span class="mono" title="Wall-clock time of the picture">
                  {wall !== null ? formatClock(wall) : seg ? formatClock(seg.start_ms) : '—'}
                </span>
              </div>
              {mediaError && (
                <Alert kind="warning" testId="media-error">
                  {mediaError}{' '}
                  <button type="button" class="link" onClick={reloadLinks}>
                    Reload links
                  </button>
                </Alert>
              )}
              <h2 class="rec-h2">Segments</h2>
              <SegmentList segments={segments} current={at} onPick={pick} />
            </>
          )}
          <RecordingFacts rec={rec} />
        </section>
        <section class="card rec-timeline-card" aria-label="Audit timeline">
          <h2 class="rec-h2">Audit timeline</h2>
          <p class="muted small">The session's audit events. Click one to see that moment.</p>
          {eventsError && <Alert>{eventsError}</Alert>}
          {!events && !eventsError && (
            <div class="table-empty">
              <Spinner /> Loading events…
            </div>
          )}
          {events && events.length === 0 && <div class="table-empty">No audit events for this session.</div>}
          {events && events.length > 0 && <Timeline events={events} segments={segments} position={wall} onSeek={seekToWall} />}
          {truncated && <p class="muted small">Only the first 1000 events are shown; the Audit page has them all.</p>}
        </section>
      </div>
      {confirmRelease && (
        <ConfirmDialog
          title="Release the legal hold?"
          confirmLabel="Release hold"
          onClose={() => setConfirmRelease(false)}
          onConfirm={() => toggleHold(false)}
        >
          The recordings of this session become subject to their group's retention again and may be deleted. The release
          is audited.
        </ConfirmDialog>
      )}
    </>
  );
}

function BackLink() {
  return (
    <a class="back-link" href={hrefFor({ name: 'recordings' })}>
      ← Recordings
    </a>
  );
}

function RecordingFacts({ rec }: { rec: RecordingDetail }) {
  return (
    <details class="rec-facts">
      <summary>Recording details</summary>
      <dl class="facts">
        <dt>Recording</dt>
        <dd class="mono">{rec.id}</dd>
        <dt>Session</dt>
        <dd class="mono">{rec.session}</dd>
        <dt>Machine</dt>
        <dd>
          <span class="mono">{rec.agent}</span>
          {rec.group && <span class="muted"> (group {rec.group})</span>}
        </dd>
        <dt>Started</dt>
        <dd>{formatMs(rec.started)}</dd>
        <dt>Ended</dt>
        <dd>{rec.ended ? formatMs(rec.ended) : 'still recording'}</dd>
        <dt>Recorder</dt>
        <dd class="mono">{rec.recorder ?? '—'}</dd>
        <dt>Format</dt>
        <dd>
          {rec.codec ?? '—'} in {rec.container ?? '—'}
        </dd>
        <dt>Size</dt>
        <dd>{formatBytes(rec.size)}</dd>
        <dt>Manifest</dt>
        <dd>{rec.signature ? 'signed by the gateway (Ed25519)' : rec.manifest ? 'not signed' : 'written when the recording ends'}</dd>
      </dl>
    </details>
  );
}
