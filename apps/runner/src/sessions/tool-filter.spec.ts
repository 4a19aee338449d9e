import type { JsonRpcMessage } from '#contracts';
import { ToolFilter } from './tool-filter.js';

const tools = (...names: string[]): JsonRpcMessage => ({
  jsonrpc: '2.0',
  id: 1,
  result: { tools: names.map((name) => ({ name, inputSchema: { type: 'object' } })), nextCursor: 'c' },
});
const listed = (filter: ToolFilter, ...names: string[]) => {
  const result = filter.filterListResponse(tools(...names)).result;
  const list = typeof result === 'object' && result !== null && 'tools' in result && Array.isArray(result.tools) ? result.tools : [];
  return list.map((tool: { name: string }) => tool.name);
};

describe('ToolFilter', () => {
  it('lets everything through without a filter or access rules', () => {
    const filter = new ToolFilter(undefined).forCaller(undefined);
    expect(filter.allows('anything')).toBe(true);
    const response = tools('a');
    expect(filter.filterListResponse(response)).toBe(response);
  });

  it('shows only the listed tools in allow mode and hides them in block mode', () => {
    expect(listed(new ToolFilter({ mode: 'allow', list: ['read'] }), 'read', 'write')).toEqual(['read']);
    expect(listed(new ToolFilter({ mode: 'block', list: ['read'] }), 'read', 'write')).toEqual(['write']);
  });

  it('keeps tools matched by an access rule for callers in one of its groups', () => {
    const server = new ToolFilter(undefined, [{ tools: ['delete_*', 'drop'], groups: ['admins', 'dba'] }]);
    const names = ['delete_user', 'delete_', 'drop', 'dropped', 'list_users'];
    expect(listed(server.forCaller(['dba']), ...names)).toEqual(names);
    expect(listed(server.forCaller(['staff']), ...names)).toEqual(['dropped', 'list_users']);
    expect(server.forCaller(['admins']).allows('delete_user')).toBe(true);
    expect(server.forCaller(['staff']).allows('delete_user')).toBe(false);
  });

  it('treats a caller without groups (bearer, basic, anonymous) as in no group', () => {
    const server = new ToolFilter(undefined, [{ tools: ['secret'], groups: ['admins'] }]);
    expect(server.forCaller(undefined).allows('secret')).toBe(false);
    expect(server.forCaller([]).allows('public')).toBe(true);
  });

  it('requires the caller to satisfy every rule that matches a tool', () => {
    const server = new ToolFilter(undefined, [
      { tools: ['*'], groups: ['staff'] },
      { tools: ['delete_*'], groups: ['admins'] },
    ]);
    expect(server.forCaller(['staff']).allows('read')).toBe(true);
    expect(server.forCaller(['staff']).allows('delete_user')).toBe(false);
    expect(server.forCaller(['admins']).allows('delete_user')).toBe(false);
    expect(server.forCaller(['staff', 'admins']).allows('delete_user')).toBe(true);
  });

  it('applies the tool filter before access: a blocked tool stays hidden from every group', () => {
    const server = new ToolFilter({ mode: 'block', list: ['delete_all'] }, [{ tools: ['delete_*'], groups: ['admins'] }]);
    expect(server.forCaller(['admins']).allows('delete_all')).toBe(false);
    expect(server.forCaller(['admins']).allows('delete_one')).toBe(true);
  });

  it('matches patterns literally apart from *, and whole names only', () => {
    const server = new ToolFilter(undefined, [{ tools: ['a.b', 'x(y)+'], groups: ['g'] }]);
    const caller = server.forCaller([]);
    expect(caller.allows('a.b')).toBe(false);
    expect(caller.allows('axb')).toBe(true);
    expect(caller.allows('x(y)+')).toBe(false);
    expect(caller.allows('xyy')).toBe(true);
    expect(caller.allows('a.b.c')).toBe(true);
  });

  it('refuses a nameless tool when access rules exist, and keeps other result fields', () => {
    const server = new ToolFilter(undefined, [{ tools: ['x'], groups: ['g'] }]).forCaller([]);
    expect(server.allows(undefined)).toBe(false);
    expect(server.filterListResponse(tools('y')).result).toMatchObject({ nextCursor: 'c' });
  });
});
