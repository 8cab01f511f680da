import { useState } from 'preact/hooks';
import { updateUser } from '../../api';
import { FormDialog } from '../../ui/form-dialog';
import { MIN_PASSWORD, TextField } from '../../ui/text-field';
import { useFormSubmit } from '../../ui/use-form-submit';

export function ResetPasswordDialog({ user, onClose, onDone }: { user: string; onClose: () => void; onDone: () => void }) {
  const [password, setPassword] = useState('');

  const form = useFormSubmit(
    () => (password.length < MIN_PASSWORD ? `The password needs at least ${MIN_PASSWORD} characters.` : null),
    async () => {
      await updateUser(user, { password });
      onDone();
    },
    'Cannot set the password.',
  );

  return (
    <FormDialog title={`Reset the password of ${user}`} submitLabel="Set password" form={form} onClose={onClose} testId="password-dialog">
      <TextField
        label="New password"
        name="reset-password"
        type="password"
        autoFocus
        autocomplete="new-password"
        value={password}
        onValue={setPassword}
        hint={`At least ${MIN_PASSWORD} characters. Share it with the user over a safe channel.`}
      />
    </FormDialog>
  );
}
