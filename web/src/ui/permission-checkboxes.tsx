import { AGENT_PERMISSIONS, SYSTEM_PERMISSIONS, type PermissionInfo } from '../permissions';

/** The nine permissions as two groups of checkboxes. */
export function PermissionCheckboxes({
  selected,
  onChange,
  allowed,
}: {
  selected: string[];
  onChange: (next: string[]) => void;
  /** When given, only these can be ticked (the others are shown disabled). */
  allowed?: string[];
}) {
  const toggle = (name: string, on: boolean) => {
    const next = selected.filter((p) => p !== name);
    if (on) next.push(name);
    onChange(next);
  };
  const box = (p: PermissionInfo) => {
    const disabled = allowed !== undefined && !allowed.includes(p.name);
    return (
      <label class={'check' + (disabled ? ' check-disabled' : '')} key={p.name} title={p.description}>
        <input
          type="checkbox"
          name={'perm-' + p.name}
          value={p.name}
          checked={selected.includes(p.name)}
          disabled={disabled}
          onChange={(e) => toggle(p.name, e.currentTarget.checked)}
        />
        <span class="check-text">
          <span class="check-label">{p.label}</span>
          <span class="check-desc">{p.description}</span>
        </span>
      </label>
    );
  };
  return (
    <div class="perm-boxes">
      <fieldset>
        <legend>On machines</legend>
        <div class="check-grid">{AGENT_PERMISSIONS.map(box)}</div>
      </fieldset>
      <fieldset>
        <legend>System</legend>
        <div class="check-grid">{SYSTEM_PERMISSIONS.map(box)}</div>
      </fieldset>
    </div>
  );
}
