import { ResourceIndicators } from './resource-indicator.js';

describe('ResourceIndicators', () => {
  const resources = new ResourceIndicators('https://mcp.example.com/gw', ['db', 'Wiki']);

  it('names each server by its resource URI', () => {
    expect(resources.all()).toEqual(['https://mcp.example.com/gw/db', 'https://mcp.example.com/gw/Wiki']);
    expect(resources.serverOf('https://mcp.example.com/gw/Wiki')).toBe('Wiki');
  });

  it.each([
    ['https://mcp.example.com/gw/db', 'https://mcp.example.com/gw/db'],
    ['HTTPS://MCP.Example.COM/gw/db', 'https://mcp.example.com/gw/db'],
    ['https://mcp.example.com:443/gw/db/', 'https://mcp.example.com/gw/db'],
    ['https://mcp.example.com/gw/db/mcp', 'https://mcp.example.com/gw/db'],
    ['https://mcp.example.com/gw/db/sse', 'https://mcp.example.com/gw/db'],
    ['https://mcp.example.com/gw/Wiki', 'https://mcp.example.com/gw/Wiki'],
  ])('canonicalises %s', (requested, canonical) => {
    expect(resources.resolve(requested)).toBe(canonical);
  });

  it.each([
    ['another server', 'https://mcp.example.com/gw/nope'],
    ['path case', 'https://mcp.example.com/gw/DB'],
    ['another scheme', 'http://mcp.example.com/gw/db'],
    ['another port', 'https://mcp.example.com:8443/gw/db'],
    ['a query', 'https://mcp.example.com/gw/db?x=1'],
    ['a fragment', 'https://mcp.example.com/gw/db#x'],
    ['credentials', 'https://user@mcp.example.com/gw/db'],
    ['the issuer itself', 'https://mcp.example.com/gw'],
    ['a deeper path', 'https://mcp.example.com/gw/db/mcp/x'],
    ['not a URL', 'db'],
  ])('refuses %s', (_name, requested) => {
    expect(resources.resolve(requested)).toBeUndefined();
  });
});
