import { useEffect } from 'preact/hooks';
import { completeSso } from '../api';
import { Spinner } from '../ui/basics';
import { navigate } from '../router';

/** #/sso: where the single sign-on callback lands, cookie set. */
export function SsoPage({ onSignedIn }: { onSignedIn: () => void }) {
  useEffect(() => {
    let cancelled = false;
    completeSso().then((ok) => {
      if (cancelled) return;
      if (ok) onSignedIn();
      else navigate({ name: 'login', error: 'sso' }, true);
    });
    return () => {
      cancelled = true;
    };
  }, []);
  return (
    <main class="login-page">
      <div class="login-card login-wait">
        <Spinner /> Completing single sign-on…
      </div>
    </main>
  );
}
