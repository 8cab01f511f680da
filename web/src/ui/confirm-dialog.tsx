import type { ComponentChildren } from 'preact';
import { FormDialog } from './form-dialog';
import { NO_CHECK, useFormSubmit } from './use-form-submit';

/** "Are you sure?" for destructive actions; shows the failure if it fails. */
export function ConfirmDialog({
  title,
  confirmLabel,
  children,
  onConfirm,
  onClose,
  danger = true,
}: {
  title: string;
  confirmLabel: string;
  children: ComponentChildren;
  onConfirm: () => Promise<void>;
  onClose: () => void;
  danger?: boolean;
}) {
  const form = useFormSubmit(NO_CHECK, async () => {
    await onConfirm();
    onClose();
  });
  return (
    <FormDialog title={title} submitLabel={confirmLabel} form={form} onClose={onClose} testId="confirm-dialog" danger={danger}>
      <div class="confirm-text">{children}</div>
    </FormDialog>
  );
}
