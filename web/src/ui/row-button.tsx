import type { ComponentChildren } from 'preact';

/** A small button in a table row's actions cell; `danger` for deletions. */
export function RowButton({
  onClick,
  danger = false,
  disabled,
  title,
  children,
}: {
  onClick: () => void;
  danger?: boolean;
  disabled?: boolean;
  title?: string;
  children: ComponentChildren;
}) {
  return (
    <button
      type="button"
      class={'btn ' + (danger ? 'btn-danger-outline' : 'btn-secondary') + ' btn-small'}
      disabled={disabled}
      title={title}
      onClick={onClick}
    >
      {children}
    </button>
  );
}
