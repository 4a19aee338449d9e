import { HostPolicy } from './host-check.js';

describe('HostPolicy', () => {
  const policy = new HostPolicy('https://mcp.example.com/gw', ['mcp.internal', '10.0.0.7']);

  it.each(['mcp.example.com', 'MCP.Example.COM', 'mcp.example.com:443', 'mcp.internal:8080', '10.0.0.7'])('answers Host %s', (host) => {
    expect(policy.allows(host)).toBe(true);
  });

  it.each([
    ['a rebinding name', 'attacker.example'],
    ['a suffix trick', 'mcp.example.com.attacker.example'],
    ['a loopback address the base URL does not name', '127.0.0.1:8080'],
    ['credentials', 'user@mcp.example.com'],
    ['a path', 'mcp.example.com/x'],
    ['nothing', ''],
    ['no header', undefined],
  ])('refuses %s', (_, host) => {
    expect(policy.allows(host)).toBe(false);
  });

  it('answers every loopback name when the base URL is on loopback, and nothing else', () => {
    const local = new HostPolicy('http://127.0.0.1:8080', []);
    for (const host of ['127.0.0.1:9999', 'localhost:8080', '[::1]:8080']) expect(local.allows(host)).toBe(true);
    expect(local.allows('rebind.attacker.example:8080')).toBe(false);
  });
});
