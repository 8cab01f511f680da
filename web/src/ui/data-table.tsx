import type { ComponentChildren } from 'preact';

/** A table with one header row; `actions` adds the unlabelled column for row buttons. */
export function DataTable({ columns, actions = false, children }: { columns: string[]; actions?: boolean; children: ComponentChildren }) {
  return (
    <table class="table">
      <thead>
        <tr>
          {columns.map((c) => (
            <th key={c}>{c}</th>
          ))}
          {actions && (
            <th class="col-actions">
              <span class="sr-only">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>{children}</tbody>
    </table>
  );
}
