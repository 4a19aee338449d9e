import { httpMethodLabel, mcpMethodLabel, OTHER, routeLabel, ServerLabels, statusLabels } from './metric-labels.js';

describe('metric labels', () => {
  it('keeps MCP methods and turns any other string into one value', () => {
    expect(mcpMethodLabel('tools/call')).toBe('tools/call');
    expect(mcpMethodLabel('server/discover')).toBe('server/discover');
    for (const made_up of ['tools/call2', 'x'.repeat(5000), '', 'user-42/secret']) expect(mcpMethodLabel(made_up)).toBe(OTHER);
  });

  it('keeps HTTP methods and route patterns, never a raw path', () => {
    expect(httpMethodLabel('DELETE')).toBe('DELETE');
    expect(httpMethodLabel('PROPFIND')).toBe(OTHER);
    expect(routeLabel('/:server/mcp')).toBe('/:server/mcp');
    expect(routeLabel(undefined)).toBe('unmatched');
    expect(routeLabel('')).toBe('unmatched');
  });

  it('gives the status and its class; none when nothing was answered', () => {
    expect(statusLabels(200)).toEqual({ status: '200', status_class: '2xx' });
    expect(statusLabels(404)).toEqual({ status: '404', status_class: '4xx' });
    expect(statusLabels(503)).toEqual({ status: '503', status_class: '5xx' });
    expect(statusLabels(undefined)).toEqual({ status: 'none', status_class: 'none' });
    expect(statusLabels(999)).toEqual({ status: OTHER, status_class: OTHER });
  });

  it("names configured servers only: a client's made-up name is other", () => {
    const servers = new ServerLabels(['everything', 'notion']);
    expect(servers.of('notion')).toBe('notion');
    expect(servers.of('no-such-server')).toBe(OTHER);
  });
});
