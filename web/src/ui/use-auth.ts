import { useEffect, useState } from 'preact/hooks';
import { getUser, subscribe, type User } from '../api';

/** The signed-in user; re-renders when they sign in, out, or change. */
export function useUser(): User | null {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const unsubscribe = subscribe(() => setVersion((n) => n + 1));
    return () => {
      unsubscribe();
    };
  }, []);
  return getUser();
}
