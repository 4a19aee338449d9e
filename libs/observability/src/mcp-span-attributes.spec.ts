import { mcpSpanAttributes } from './mcp-span-attributes.js';

describe('mcpSpanAttributes', () => {
  it("names the server, the method and a call's tool, never its arguments", () => {
    expect(mcpSpanAttributes('echo', 'tools/call', { name: 'add', arguments: { secret: 'x' } })).toEqual({
      'mcp.server': 'echo',
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'add',
    });
    expect(mcpSpanAttributes('echo', 'resources/read', { name: 'not a tool' })).toEqual({
      'mcp.server': 'echo',
      'mcp.method.name': 'resources/read',
    });
  });

  it('keeps 128 characters of a tool name, and no name that is not a string', () => {
    expect(mcpSpanAttributes('echo', 'tools/call', { name: 'x'.repeat(1000) })['gen_ai.tool.name']).toBe('x'.repeat(128));
    expect(mcpSpanAttributes('echo', 'tools/call', { name: 42 })['gen_ai.tool.name']).toBeUndefined();
  });
});
