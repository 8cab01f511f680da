import { useEffect, useState } from 'preact/hooks';

// Hash routes keep the gateway's static file serving trivial (no server-side
// routes) and survive a reload.
export type Route =
  | { name: 'login' }
  | { name: 'machines' }
  | { name: 'session'; agent: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path === '/login') return { name: 'login' };
  const m = /^\/session\/([^/]+)$/.exec(path);
  if (m) {
    try {
      return { name: 'session', agent: decodeURIComponent(m[1]) };
    } catch {
      return { name: 'machines' };
    }
  }
  return { name: 'machines' };
}

export function hrefFor(route: Route): string {
  switch (route.name) {
    case 'login':
      return '#/login';
    case 'machines':
      return '#/machines';
    case 'session':
      return '#/session/' + encodeURIComponent(route.agent);
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
