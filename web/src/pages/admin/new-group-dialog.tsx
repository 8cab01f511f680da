import { useState } from 'preact/hooks';
import { createGroup } from '../../api';
import { FormDialog } from '../../ui/form-dialog';
import { TextField } from '../../ui/text-field';
import { useFormSubmit } from '../../ui/use-form-submit';

export function NewGroupDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [requireReason, setRequireReason] = useState(false);
  const n = name.trim();

  const form = useFormSubmit(
    () => (/^[A-Za-z0-9._-]{1,64}$/.test(n) ? null : 'Name the group with 1 to 64 letters, digits, dots, dashes or underscores.'),
    async () => {
      await createGroup(n, requireReason);
      onCreated(n);
    },
    'Cannot create the group.',
  );

  return (
    <FormDialog title="New group" submitLabel="Create group" form={form} onClose={onClose} testId="group-dialog">
      <TextField label="Name" name="group-name" autoFocus placeholder="e.g. kiosks" value={name} onValue={setName} />
      <label class="check">
        <input
          type="checkbox"
          name="group-require-reason"
          checked={requireReason}
          onChange={(e) => setRequireReason(e.currentTarget.checked)}
        />
        <span class="check-text">
          <span class="check-label">Require a reason</span>
          <span class="check-desc">Users type a reason or ticket number before each session; it is recorded.</span>
        </span>
      </label>
    </FormDialog>
  );
}
