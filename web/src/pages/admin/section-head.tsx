import type { ComponentChildren } from 'preact';

/** The "New …" button a section leads with. */
export interface CreateAction {
  label: string;
  testId: string;
  onClick: () => void;
}

/** Title, one line of explanation and the section's main action. */
export function SectionHead({ title, children, create }: { title: string; children: ComponentChildren; create?: CreateAction }) {
  return (
    <div class="section-head">
      <div>
        <h2>{title}</h2>
        <p class="muted">{children}</p>
      </div>
      {create && (
        <button type="button" class="btn btn-primary" onClick={create.onClick} data-testid={create.testId}>
          {create.label}
        </button>
      )}
    </div>
  );
}
