// The small inputs of a filter bar above a table: a labelled text field and
// a labelled date-time field (local time), both compact.

export function FilterText({
  label,
  name,
  value,
  onValue,
  placeholder,
  list,
}: {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
  placeholder?: string;
  /** Id of a <datalist> with suggestions. */
  list?: string;
}) {
  return (
    <label class="filter-field">
      <span>{label}</span>
      <input
        name={name}
        value={value}
        placeholder={placeholder}
        list={list}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
    </label>
  );
}

export function FilterDateTime({
  label,
  name,
  value,
  onValue,
}: {
  label: string;
  name: string;
  value: string;
  onValue: (v: string) => void;
}) {
  return (
    <label class="filter-field filter-field-time">
      <span>{label}</span>
      <input type="datetime-local" name={name} value={value} onInput={(e) => onValue(e.currentTarget.value)} />
    </label>
  );
}
