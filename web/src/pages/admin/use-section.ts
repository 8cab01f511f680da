import { useState } from 'preact/hooks';
import { useNotice, type Notices } from '../../ui/use-notice';

export interface Section<P> {
  notice: Notices;
  /** The dialog open over the section, if any. */
  pending: P | null;
  setPending: (p: P | null) => void;
  close: () => void;
  /** Says what happened and reloads the list; await it to close after the reload. */
  done: (text: string) => Promise<void>;
}

/** State every admin section has: its notice and the dialog it has open. */
export function useSection<P>(reload: () => Promise<void>): Section<P> {
  const notice = useNotice();
  const [pending, setPending] = useState<P | null>(null);
  return {
    notice,
    pending,
    setPending,
    close: () => setPending(null),
    done: (text) => {
      notice.success(text);
      return reload();
    },
  };
}
