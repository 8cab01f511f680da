import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

let nextId = 1;

/**
 * A modal dialog on the native <dialog> element: focus stays inside, Escape
 * closes it, the page behind is inert. With onSubmit the body is a form and
 * Enter submits it.
 */
export function Modal({
  title,
  onClose,
  onSubmit,
  actions,
  children,
  testId,
  wide = false,
}: {
  title: string;
  onClose: () => void;
  onSubmit?: () => void;
  actions?: ComponentChildren;
  children: ComponentChildren;
  testId?: string;
  wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useRef('modal-title-' + nextId++).current;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
    return () => dialog?.close();
  }, []);

  const inner = (
    <>
      <div class="modal-body">{children}</div>
      {actions && <div class="modal-actions">{actions}</div>}
    </>
  );

  return (
    <dialog
      ref={ref}
      class={'modal' + (wide ? ' modal-wide' : '')}
      aria-labelledby={titleId}
      data-testid={testId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <div class="modal-head">
        <h2 id={titleId}>{title}</h2>
        <button type="button" class="icon-btn" aria-label="Close" onClick={onClose}>
          ×
        </button>
      </div>
      {onSubmit ? (
        <form
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            onSubmit();
          }}
        >
          {inner}
        </form>
      ) : (
        inner
      )}
    </dialog>
  );
}
