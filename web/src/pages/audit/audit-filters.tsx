import { FilterDateTime, FilterText } from '../../ui/filter-fields';
import { AUDIT_TYPES } from './event-text';

/** The audit page's filter as typed (strings; times in datetime-local form). */
export interface AuditFilterForm {
  user: string;
  agent: string;
  session: string;
  type: string;
  from: string;
  to: string;
}

export const EMPTY_AUDIT_FILTER: AuditFilterForm = { user: '', agent: '', session: '', type: '', from: '', to: '' };

export function AuditFilters({
  value,
  onChange,
  onApply,
  onClear,
  busy,
}: {
  value: AuditFilterForm;
  onChange: (f: AuditFilterForm) => void;
  onApply: () => void;
  onClear: () => void;
  busy: boolean;
}) {
  const set = (k: keyof AuditFilterForm) => (v: string) => onChange({ ...value, [k]: v });
  return (
    <form
      class="filters filters-audit"
      data-testid="audit-filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply();
      }}
    >
      <FilterText label="User" name="user" value={value.user} onValue={set('user')} placeholder="any" />
      <FilterText label="Machine" name="agent" value={value.agent} onValue={set('agent')} placeholder="agent id" />
      <FilterText label="Session" name="session" value={value.session} onValue={set('session')} placeholder="session id" />
      <FilterText label="Type" name="type" value={value.type} onValue={set('type')} placeholder="any" list="audit-types" />
      <datalist id="audit-types">
        {AUDIT_TYPES.map((t) => (
          <option key={t} value={t} />
        ))}
      </datalist>
      <FilterDateTime label="From" name="from" value={value.from} onValue={set('from')} />
      <FilterDateTime label="To" name="to" value={value.to} onValue={set('to')} />
      <div class="filter-actions">
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="audit-apply">
          Apply
        </button>
        <button type="button" class="btn btn-secondary" onClick={onClear} disabled={busy}>
          Clear
        </button>
      </div>
    </form>
  );
}
