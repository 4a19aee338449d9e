import { wellKnownPathInsertion } from './path-insertion.js';

describe('wellKnownPathInsertion', () => {
  const rewrite = wellKnownPathInsertion('/gw');
  const at = (url: string) => rewrite?.({ url });

  it('maps the discovery URLs with the base path inserted onto the routes under it, query kept', () => {
    expect(at('/.well-known/oauth-authorization-server/gw')).toBe('/gw/.well-known/oauth-authorization-server');
    expect(at('/.well-known/openid-configuration/gw?a=b')).toBe('/gw/.well-known/openid-configuration?a=b');
    expect(at('/.well-known/oauth-protected-resource/gw/db/mcp')).toBe('/gw/.well-known/oauth-protected-resource/db/mcp');
  });

  it('leaves every other URL alone, a longer path segment too', () => {
    for (const url of [
      '/gw/db/mcp',
      '/.well-known/oauth-authorization-server',
      '/.well-known/oauth-authorization-server/gwx',
      '/.well-known/jwks.json/gw',
    ]) {
      expect(at(url)).toBe(url);
    }
  });

  it('is not there without a base path', () => {
    expect(wellKnownPathInsertion('')).toBeUndefined();
  });
});
