import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfig, parseConfig, type ConfigProblem, type LoadResult } from './index.js';
import { IGNORED_KEYS } from './ignored-keys.table.js';

function configOf(result: LoadResult) {
  if (!result.ok) throw new Error(formatProblems(result.problems));
  return result;
}

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got a config: ${JSON.stringify(result.config)}`);
  return result.problems;
}

const file = (proxy: Record<string, unknown>, server: Record<string, unknown> = {}) => ({
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: { baseURL: 'https://mcp.example.com', ...proxy },
  mcpServers: {
    notes: { transportType: 'stdio', command: 'node', serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'T' }] }], ...server },
  },
});
const env = { T: 'token' };

describe('mcp-front files as they are', () => {
  it('loads mcp-front\'s "try it locally" file unchanged, deriving baseURL from addr with a warning', () => {
    const path = fileURLToPath(new URL('../../../test/fixtures/mcp-front-try-it-locally.json', import.meta.url));
    const { config, warnings } = configOf(loadConfig(path, {}));
    expect(config.proxy).toMatchObject({ baseURL: 'http://localhost:8080', basePath: '', addr: { host: '0.0.0.0', port: 8080 } });
    expect(config.servers.filesystem).toMatchObject({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/tmp'] });
    expect(warnings).toEqual([
      'proxy.baseURL: not set, so Gatehouse uses http://localhost:8080 (from proxy.addr); set it to the URL your clients use to reach Gatehouse',
      expect.stringContaining('mcpServers.filesystem.serviceAuths[0].tokens[0]: a secret written in the config file'),
    ]);
  });

  it('derives baseURL from the default addr when the file has neither', () => {
    const noProxyKeys = { version: 'v1', proxy: {}, mcpServers: {} };
    expect(configOf(parseConfig(noProxyKeys, {})).config.proxy.baseURL).toBe('http://localhost:8080');
  });

  it('reports a bad addr once, not again as a baseURL it could not derive', () => {
    expect(problemsOf(parseConfig({ version: 'v1', proxy: { addr: 'nowhere' }, mcpServers: {} }, {})).map((p) => p.path)).toEqual([
      'proxy.addr',
    ]);
  });

  it('takes sessions.maxPerUser 0 as unlimited, as mcp-front does', () => {
    expect(configOf(parseConfig(file({ sessions: { maxPerUser: 0 } }), env)).config.proxy.sessions.maxPerUser).toBe(Infinity);
    expect(configOf(parseConfig(file({ sessions: { maxPerUser: 2 } }), env)).config.proxy.sessions.maxPerUser).toBe(2);
    expect(problemsOf(parseConfig(file({ sessions: { maxPerUser: -1 } }), env))[0]?.path).toBe('proxy.sessions.maxPerUser');
  });

  it('accepts keys older or newer mcp-front releases define, warning that each is ignored', () => {
    const old = file(
      { admin: { enabled: true, adminEmails: ['ops@example.com'] } },
      { options: { panicIfInvalid: true, logEnabled: false }, googleIDTokenAudience: 'https://run.app' },
    );
    const { warnings } = configOf(parseConfig(old, env));
    expect(warnings).toEqual([
      'proxy.admin: accepted and ignored: Gatehouse has no admin pages (mcp-front dropped its own in February 2026)',
      expect.stringMatching(/^mcpServers\.notes\.options\.panicIfInvalid: accepted and ignored: /),
      expect.stringMatching(/^mcpServers\.notes\.options\.logEnabled: accepted and ignored: /),
      expect.stringMatching(/^mcpServers\.notes\.googleIDTokenAudience: accepted and ignored: .*headers/),
    ]);
  });

  it('names every ignored key by a path the schema accepts', () => {
    for (const key of IGNORED_KEYS) expect(key.path).toMatch(/^(proxy|mcpServers\.\*)\.[A-Za-z.]+$/);
  });

  it('still refuses keys no mcp-front release defines, and wrong types for ignored ones', () => {
    const typo = file({ admin: { enabled: 'yes' }, workspaceRevocation: true }, { options: { panicIfInvaild: true } });
    expect(problemsOf(parseConfig(typo, env))).toEqual([
      { path: 'proxy.admin.enabled', message: 'expected boolean, got string' },
      { path: 'proxy.workspaceRevocation', message: 'unknown key' },
      { path: 'mcpServers.notes.options.panicIfInvaild', message: 'unknown key' },
    ]);
  });

  it("points mcp-front's earliest bearerToken auth at serviceAuths", () => {
    const early = file({ auth: { kind: 'bearerToken', tokens: { notes: ['t'] } } });
    expect(problemsOf(parseConfig(early, env))).toContainEqual({
      path: 'proxy.auth.kind',
      message: expect.stringContaining('give each server serviceAuths') as string,
    });
  });

  it("accepts mcp-front's early per-user token form (tokenSetup) on a server that does not require a token, with a warning", () => {
    const early = file({}, { requiresUserToken: false, tokenSetup: { displayName: 'Notion', instructions: 'Paste it' } });
    const { config, warnings } = configOf(parseConfig(early, env));
    expect(config.servers.notes?.userAuthentication).toBeUndefined();
    expect(warnings).toEqual(['mcpServers.notes.tokenSetup: used only when requiresUserToken is true; ignored']);
  });

  it('reads options.toolAccess beside toolFilter, and refuses a rule without tools or groups', () => {
    const rules = [{ tools: ['delete_*'], groups: ['admins'] }];
    const { config } = configOf(parseConfig(file({}, { options: { toolFilter: { mode: 'block', list: ['x'] }, toolAccess: rules } }), env));
    expect(config.servers.notes).toMatchObject({ toolFilter: { mode: 'block', list: ['x'] }, toolAccess: rules });
    const empty = file(
      {},
      {
        options: {
          toolAccess: [
            { tools: [], groups: ['a'] },
            { tools: ['a'], groups: [] },
          ],
        },
      },
    );
    expect(problemsOf(parseConfig(empty, env)).map((p) => p.path)).toEqual([
      'mcpServers.notes.options.toolAccess[0].tools',
      'mcpServers.notes.options.toolAccess[1].groups',
    ]);
  });
});
