import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes, so the daemon serves one index.html and the browser never sends the route (which may hold an
 * address or account) in a request line or a Referer.
 */
export type Route =
  | { view: 'dashboard' }
  | { view: 'explain'; target: string }
  | { view: 'decisions'; params: URLSearchParams };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '');
  if (path.startsWith('/explain/')) {
    const target = safeDecode(path.slice('/explain/'.length));
    if (target !== '') return { view: 'explain', target };
  }
  if (path === '/decisions' || path.startsWith('/decisions?')) {
    return { view: 'decisions', params: new URLSearchParams(path.slice('/decisions'.length)) };
  }
  return { view: 'dashboard' };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text).trim();
  } catch {
    return '';
  }
}

export const explainHref = (target: string): string => `#/explain/${encodeURIComponent(target)}`;

export function decisionsHref(params: Record<string, string>): string {
  const search = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
  return search === '' ? '#/decisions' : `#/decisions?${search}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
