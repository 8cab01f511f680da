import type { ComponentChildren } from 'preact';

/** Title, one line of explanation and the section's main action. */
export function SectionHead({ title, children, action }: { title: string; children: ComponentChildren; action?: ComponentChildren }) {
  return (
    <div class="section-head">
      <div>
        <h2>{title}</h2>
        <p class="muted">{children}</p>
      </div>
      {action}
    </div>
  );
}
