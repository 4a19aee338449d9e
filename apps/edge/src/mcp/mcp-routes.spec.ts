import { routeOf } from './mcp-routes.js';

describe('routeOf', () => {
  it.each([
    ['/db/mcp', '', { server: 'db', endpoint: 'mcp' }],
    ['/db/sse', '', { server: 'db', endpoint: 'sse' }],
    ['/db/message?sessionId=abc', '', { server: 'db', endpoint: 'message' }],
    ['/gw/db/mcp', '/gw', { server: 'db', endpoint: 'mcp' }],
    ['/my%20db/mcp', '', { server: 'my db', endpoint: 'mcp' }],
    ['/db/other', '', { server: 'db', endpoint: 'other' }],
  ])('reads %s under %j', (target, basePath, route) => {
    expect(routeOf(target, basePath)).toEqual(route);
  });

  it.each([
    ['outside the base path', '/db/mcp', '/gw'],
    ['a base path that only begins the same', '/gwx/db/mcp', '/gw'],
    ['no server', '//mcp', ''],
    ['a trailing slash', '/db/mcp/', ''],
    ['a deeper path', '/a/b/mcp', ''],
    ['one segment', '/health', ''],
    ['malformed percent-encoding', '/%zz/mcp', ''],
  ])('names no route for %s', (_, target, basePath) => {
    expect(routeOf(target, basePath)).toBeUndefined();
  });
});
