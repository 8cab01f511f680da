import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { getToken, setUnauthorizedHandler, startSession } from './api';
import { navigate, useRoute, type Route } from './router';
import { Spinner } from './ui/basics';
import { useUser } from './ui/use-auth';
import { LoginPage } from './pages/login';
import { SsoPage } from './pages/sso';
import { MachinesPage } from './pages/machines';
import { SessionPage } from './pages/session';
import { AccountPage } from './pages/account';
import { AdminPage } from './pages/admin/admin-page';
import { RecordingsPage } from './pages/recordings';
import { AuditPage } from './pages/audit';

// Where to go back to after a forced sign-in (a 401 in the middle of work).
let afterLogin: Route = { name: 'machines' };

setUnauthorizedHandler(() => {
  const current = location.hash;
  if (!current.startsWith('#/login') && !current.startsWith('#/sso')) {
    if (!current.startsWith('#/session/')) afterLogin = parseCurrent();
    navigate({ name: 'login' }, true);
  }
});

function parseCurrent(): Route {
  // Only pages worth returning to; a session is reopened from the list.
  const h = location.hash;
  if (h.startsWith('#/account')) return { name: 'account' };
  const m = /^#\/admin\/(users|roles|groups|grants)$/.exec(h);
  if (m) return { name: 'admin', section: m[1] as 'users' };
  if (h.startsWith('#/audit')) return { name: 'audit' };
  const r = /^#\/recordings(?:\/([^/?]+))?$/.exec(h);
  if (r) {
    try {
      return r[1] ? { name: 'recordings', id: decodeURIComponent(r[1]) } : { name: 'recordings' };
    } catch {
      return { name: 'recordings' };
    }
  }
  return { name: 'machines' };
}

function Splash() {
  return (
    <main class="login-page">
      <div class="login-card login-wait" data-testid="starting">
        <Spinner /> Loading…
      </div>
    </main>
  );
}

function App() {
  const route = useRoute();
  useUser(); // re-render on sign-in and sign-out
  const [ready, setReady] = useState(false);
  const signedIn = getToken() !== null;

  useEffect(() => {
    startSession()
      .catch(() => false)
      .finally(() => setReady(true));
  }, []);

  useEffect(() => {
    if (!ready || route.name === 'sso') return;
    if (!signedIn && route.name !== 'login') {
      afterLogin = route.name === 'session' ? { name: 'machines' } : route;
      navigate({ name: 'login' }, true);
    } else if (signedIn && route.name === 'login') {
      navigate({ name: 'machines' }, true);
    }
  }, [ready, route, signedIn]);

  const signedInNow = () => {
    const next = afterLogin;
    afterLogin = { name: 'machines' };
    navigate(next, true);
  };

  if (!ready) return <Splash />;
  if (route.name === 'sso') return <SsoPage onSignedIn={signedInNow} />;
  if (route.name === 'login' || !signedIn) {
    return <LoginPage key={route.name === 'login' ? route.error ?? '' : ''} error={route.name === 'login' ? route.error : undefined} onSignedIn={signedInNow} />;
  }
  switch (route.name) {
    case 'session':
      return (
        <SessionPage
          key={route.agent + (route.viewOnly ? '#view' : '') + (route.record ? '#record' : '')}
          agentId={route.agent}
          viewOnly={route.viewOnly === true}
          record={route.record === true}
        />
      );
    case 'account':
      return <AccountPage />;
    case 'admin':
      return <AdminPage section={route.section} />;
    case 'recordings':
      return <RecordingsPage id={route.id} />;
    case 'audit':
      return <AuditPage />;
    default:
      return <MachinesPage />;
  }
}

const root = document.getElementById('app');
if (root) render(<App />, root);
