import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './style.css';
import { getToken, setUnauthorizedHandler } from './api';
import { navigate, useRoute, type Route } from './router';
import { LoginPage } from './pages/login';
import { MachinesPage } from './pages/machines';
import { SessionPage } from './pages/session';

// Where to go back to after a forced sign-in (a 401 in the middle of work).
let afterLogin: Route = { name: 'machines' };

setUnauthorizedHandler(() => {
  const current = location.hash;
  if (!current.startsWith('#/login')) {
    if (current.startsWith('#/session/')) afterLogin = { name: 'machines' };
    navigate({ name: 'login' }, true);
  }
});

function App() {
  const route = useRoute();
  const [signedIn, setSignedIn] = useState(() => getToken() !== null);

  useEffect(() => {
    const hasToken = getToken() !== null;
    if (hasToken !== signedIn) setSignedIn(hasToken);
    if (!hasToken && route.name !== 'login') {
      afterLogin = route;
      navigate({ name: 'login' }, true);
    } else if (hasToken && route.name === 'login') {
      navigate({ name: 'machines' }, true);
    }
  }, [route, signedIn]);

  if (route.name === 'login' || !getToken()) {
    return (
      <LoginPage
        onSignedIn={() => {
          setSignedIn(true);
          const next = afterLogin;
          afterLogin = { name: 'machines' };
          navigate(next, true);
        }}
      />
    );
  }
  if (route.name === 'session') return <SessionPage key={route.agent} agentId={route.agent} />;
  return <MachinesPage onSignedOut={() => setSignedIn(false)} />;
}

const root = document.getElementById('app');
if (root) render(<App />, root);
