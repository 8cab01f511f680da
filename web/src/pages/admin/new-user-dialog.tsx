import { useState } from 'preact/hooks';
import { createUser } from '../../api';
import { FormDialog } from '../../ui/form-dialog';
import { MIN_PASSWORD, TextField } from '../../ui/text-field';
import { useFormSubmit } from '../../ui/use-form-submit';

export function NewUserDialog({ onClose, onCreated }: { onClose: () => void; onCreated: (name: string) => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const n = name.trim();

  const form = useFormSubmit(
    () => {
      if (!/^[A-Za-z0-9._@-]{1,64}$/.test(n)) return 'The username takes 1 to 64 letters, digits, dots, dashes, underscores or @.';
      if (password.length < MIN_PASSWORD) return `The password needs at least ${MIN_PASSWORD} characters.`;
    },
    async () => {
      await createUser(n, password, displayName.trim() || undefined);
      onCreated(n);
    },
    'Cannot create the user.',
  );

  return (
    <FormDialog title="New user" submitLabel="Create user" form={form} onClose={onClose} testId="user-dialog">
      <TextField label="Username" name="new-user-name" autoFocus value={name} onValue={setName} />
      <TextField
        label={
          <>
            Display name <span class="optional">optional</span>
          </>
        }
        name="new-user-display-name"
        value={displayName}
        onValue={setDisplayName}
      />
      <TextField
        label="Initial password"
        name="new-user-password"
        type="password"
        autocomplete="new-password"
        value={password}
        onValue={setPassword}
        hint={`At least ${MIN_PASSWORD} characters. Tell the user to change it on their Account page.`}
      />
    </FormDialog>
  );
}
