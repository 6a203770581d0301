import { describe, expect, it } from '@jest/globals';
import { matchPattern, matchRoute, type Route } from '../../../app/console/routes.ts';

const ROUTES: Array<Route<string>> = [
  { method: 'GET', pattern: '/api/dead-letters', handler: 'list' },
  { method: 'POST', pattern: '/api/dead-letters/replay', handler: 'replay' },
  { method: 'GET', pattern: '/api/dead-letters/:partition/:offset', handler: 'one' },
  { method: 'GET', pattern: '/api/orders/:orderId', handler: 'order' },
];

describe('console routes', () => {
  it('captures :name segments, URI-decoded, and refuses a path of another length or an empty capture', () => {
    expect(matchPattern('/api/dead-letters/:partition/:offset', '/api/dead-letters/0/12')).toEqual({ partition: '0', offset: '12' });
    expect(matchPattern('/api/orders/:orderId', '/api/orders/a%20b')).toEqual({ orderId: 'a b' });
    expect(matchPattern('/api/orders/:orderId', '/api/orders/')).toBeUndefined();
    expect(matchPattern('/api/orders/:orderId', '/api/orders/1/2')).toBeUndefined();
    expect(matchPattern('/api/orders/:orderId', '/api/orders/%E0%A4%A')).toBeUndefined();
  });

  it('serves a literal route before a capture that would match it, by method', () => {
    expect(matchRoute(ROUTES, 'POST', '/api/dead-letters/replay')).toEqual({ found: true, handler: 'replay', params: {} });
    expect(matchRoute(ROUTES, 'GET', '/api/dead-letters/1/7')).toEqual({ found: true, handler: 'one', params: { partition: '1', offset: '7' } });
    expect(matchRoute(ROUTES, 'HEAD', '/api/dead-letters')).toEqual({ found: true, handler: 'list', params: {} });
  });

  it('tells a path that exists for another method (405, with what is allowed) from one that does not (404)', () => {
    expect(matchRoute(ROUTES, 'GET', '/api/dead-letters/replay')).toEqual({ found: false, status: 405, allow: ['POST'] });
    expect(matchRoute(ROUTES, 'DELETE', '/api/orders/x')).toEqual({ found: false, status: 405, allow: ['GET'] });
    expect(matchRoute(ROUTES, 'GET', '/api/nothing')).toEqual({ found: false, status: 404, allow: [] });
  });
});
