import type { ComponentChildren } from 'preact';

/** Shortest password the gateway accepts. */
export const MIN_PASSWORD = 8;

/** A labelled one-line input (text or password) with an optional hint. */
export function TextField({
  label,
  name,
  value,
  onValue,
  type,
  autocomplete = 'off',
  autoFocus,
  required,
  placeholder,
  hint,
}: {
  label: ComponentChildren;
  name: string;
  value: string;
  onValue: (value: string) => void;
  type?: 'password';
  autocomplete?: string;
  autoFocus?: boolean;
  required?: boolean;
  placeholder?: string;
  hint?: ComponentChildren;
}) {
  return (
    <label class="field">
      <span>{label}</span>
      <input
        name={name}
        // No type attribute at all for text, as the markup always had.
        type={type as 'text' | undefined}
        autoFocus={autoFocus}
        required={required}
        autocomplete={autocomplete}
        placeholder={placeholder}
        value={value}
        onInput={(e) => onValue(e.currentTarget.value)}
      />
      {hint && <span class="field-hint">{hint}</span>}
    </label>
  );
}
