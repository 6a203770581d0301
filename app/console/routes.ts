/**
 * The console's routing table, pure: a route is a method and a path pattern whose `:name`
 * segments capture one path segment each; matching says which route serves a request, or why
 * none does (404: no such path; 405: the path exists for another method).
 */

export type Method = 'GET' | 'POST';

export interface Route<H> {
  method: Method;
  /** `/api/dead-letters/:partition/:offset`: literal segments and `:name` captures. */
  pattern: string;
  handler: H;
}

export type RouteMatch<H> = { found: true; handler: H; params: Record<string, string> } | { found: false; status: 404 | 405; allow: Method[] };

/** The captures of `pattern` in `path`, or undefined when it does not match. Captures are URI-decoded. */
export function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const wanted = pattern.split('/');
  const given = path.split('/');
  if (wanted.length !== given.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < wanted.length; i++) {
    const segment = wanted[i]!;
    const value = given[i]!;
    if (segment.startsWith(':')) {
      if (value === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(value);
      } catch {
        return undefined;
      }
      params[segment.slice(1)] = decoded;
    } else if (segment !== value) {
      return undefined;
    }
  }
  return params;
}

/**
 * The first route of `routes` for this method and path. A literal route listed before a
 * pattern that would also match it wins (list `/api/dead-letters/replay` before captures).
 * HEAD is served as GET.
 */
export function matchRoute<H>(routes: ReadonlyArray<Route<H>>, method: string, path: string): RouteMatch<H> {
  const asked = method === 'HEAD' ? 'GET' : method;
  const allow = new Set<Method>();
  for (const route of routes) {
    const params = matchPattern(route.pattern, path);
    if (params === undefined) continue;
    if (route.method === asked) return { found: true, handler: route.handler, params };
    allow.add(route.method);
  }
  return allow.size > 0 ? { found: false, status: 405, allow: [...allow] } : { found: false, status: 404, allow: [] };
}
