import { useEffect, useState } from 'preact/hooks';

// Hash routes keep the gateway's static file serving trivial (no server-side
// routes) and survive a reload.
export type AdminSection = 'users' | 'roles' | 'groups' | 'grants';

export const ADMIN_SECTIONS: AdminSection[] = ['users', 'roles', 'groups', 'grants'];

export type Route =
  | { name: 'login'; error?: string }
  | { name: 'sso' }
  | { name: 'machines' }
  | { name: 'session'; agent: string; viewOnly?: boolean; record?: boolean }
  | { name: 'account' }
  | { name: 'admin'; section: AdminSection }
  | { name: 'recordings'; id?: string }
  | { name: 'audit' };

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
  if (path === '/audit') return { name: 'audit' };
  if (path === '/recordings' || path === '/recordings/') return { name: 'recordings' };
  const rec = /^\/recordings\/([^/]+)$/.exec(path);
  if (rec) {
    try {
      return { name: 'recordings', id: decodeURIComponent(rec[1]) };
    } catch {
      return { name: 'recordings' };
    }
  }
  if (path === '/admin' || path === '/admin/') return { name: 'admin', section: 'users' };
  const admin = /^\/admin\/([a-z]+)$/.exec(path);
  if (admin && (ADMIN_SECTIONS as string[]).includes(admin[1])) {
    return { name: 'admin', section: admin[1] as AdminSection };
  }
  const m = /^\/session\/([^/]+)$/.exec(path);
  if (m) {
    try {
      const agent = decodeURIComponent(m[1]);
      const route: Route = { name: 'session', agent };
      if (query.get('mode') === 'view') route.viewOnly = true;
      // Asks for the `record` scope: the session is recorded (best effort).
      if (query.get('record') === '1') route.record = true;
      return route;
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
    case 'session': {
      const q = new URLSearchParams();
      if (route.viewOnly) q.set('mode', 'view');
      if (route.record) q.set('record', '1');
      const qs = q.toString();
      return '#/session/' + encodeURIComponent(route.agent) + (qs ? '?' + qs : '');
    }
    case 'account':
      return '#/account';
    case 'admin':
      return '#/admin/' + route.section;
    case 'recordings':
      return route.id ? '#/recordings/' + encodeURIComponent(route.id) : '#/recordings';
    case 'audit':
      return '#/audit';
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
