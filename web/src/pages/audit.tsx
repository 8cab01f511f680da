import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, errorMessage, exportAudit, hasPermission, listAudit, saveDownload, type AuditEvent, type AuditFilter } from '../api';
import { Alert } from '../ui/alert';
import { AppShell } from '../ui/app-shell';
import { Spinner } from '../ui/basics';
import { DataTable } from '../ui/data-table';
import { localInputToMs } from '../ui/format';
import { NeedsPermission } from '../ui/needs-permission';
import { useUser } from '../ui/use-auth';
import { AuditFilters, EMPTY_AUDIT_FILTER, type AuditFilterForm } from './audit/audit-filters';
import { AUDIT_COLUMNS, AuditRow } from './audit/audit-row';

const PAGE_SIZE = 50;

// The filter outlives the page while the app runs (back from a recording).
let lastFilter: AuditFilterForm = EMPTY_AUDIT_FILTER;

function toQuery(f: AuditFilterForm): AuditFilter {
  return {
    user: f.user.trim() || undefined,
    agent: f.agent.trim() || undefined,
    session: f.session.trim() || undefined,
    type: f.type.trim() || undefined,
    from: localInputToMs(f.from),
    to: localInputToMs(f.to),
  };
}

/** #/audit: the audit log, newest first, for holders of `audit`. */
export function AuditPage() {
  useUser();
  const allowed = hasPermission('audit');
  const [form, setForm] = useState<AuditFilterForm>(lastFilter);
  const [applied, setApplied] = useState<AuditFilterForm>(lastFilter);
  const [events, setEvents] = useState<AuditEvent[] | null>(null);
  const [next, setNext] = useState<number | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [forbidden, setForbidden] = useState(false);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const [exporting, setExporting] = useState(false);
  const [exportNote, setExportNote] = useState<{ kind: 'success' | 'error'; text: string } | null>(null);
  const generation = useRef(0);

  const load = async (filter: AuditFilterForm, before?: number) => {
    const gen = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await listAudit({ ...toQuery(filter), limit: PAGE_SIZE, before });
      if (gen !== generation.current) return;
      setEvents((old) => (before !== undefined && old ? [...old, ...page.events] : page.events));
      setNext(page.next_before);
    } catch (err) {
      if (gen !== generation.current) return;
      if (err instanceof ApiError && err.status === 403) setForbidden(true);
      else setError(errorMessage(err, 'Cannot load the audit log.'));
    } finally {
      if (gen === generation.current) setLoading(false);
    }
  };

  useEffect(() => {
    if (allowed) load(applied);
  }, [allowed]);

  const apply = (f: AuditFilterForm) => {
    lastFilter = f;
    setForm(f);
    setApplied(f);
    setOpen(new Set());
    setEvents(null);
    load(f);
  };

  const toggle = (seq: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(seq)) n.delete(seq);
      else n.add(seq);
      return n;
    });

  const doExport = async () => {
    const q = toQuery(form);
    setExporting(true);
    setExportNote(null);
    try {
      const file = await exportAudit(q.from, q.to);
      saveDownload(file);
      setExportNote({ kind: 'success', text: `Saved ${file.filename}. Check it offline with: webremotectl audit verify --bundle ${file.filename}` });
    } catch (err) {
      if (err instanceof ApiError && err.status === 403) setForbidden(true);
      else setExportNote({ kind: 'error', text: errorMessage(err, 'The export failed.') });
    } finally {
      setExporting(false);
    }
  };

  if (!allowed || forbidden) {
    return (
      <AppShell section="audit">
        <div class="content-head">
          <h1>Audit log</h1>
        </div>
        <NeedsPermission permission="audit" what="the audit log" />
      </AppShell>
    );
  }

  const filtered = Object.values(applied).some((v) => v !== '');
  return (
    <AppShell section="audit">
      <div class="content-head">
        <h1>Audit log</h1>
        <button
          type="button"
          class="btn btn-secondary"
          onClick={doExport}
          disabled={exporting}
          title="A signed bundle of the events in the From–To range (all of them when the range is empty), verifiable offline"
          data-testid="audit-export"
        >
          {exporting ? 'Exporting…' : 'Export'}
        </button>
      </div>
      {exportNote && (
        <Alert kind={exportNote.kind} testId="audit-export-note">
          {exportNote.text}
        </Alert>
      )}
      <section class="card">
        <AuditFilters value={form} onChange={setForm} onApply={() => apply(form)} onClear={() => apply(EMPTY_AUDIT_FILTER)} busy={loading} />
      </section>
      {error && <Alert>{error}</Alert>}
      <section class="card card-table" data-testid="audit-table">
        {events === null && loading && (
          <div class="table-empty">
            <Spinner /> Loading…
          </div>
        )}
        {events && events.length === 0 && (
          <div class="table-empty" data-testid="audit-empty">
            {filtered ? 'No events match this filter.' : 'The audit log is empty.'}
          </div>
        )}
        {events && events.length > 0 && (
          <DataTable columns={AUDIT_COLUMNS} actions>
            {events.map((ev) => (
              <AuditRow
                key={ev.seq}
                event={ev}
                open={open.has(ev.seq)}
                onToggle={() => toggle(ev.seq)}
                onSession={(sid) => apply({ ...EMPTY_AUDIT_FILTER, session: sid })}
              />
            ))}
          </DataTable>
        )}
        {events && events.length > 0 && (
          <div class="table-foot">
            <span class="muted" data-testid="audit-count">
              {events.length} event{events.length === 1 ? '' : 's'}, newest first
            </span>
            {next !== null && (
              <button type="button" class="btn btn-secondary" disabled={loading} onClick={() => load(applied, next)} data-testid="audit-more">
                {loading ? 'Loading…' : 'Load older events'}
              </button>
            )}
          </div>
        )}
      </section>
    </AppShell>
  );
}
