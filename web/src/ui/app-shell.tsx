import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { getMode, hasPermission, logout } from '../api';
import { hrefFor, navigate, type Route } from '../router';
import { Logo } from './basics';
import { useUser } from './use-auth';

type Section = 'machines' | 'account' | 'admin' | 'recordings' | 'audit';

function NavLink({ route, active, children, testId }: { route: Route; active: boolean; children: ComponentChildren; testId: string }) {
  return (
    <a
      class={'nav-link' + (active ? ' nav-link-active' : '')}
      href={hrefFor(route)}
      aria-current={active ? 'page' : undefined}
      data-testid={testId}
    >
      {children}
    </a>
  );
}

/** The light pages' frame: top bar with navigation, the user and Sign out. */
export function AppShell({ section, children, wide = false }: { section: Section; children: ComponentChildren; wide?: boolean }) {
  const user = useUser();
  const [signingOut, setSigningOut] = useState(false);
  const isAdmin = hasPermission('admin');
  const isAuditor = hasPermission('audit');

  const signOut = async () => {
    setSigningOut(true);
    try {
      await logout();
    } catch {
      // The token is dropped locally whatever the gateway said.
    }
    setSigningOut(false);
    navigate({ name: 'login' });
  };

  return (
    <div class="page">
      <header class="topbar">
        <div class="topbar-left">
          <a class="brand" href="#/machines">
            <Logo />
            <span>webremote</span>
          </a>
          <nav class="nav" aria-label="Main">
            <NavLink route={{ name: 'machines' }} active={section === 'machines'} testId="nav-machines">
              Machines
            </NavLink>
            {/* A gateway from before accounts has nothing to show there. */}
            {getMode() === 'cookie' && (
              <NavLink route={{ name: 'account' }} active={section === 'account'} testId="nav-account">
                Account
              </NavLink>
            )}
            {isAuditor && (
              <NavLink route={{ name: 'recordings' }} active={section === 'recordings'} testId="nav-recordings">
                Recordings
              </NavLink>
            )}
            {isAuditor && (
              <NavLink route={{ name: 'audit' }} active={section === 'audit'} testId="nav-audit">
                Audit
              </NavLink>
            )}
            {isAdmin && (
              <NavLink route={{ name: 'admin', section: 'users' }} active={section === 'admin'} testId="nav-admin">
                Administration
              </NavLink>
            )}
          </nav>
        </div>
        <div class="topbar-right">
          <span class="user muted" data-testid="signed-in-as">
            Signed in as <strong>{user?.display_name || user?.name || 'user'}</strong>
          </span>
          <button class="btn btn-secondary" onClick={signOut} disabled={signingOut}>
            Sign out
          </button>
        </div>
      </header>
      <main class={'content' + (wide ? ' content-wide' : '')}>{children}</main>
    </div>
  );
}
