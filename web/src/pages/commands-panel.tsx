import { useState } from 'preact/hooks';
import type { CommandEvent } from '../rtc/session-client';

/** One command run from the panel, with what came back. */
export interface CommandRun {
  ref: string;
  cid: string | null;
  name: string;
  args: string[];
  chunks: { stream: 'stdout' | 'stderr'; data: string }[];
  exit: { status: number; signal: number | null; timedOut: boolean; truncated: boolean } | null;
  error: string | null;
}

/** Applies one CommandEvent to the list of runs (newest first). */
export function applyCommandEvent(runs: CommandRun[], ev: CommandEvent): CommandRun[] {
  return runs.map((r) => {
    switch (ev.kind) {
      case 'accepted':
        return r.ref === ev.ref ? { ...r, cid: ev.cid } : r;
      case 'error':
        // The agent's reasons start with "command refused: "; the panel says "Refused".
        return r.ref === ev.ref
          ? { ...r, error: `${ev.message.replace(/^command refused: /, '') || 'no reason given'} (${ev.code})` }
          : r;
      case 'output':
        return r.cid === ev.cid ? { ...r, chunks: [...r.chunks, { stream: ev.stream, data: ev.data }] } : r;
      case 'exit':
        return r.cid === ev.cid
          ? { ...r, exit: { status: ev.status, signal: ev.signal, timedOut: ev.timedOut, truncated: ev.truncated } }
          : r;
      default:
        return r;
    }
  });
}

function exitText(exit: NonNullable<CommandRun['exit']>): string {
  const parts = [exit.signal !== null ? `killed by signal ${exit.signal}` : `exit status ${exit.status}`];
  if (exit.timedOut) parts.push('time limit reached');
  if (exit.truncated) parts.push('output cut at the limit');
  return parts.join(', ');
}

/**
 * The session's Commands panel, shown when the grant includes `command`:
 * a command name and its arguments (one field each), Run, and the output
 * of each run as it streams in. The agent only runs commands its own
 * configuration allows.
 */
export function CommandsPanel({
  runs,
  onRun,
  disabled,
}: {
  runs: CommandRun[];
  onRun: (name: string, args: string[]) => boolean;
  disabled: boolean;
}) {
  const [name, setName] = useState('');
  const [args, setArgs] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);

  const submit = (e: Event) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) {
      setProblem('Enter the name of a command this machine allows.');
      return;
    }
    if (!onRun(n, args)) {
      setProblem('The session is not connected.');
      return;
    }
    setProblem(null);
  };

  return (
    <section class="commands-panel" data-testid="commands-panel" aria-label="Commands">
      <form class="commands-form" onSubmit={submit}>
        <label class="commands-field">
          <span class="stat-label">Command</span>
          <input
            class="commands-input mono"
            value={name}
            maxLength={64}
            placeholder="uptime"
            data-testid="command-name"
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </label>
        {args.map((a, i) => (
          <span class="commands-arg" key={i}>
            <input
              class="commands-input mono"
              value={a}
              maxLength={1024}
              aria-label={`Argument ${i + 1}`}
              data-testid={`command-arg-${i}`}
              onInput={(e) => {
                const v = (e.target as HTMLInputElement).value;
                setArgs((old) => old.map((x, j) => (j === i ? v : x)));
              }}
            />
            <button
              type="button"
              class="btn btn-ghost"
              title="Remove this argument"
              onClick={() => setArgs((old) => old.filter((_, j) => j !== i))}
            >
              ×
            </button>
          </span>
        ))}
        <button
          type="button"
          class="btn btn-dark"
          title="Add an argument"
          disabled={args.length >= 32}
          data-testid="command-add-arg"
          onClick={() => setArgs((old) => [...old, ''])}
        >
          + Argument
        </button>
        <button type="submit" class="btn btn-primary" disabled={disabled} data-testid="command-run">
          Run
        </button>
        {problem && <span class="commands-problem">{problem}</span>}
      </form>
      <div class="commands-runs">
        {runs.map((r) => (
          <article class="commands-run" key={r.ref} data-testid="command-run-result">
            <header class="commands-run-head mono">
              $ {r.name} {r.args.map((a) => JSON.stringify(a)).join(' ')}
            </header>
            <pre class="commands-output" data-testid="command-output">
              {r.chunks.map((c, i) => (
                <span key={i} class={c.stream === 'stderr' ? 'commands-stderr' : undefined}>
                  {c.data}
                </span>
              ))}
            </pre>
            <footer class="commands-run-foot" data-testid="command-status">
              {r.error ? (
                <span class="commands-problem">Refused: {r.error}</span>
              ) : r.exit ? (
                exitText(r.exit)
              ) : (
                'running…'
              )}
            </footer>
          </article>
        ))}
      </div>
    </section>
  );
}
