import { exposedName, ToolRoutes } from './tool-names.js';

const ACCEPTED = /^[A-Za-z0-9_-]{1,64}$/;

describe('exposedName', () => {
  it('joins member and tool with the delimiter when the result is acceptable', () => {
    expect(exposedName('github', 'create_issue', '_')).toBe('github_create_issue');
    expect(exposedName('db', 'query', '-')).toBe('db-query');
  });

  it.each([
    ['a delimiter outside the pattern', 'linear', 'list.issues', '.'],
    ['a tool name with spaces', 'docs', 'search the docs', '_'],
    ['a name over 64 characters', 'a-member-with-a-long-name', 'a_tool_name_that_is_long_enough_to_push_past_the_limit', '_'],
  ])('shortens %s into the pattern, deterministically', (_, member, tool, delimiter) => {
    const name = exposedName(member, tool, delimiter);
    expect(name).toMatch(ACCEPTED);
    expect(exposedName(member, tool, delimiter)).toBe(name);
  });

  it('gives different tools different shortened names', () => {
    const long = 'x'.repeat(70);
    expect(exposedName('m', `${long}1`, '_')).not.toBe(exposedName('m', `${long}2`, '_'));
  });
});

describe('ToolRoutes', () => {
  it('routes a shown name to its member and tool, never by splitting it', () => {
    const routes = new ToolRoutes();
    const name = routes.add('my_db', 'run_query', '_');
    expect(name).toBe('my_db_run_query');
    expect(routes.resolve(name)).toEqual({ member: 'my_db', tool: 'run_query' });
    expect(routes.resolve('my_db_run')).toBeUndefined();
  });

  it('tells apart two tools whose joined names collide', () => {
    const routes = new ToolRoutes();
    const first = routes.add('a_b', 'c', '_');
    const second = routes.add('a', 'b_c', '_');
    expect(first).toBe('a_b_c');
    expect(second).not.toBe(first);
    expect(second).toMatch(ACCEPTED);
    expect(routes.resolve(first)).toEqual({ member: 'a_b', tool: 'c' });
    expect(routes.resolve(second)).toEqual({ member: 'a', tool: 'b_c' });
    expect(routes.add('a', 'b_c', '_')).toBe(second);
  });

  it('forgets the tools of a member', () => {
    const routes = new ToolRoutes();
    routes.add('one', 't', '_');
    routes.add('two', 't', '_');
    routes.dropMember('one');
    expect(routes.resolve('one_t')).toBeUndefined();
    expect(routes.resolve('two_t')).toEqual({ member: 'two', tool: 't' });
  });
});
