import { useEffect, useState } from 'preact/hooks';

// Hash routes keep the gateway's static file serving trivial (no server-side
// routes) and survive a reload.
export type AdminSection = 'users' | 'roles' | 'groups' | 'grants';

export const ADMIN_SECTIONS: AdminSection[] = ['users', 'roles', 'groups', 'grants'];

export type Route =
  | { name: 'login'; error?: string }
  | { name: 'sso' }
  | { name: 'machines' }
  | { name: 'session'; agent: string; viewOnly?: boolean }
  | { name: 'account' }
  | { name: 'admin'; section: AdminSection };

export function parseRoute(hash: string): Route {
  const full = hash.replace(/^#/, '');
  const q = full.indexOf('?');
  const path = q < 0 ? full : full.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : full.slice(q + 1));

  if (path === '/login') {
    const error = query.get('error');
    return error ? { name: 'login', error } : { name: 'login' };
  }
  if (path === '/sso') return { name: 'sso' };
  if (path === '/account') return { name: 'account' };
  if (path === '/admin' || path === '/admin/') return { name: 'admin', section: 'users' };
  const admin = /^\/admin\/([a-z]+)$/.exec(path);
  if (admin && (ADMIN_SECTIONS as string[]).includes(admin[1])) {
    return { name: 'admin', section: admin[1] as AdminSection };
  }
  const m = /^\/session\/([^/]+)$/.exec(path);
  if (m) {
    try {
      const agent = decodeURIComponent(m[1]);
      return query.get('mode') === 'view' ? { name: 'session', agent, viewOnly: true } : { name: 'session', agent };
    } catch {
      return { name: 'machines' };
    }
  }
  return { name: 'machines' };
}

export function hrefFor(route: Route): string {
  switch (route.name) {
    case 'login':
      return route.error ? '#/login?error=' + encodeURIComponent(route.error) : '#/login';
    case 'sso':
      return '#/sso';
    case 'machines':
      return '#/machines';
    case 'session':
      return '#/session/' + encodeURIComponent(route.agent) + (route.viewOnly ? '?mode=view' : '');
    case 'account':
      return '#/account';
    case 'admin':
      return '#/admin/' + route.section;
  }
}

export function navigate(route: Route, replace = false): void {
  const href = hrefFor(route);
  if (location.hash === href) return;
  if (replace) {
    history.replaceState(null, '', href);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = href;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
