import type { ComponentChildren } from 'preact';

export type AlertKind = 'error' | 'success' | 'info' | 'warning';

export function Alert({ kind = 'error', children, testId }: { kind?: AlertKind; children: ComponentChildren; testId?: string }) {
  return (
    <div class={'alert alert-' + kind} role={kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {children}
    </div>
  );
}
