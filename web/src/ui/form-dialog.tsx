import type { ComponentChildren } from 'preact';
import { Alert } from './alert';
import { Modal } from './modal';
import type { FormSubmit } from './use-form-submit';

/** A modal form: Cancel, one submit button, and the failure under the fields. */
export function FormDialog({
  title,
  submitLabel,
  form,
  onClose,
  testId,
  wide,
  danger = false,
  children,
}: {
  title: string;
  submitLabel: ComponentChildren;
  form: FormSubmit;
  onClose: () => void;
  testId: string;
  wide?: boolean;
  danger?: boolean;
  children: ComponentChildren;
}) {
  return (
    <Modal
      title={title}
      onClose={onClose}
      onSubmit={form.submit}
      wide={wide}
      testId={testId}
      actions={
        <>
          <button type="button" class="btn btn-secondary" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" class={'btn ' + (danger ? 'btn-danger' : 'btn-primary')} disabled={form.busy}>
            {submitLabel}
          </button>
        </>
      }
    >
      {children}
      {form.error && <Alert>{form.error}</Alert>}
    </Modal>
  );
}
