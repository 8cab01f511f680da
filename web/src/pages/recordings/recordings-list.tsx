import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, listAgents, listRecordings, type Recording } from '../../api';
import { hrefFor, navigate } from '../../router';
import { Alert } from '../../ui/alert';
import { Spinner } from '../../ui/basics';
import { DataTable } from '../../ui/data-table';
import { FilterDateTime, FilterText } from '../../ui/filter-fields';
import { formatBytes, formatDuration, formatMs, localInputToMs } from '../../ui/format';
import { HoldChip, RecordingStatusChip } from './status-chip';

interface Filter {
  user: string;
  agent: string;
  from: string;
  to: string;
}

const EMPTY: Filter = { user: '', agent: '', from: '', to: '' };
const LIMIT = 200;

// Kept while the app runs, so "back to the list" finds it as it was.
let lastFilter: Filter = EMPTY;

/** The recordings matching a filter; `onForbidden` when the API says 403. */
export function RecordingsList({ onForbidden }: { onForbidden: () => void }) {
  const [form, setForm] = useState<Filter>(lastFilter);
  const [applied, setApplied] = useState<Filter>(lastFilter);
  const [rows, setRows] = useState<Recording[] | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [agents, setAgents] = useState<string[]>([]);
  const generation = useRef(0);

  const load = async (f: Filter) => {
    const gen = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const list = await listRecordings({
        user: f.user.trim() || undefined,
        agent: f.agent.trim() || undefined,
        from: localInputToMs(f.from),
        to: localInputToMs(f.to),
        limit: LIMIT,
      });
      if (gen !== generation.current) return;
      list.sort((a, b) => b.started - a.started);
      setRows(list);
    } catch (err) {
      if (gen !== generation.current) return;
      if (err instanceof ApiError && err.status === 403) onForbidden();
      else setError(errorMessage(err, 'Cannot load the recordings.'));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    load(applied);
    // Suggestions for the machine filter: the machines this user can see
    // (an auditor may see none; the filter takes any id).
    listAgents()
      .then((list) => setAgents(list.map((a) => a.id).sort()))
      .catch(() => {});
  }, []);

  const apply = (f: Filter) => {
    lastFilter = f;
    setForm(f);
    setApplied(f);
    load(f);
  };
  const set = (k: keyof Filter) => (v: string) => setForm({ ...form, [k]: v });
  const filtered = Object.values(applied).some((v) => v !== '');

  return (
    <>
      <section class="card">
        <form
          class="filters"
          data-testid="recording-filters"
          onSubmit={(e) => {
            e.preventDefault();
            apply(form);
          }}
        >
          <FilterText label="User" name="user" value={form.user} onValue={set('user')} placeholder="any" />
          <FilterText label="Machine" name="agent" value={form.agent} onValue={set('agent')} placeholder="agent id" list="recording-agents" />
          <datalist id="recording-agents">
            {agents.map((a) => (
              <option key={a} value={a} />
            ))}
          </datalist>
          <FilterDateTime label="From" name="from" value={form.from} onValue={set('from')} />
          <FilterDateTime label="To" name="to" value={form.to} onValue={set('to')} />
          <div class="filter-actions">
            <button type="submit" class="btn btn-primary" disabled={loading} data-testid="recordings-apply">
              Search
            </button>
            <button type="button" class="btn btn-secondary" disabled={loading} onClick={() => apply(EMPTY)}>
              Clear
            </button>
          </div>
        </form>
      </section>
      {error && <Alert>{error}</Alert>}
      <section class="card card-table" data-testid="recordings-table">
        {rows === null && loading && (
          <div class="table-empty">
            <Spinner /> Loading…
          </div>
        )}
        {rows && rows.length === 0 && (
          <div class="table-empty" data-testid="recordings-empty">
            {filtered ? 'No recordings match this filter.' : 'No sessions have been recorded yet.'}
          </div>
        )}
        {rows && rows.length > 0 && (
          <DataTable columns={['Started', 'Duration', 'User', 'Machine', 'Status', 'Size']} actions>
            {rows.map((r) => (
              <tr
                key={r.id}
                class="row-link"
                data-recording={r.id}
                data-agent={r.agent}
                onClick={(e) => {
                  // The row is one big link; the real <a> keeps keyboard and middle-click working.
                  if ((e.target as HTMLElement).closest('a')) return;
                  navigate({ name: 'recordings', id: r.id });
                }}
              >
                <td class="nowrap">
                  <a href={hrefFor({ name: 'recordings', id: r.id })} class="cell-title">
                    {formatMs(r.started)}
                  </a>
                </td>
                <td class="nowrap">{r.status === 'recording' && !r.ended ? <span class="muted">live</span> : formatDuration(r.duration_ms)}</td>
                <td class="mono">{r.user}</td>
                <td>
                  <div class="mono">{r.agent}</div>
                  {r.group && <div class="cell-sub">{r.group}</div>}
                </td>
                <td>
                  <span class="chips">
                    <RecordingStatusChip recording={r} />
                    {r.legal_hold && <HoldChip />}
                  </span>
                </td>
                <td class="nowrap">
                  {formatBytes(r.size)}
                  <div class="cell-sub">
                    {r.segments.length} segment{r.segments.length === 1 ? '' : 's'}
                  </div>
                </td>
                <td class="col-actions">
                  <a class="btn btn-secondary btn-small" href={hrefFor({ name: 'recordings', id: r.id })} data-testid="recording-open">
                    Play
                  </a>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
        {rows && rows.length >= LIMIT && (
          <div class="table-foot muted">Showing the newest {LIMIT}; narrow the filter to see older ones.</div>
        )}
      </section>
    </>
  );
}
