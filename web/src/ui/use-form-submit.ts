import { useState } from 'preact/hooks';
import { errorMessage } from '../api';

export interface FormSubmit {
  error: string | null;
  busy: boolean;
  submit: () => Promise<void>;
}

/**
 * The submit step every form shares: check the input (a sentence means it is
 * wrong), then run the request while busy. On failure the error is shown and
 * the form can be sent again; on success busy stays on, because the caller
 * closes the form or leaves the page.
 */
export function useFormSubmit(check: () => string | null | undefined, action: () => Promise<void>, fallback?: string): FormSubmit {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setError(null);
    const invalid = check();
    if (invalid) return setError(invalid);
    setBusy(true);
    try {
      await action();
    } catch (err) {
      setError(errorMessage(err, fallback));
      setBusy(false);
    }
  };
  return { error, busy, submit };
}

/** For forms without checks of their own. */
export const NO_CHECK = () => null;
