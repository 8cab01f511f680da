import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import { Alert } from './alert';

export type Notice = { kind: 'success' | 'error'; text: string } | null;

export interface Notices {
  notice: Notice;
  success: (text: string) => void;
  /** Runs one action of a list: clears the last notice, shows a failure as an error. */
  run: (action: () => Promise<void>, fallback?: string) => Promise<void>;
}

/** The one-line outcome a section shows above its list. */
export function useNotice(): Notices {
  const [notice, setNotice] = useState<Notice>(null);
  const run = async (action: () => Promise<void>, fallback?: string) => {
    setNotice(null);
    try {
      await action();
    } catch (err) {
      setNotice({ kind: 'error', text: errorMessage(err, fallback) });
    }
  };
  return { notice, success: (text) => setNotice({ kind: 'success', text }), run };
}

export function NoticeAlert({ notice }: { notice: Notice }) {
  return notice && <Alert kind={notice.kind}>{notice.text}</Alert>;
}
