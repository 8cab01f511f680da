/** An on/off switch for settings on the light pages. */
export function Switch({
  on,
  onChange,
  label,
  disabled = false,
  testId,
}: {
  on: boolean;
  onChange: (on: boolean) => void;
  label: string;
  disabled?: boolean;
  testId?: string;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={on}
      aria-label={label}
      class={'switch' + (on ? ' switch-on' : '')}
      disabled={disabled}
      data-testid={testId}
      onClick={() => onChange(!on)}
    >
      <span class="switch-thumb" />
    </button>
  );
}
