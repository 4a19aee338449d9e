import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatProblems, loadConfig, type ConfigProblem, type LoadResult } from './index.js';

let dir: string;
let count = 0;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config (object as JSON, string as is) to the temp dir and returns its path. */
function writeConfig(content: unknown): string {
  const file = join(dir, `config-${++count}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function problemsOf(result: LoadResult): ConfigProblem[] {
  if (result.ok) throw new Error(`expected problems, got a config: ${JSON.stringify(result.config)}`);
  return result.problems;
}

const minimal = (servers: Record<string, unknown> = {}, proxy: Record<string, unknown> = {}) => ({
  version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
  proxy: { baseURL: 'https://mcp.example.com', ...proxy },
  mcpServers: servers,
});

const stdio = (extra: Record<string, unknown> = {}) => ({ transportType: 'stdio', command: 'node', ...extra });

describe('loadConfig: valid files', () => {
  it('loads examples/quickstart.json', () => {
    const quickstart = fileURLToPath(new URL('../../../examples/quickstart.json', import.meta.url));
    const result = loadConfig(quickstart, { GATEHOUSE_TOKEN: 'quickstart-token' });
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.warnings).toEqual([]);
    expect(result.config.proxy).toMatchObject({ baseURL: 'http://127.0.0.1:8080', basePath: '', addr: { host: '127.0.0.1', port: 8080 } });
    expect(result.config.servers).toEqual({
      everything: {
        name: 'everything',
        transportType: 'stdio',
        command: 'node',
        args: ['node_modules/@modelcontextprotocol/server-everything/dist/index.js', 'stdio'],
        env: {},
        timeoutMs: 30_000,
        serviceAuths: [{ type: 'bearer', tokens: ['quickstart-token'] }],
        runnerGroup: 'default',
      },
    });
  });

  it('loads an mcp-front stdio file, resolving $env and parsing durations', () => {
    const file = writeConfig({
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: {
        baseURL: { $env: 'PUBLIC_URL' },
        addr: ':9000',
        name: 'Acme MCP',
        sessions: { timeout: '1h30m', cleanupInterval: '90s', maxPerUser: 3 },
      },
      mcpServers: {
        'postgres-db': {
          type: 'direct',
          transportType: 'stdio',
          command: 'docker',
          args: ['run', '--rm', '-i', { $env: 'PG_IMAGE' }],
          env: { DATABASE_URL: { $env: 'PG_URL' }, MODE: 'read-only' },
          timeout: '2m',
          options: { toolFilter: { mode: 'block', list: ['drop_table'] } },
          serviceAuths: [
            { type: 'bearer', tokens: ['literal-token', { $env: 'CI_TOKEN' }] },
            { type: 'basic', username: 'ci', password: { $env: 'CI_PASSWORD' } },
          ],
          requiresUserToken: false,
          runnerGroup: 'eu-west',
        },
      },
    });
    const result = loadConfig(file, {
      PUBLIC_URL: 'https://mcp.acme.test/gateway/',
      PG_IMAGE: 'mcp/postgres:1',
      PG_URL: '"postgres://ro@db/acme"',
      CI_TOKEN: 'ci-token',
      CI_PASSWORD: 'ci-password',
    });
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.warnings).toEqual([
      'mcpServers.postgres-db.serviceAuths[0].tokens[0]: a secret written in the config file; prefer {"$env": "VAR"}',
    ]);
    expect(result.config).toEqual({
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: {
        baseURL: 'https://mcp.acme.test/gateway',
        basePath: '/gateway',
        addr: { host: '0.0.0.0', port: 9000 },
        name: 'Acme MCP',
        sessions: {
          timeoutMs: 5_400_000,
          cleanupIntervalMs: 90_000,
          maxPerUser: 3,
          replay: { messages: 256, bytes: 1_048_576 },
          pool: { size: 2, idleTimeoutMs: 300_000, inputTimeoutMs: 300_000, listTtlMs: 60_000 },
        },
        limits: { maxBodyBytes: 4_194_304, maxMessageBytes: 4_194_304 },
        allowedOrigins: [],
        allowedHosts: [],
        audit: { enabled: true, arguments: false, redact: [], maxArgumentBytes: 2048, retentionMs: 7_776_000_000 },
      },
      servers: {
        'postgres-db': {
          name: 'postgres-db',
          transportType: 'stdio',
          command: 'docker',
          args: ['run', '--rm', '-i', 'mcp/postgres:1'],
          // mcp-front strips one pair of surrounding quotes from $env values.
          env: { DATABASE_URL: 'postgres://ro@db/acme', MODE: 'read-only' },
          timeoutMs: 120_000,
          toolFilter: { mode: 'block', list: ['drop_table'] },
          serviceAuths: [
            { type: 'bearer', tokens: ['literal-token', 'ci-token'] },
            { type: 'basic', username: 'ci', password: 'ci-password' },
          ],
          runnerGroup: 'eu-west',
        },
      },
    });
  });

  it('reads proxy.audit, and refuses what it cannot use', () => {
    const audit = { arguments: true, redact: ['ssn'], maxArgumentBytes: 512, retention: '720h' };
    const result = loadConfig(writeConfig(minimal({ db: stdio() }, { audit })), {});
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.config.proxy.audit).toEqual({
      enabled: true,
      arguments: true,
      redact: ['ssn'],
      maxArgumentBytes: 512,
      retentionMs: 2_592_000_000,
    });
    const bad = loadConfig(writeConfig(minimal({ db: stdio() }, { audit: { retention: '30d', arguments: 'yes' } })), {});
    expect(bad.ok ? [] : bad.problems.map((p) => p.path).sort()).toEqual(['proxy.audit.arguments', 'proxy.audit.retention']);
  });

  it('applies defaults and warns about servers nothing protects', () => {
    const result = loadConfig(writeConfig(minimal({ db: stdio() })), {});
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.config.proxy).toEqual({
      baseURL: 'https://mcp.example.com',
      basePath: '',
      addr: { host: '0.0.0.0', port: 8080 },
      name: 'Gatehouse',
      sessions: {
        timeoutMs: 300_000,
        cleanupIntervalMs: 60_000,
        maxPerUser: 10,
        replay: { messages: 256, bytes: 1_048_576 },
        pool: { size: 2, idleTimeoutMs: 300_000, inputTimeoutMs: 300_000, listTtlMs: 60_000 },
      },
      limits: { maxBodyBytes: 4 * 1024 * 1024, maxMessageBytes: 4 * 1024 * 1024 },
      allowedOrigins: [],
      allowedHosts: [],
      audit: { enabled: true, arguments: false, redact: [], maxArgumentBytes: 2048, retentionMs: 7_776_000_000 },
    });
    expect(result.config.servers.db).toEqual({
      name: 'db',
      transportType: 'stdio',
      command: 'node',
      args: [],
      env: {},
      timeoutMs: 30_000,
      serviceAuths: [],
      runnerGroup: 'default',
    });
    expect(result.warnings).toEqual([
      'mcpServers.db: no serviceAuths and no proxy.auth, so anyone who can reach Gatehouse can use this server',
    ]);
  });

  it('accepts the Gatehouse additions', () => {
    const config = minimal(
      { db: stdio({ runnerGroup: 'db-net' }) },
      { limits: { maxBodyBytes: 1024, maxMessageBytes: 65536 }, addr: '[::1]:8443' },
    );
    const result = loadConfig(writeConfig(config), {});
    if (!result.ok) throw new Error(formatProblems(result.problems));
    expect(result.config.proxy.limits).toEqual({ maxBodyBytes: 1024, maxMessageBytes: 65536 });
    expect(result.config.proxy.addr).toEqual({ host: '::1', port: 8443 });
    expect(result.config.servers.db?.runnerGroup).toBe('db-net');
  });

  it('warns when there are no servers', () => {
    const result = loadConfig(writeConfig(minimal()), {});
    expect(result).toMatchObject({ ok: true, warnings: ['mcpServers: no servers are configured'] });
  });
});

describe('loadConfig: every problem names its JSON path', () => {
  const cases: [string, unknown, ConfigProblem][] = [
    [
      'a bad server name',
      minimal({ '-db': stdio() }),
      { path: 'mcpServers.-db', message: 'expected letters, digits, "_" or "-", starting with a letter or digit' },
    ],
    [
      'a server name with a space',
      minimal({ 'my db': stdio() }),
      { path: 'mcpServers["my db"]', message: 'expected letters, digits, "_" or "-", starting with a letter or digit' },
    ],
    ['an unknown top-level key', { ...minimal(), mcpServer: {} }, { path: 'mcpServer', message: 'unknown key' }],
    ['an unknown nested key', minimal({}, { sessions: { timout: '5m' } }), { path: 'proxy.sessions.timout', message: 'unknown key' }],
    ['an unknown server key', minimal({ db: stdio({ comand: 'x' }) }), { path: 'mcpServers.db.comand', message: 'unknown key' }],
    [
      'an unknown key in $env',
      minimal({ db: stdio({ command: { $env: 'CMD', default: 'x' } }) }),
      { path: 'mcpServers.db.command.default', message: 'unknown key' },
    ],
    [
      'a missing command',
      minimal({ db: { transportType: 'stdio', args: ['x'] } }),
      { path: 'mcpServers.db.command', message: 'required when transportType is "stdio"' },
    ],
    [
      'an empty command',
      minimal({ db: stdio({ command: '' }) }),
      { path: 'mcpServers.db.command', message: 'required when transportType is "stdio"' },
    ],
    [
      'a missing transportType',
      minimal({ db: { command: 'node' } }),
      { path: 'mcpServers.db.transportType', message: 'required: expected "stdio" | "sse" | "streamable-http" | "inline"' },
    ],
    [
      'an unknown transportType',
      minimal({ db: stdio({ transportType: 'grpc' }) }),
      { path: 'mcpServers.db.transportType', message: 'expected "stdio" | "sse" | "streamable-http" | "inline"' },
    ],
    [
      'a bad duration',
      minimal({}, { sessions: { timeout: '5 minutes' } }),
      {
        path: 'proxy.sessions.timeout',
        message: expect.stringContaining('invalid duration "5 minutes": expected a duration such as') as string,
      },
    ],
    [
      'a bad server timeout',
      minimal({ db: stdio({ timeout: '30' }) }),
      { path: 'mcpServers.db.timeout', message: expect.stringContaining('invalid duration "30"') as string },
    ],
    [
      'a wrong type in args',
      minimal({ db: stdio({ args: ['a', 'b', 5] }) }),
      { path: 'mcpServers.db.args[2]', message: 'expected a string, {"$env": "VAR"} or {"$userToken": "…{{token}}…"}' },
    ],
    [
      'a wrong scalar type',
      minimal({}, { sessions: { maxPerUser: '10' } }),
      { path: 'proxy.sessions.maxPerUser', message: 'expected number, got string' },
    ],
    [
      'a URL in allowedHosts',
      minimal({}, { allowedHosts: ['https://mcp.internal.example'] }),
      { path: 'proxy.allowedHosts[0]', message: 'expected a host name such as "mcp.internal.example" (no scheme, port or path)' },
    ],
    [
      'a zero replay buffer',
      minimal({}, { sessions: { replay: { messages: 0 } } }),
      { path: 'proxy.sessions.replay.messages', message: expect.stringContaining('>0') as string },
    ],
    [
      'a non-positive limit',
      minimal({}, { limits: { maxBodyBytes: 0 } }),
      { path: 'proxy.limits.maxBodyBytes', message: expect.stringContaining('>0') as string },
    ],
    [
      'a fractional message limit',
      minimal({}, { limits: { maxMessageBytes: 1.5 } }),
      { path: 'proxy.limits.maxMessageBytes', message: expect.stringContaining('int') as string },
    ],
    ['a missing version', { proxy: { baseURL: 'https://x.test' }, mcpServers: {} }, { path: 'version', message: 'required' }],
    [
      'no baseURL with a free port',
      { version: 'v1', proxy: { addr: '127.0.0.1:0' }, mcpServers: {} },
      { path: 'proxy.baseURL', message: 'required when proxy.addr picks a free port (port 0)' },
    ],
    [
      'a relative baseURL',
      minimal({}, { baseURL: 'mcp.example.com' }),
      { path: 'proxy.baseURL', message: 'expected an absolute http(s) URL such as "https://mcp.example.com"' },
    ],
    [
      'a non-http baseURL',
      minimal({}, { baseURL: 'ftp://mcp.example.com' }),
      { path: 'proxy.baseURL', message: 'expected an absolute http(s) URL such as "https://mcp.example.com"' },
    ],
    [
      'a baseURL with a query',
      minimal({}, { baseURL: 'https://mcp.example.com/?x=1' }),
      { path: 'proxy.baseURL', message: 'expected a URL without query, fragment or credentials' },
    ],
    [
      'a bad addr',
      minimal({}, { addr: '8080' }),
      { path: 'proxy.addr', message: expect.stringContaining('invalid listen address "8080": expected HOST:PORT') as string },
    ],
    [
      'empty bearer tokens',
      minimal({ db: stdio({ serviceAuths: [{ type: 'bearer', tokens: [] }] }) }),
      { path: 'mcpServers.db.serviceAuths[0].tokens', message: 'expected at least one token' },
    ],
    [
      'an empty bearer token',
      minimal({ db: stdio({ serviceAuths: [{ type: 'bearer', tokens: [''] }] }) }),
      { path: 'mcpServers.db.serviceAuths[0].tokens[0]', message: 'expected a non-empty value' },
    ],
    [
      'a basic auth without password',
      minimal({ db: stdio({ serviceAuths: [{ type: 'basic', username: 'u' }] }) }),
      { path: 'mcpServers.db.serviceAuths[0].password', message: 'required' },
    ],
    [
      'an unknown serviceAuth type',
      minimal({ db: stdio({ serviceAuths: [{ type: 'apikey' }] }) }),
      { path: 'mcpServers.db.serviceAuths[0].type', message: expect.stringContaining("'bearer' | 'basic'") as string },
    ],
    [
      'a toolFilter mode',
      minimal({ db: stdio({ options: { toolFilter: { mode: 'deny', list: [] } } }) }),
      { path: 'mcpServers.db.options.toolFilter.mode', message: 'expected "allow" | "block"' },
    ],
    [
      'a bad runnerGroup',
      minimal({ db: stdio({ runnerGroup: 'eu west' }) }),
      { path: 'mcpServers.db.runnerGroup', message: 'expected letters, digits, "_" or "-", starting with a letter or digit' },
    ],
    [
      'a bad $env name',
      minimal({ db: stdio({ command: { $env: 'MY-VAR' } }) }),
      { path: 'mcpServers.db.command.$env', message: 'expected an environment variable name' },
    ],
  ];

  it.each(cases)('%s', (_name, config, problem) => {
    expect(problemsOf(loadConfig(writeConfig(config), {}))).toEqual([problem]);
  });

  it('names the path and the variable of an unset or empty $env, never a value', () => {
    const config = minimal({
      db: stdio({
        env: { DB_PASSWORD: { $env: 'DB_PASSWORD' }, OTHER: { $env: 'PRESENT' } },
        serviceAuths: [{ type: 'bearer', tokens: [{ $env: 'EMPTY_TOKEN' }] }],
      }),
    });
    const problems = problemsOf(loadConfig(writeConfig(config), { EMPTY_TOKEN: '', PRESENT: 'present-secret' }));
    expect(problems).toEqual([
      { path: 'mcpServers.db.env.DB_PASSWORD', message: 'environment variable DB_PASSWORD is not set' },
      { path: 'mcpServers.db.serviceAuths[0].tokens[0]', message: 'environment variable EMPTY_TOKEN is empty' },
    ]);
    expect(JSON.stringify(problems)).not.toContain('present-secret');
  });

  it('reports an unset $env in proxy.baseURL at its path', () => {
    expect(problemsOf(loadConfig(writeConfig(minimal({}, { baseURL: { $env: 'PUBLIC_URL' } })), {}))).toEqual([
      { path: 'proxy.baseURL', message: 'environment variable PUBLIC_URL is not set' },
    ]);
  });

  it('reports several problems together', () => {
    const config = {
      version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
      proxy: { baseURL: 'https://mcp.example.com', sessions: { timeout: 'soon', maxPerUser: -1 }, port: 80 },
      mcpServers: {
        'bad name': stdio(),
        db: { transportType: 'stdio', args: [1] },
      },
    };
    const problems = problemsOf(loadConfig(writeConfig(config), {}));
    expect(problems.map((p) => p.path).sort()).toEqual(
      [
        'mcpServers["bad name"]',
        'mcpServers.db.args[0]',
        'mcpServers.db.command',
        'proxy.port',
        'proxy.sessions.maxPerUser',
        'proxy.sessions.timeout',
      ].sort(),
    );
  });

  it('reports every unset $env, not just the first', () => {
    const config = minimal(
      { a: stdio({ command: { $env: 'A_CMD' } }), b: stdio({ args: [{ $env: 'B_ARG' }] }) },
      { addr: { $env: 'ADDR' } },
    );
    expect(problemsOf(loadConfig(writeConfig(config), {})).map((p) => p.path)).toEqual([
      'proxy.addr',
      'mcpServers.a.command',
      'mcpServers.b.args[0]',
    ]);
  });
});

describe('loadConfig: unreadable and malformed files', () => {
  it('reports a missing file', () => {
    const file = join(dir, 'missing.json');
    expect(problemsOf(loadConfig(file, {}))).toEqual([{ path: '', message: `cannot read config file ${file}: no such file` }]);
  });

  it('reports a directory', () => {
    expect(problemsOf(loadConfig(dir, {}))).toEqual([{ path: '', message: `cannot read config file ${dir}: it is a directory` }]);
  });

  it('reports invalid JSON with its line and column', () => {
    const file = writeConfig('{\n  "version": "v1",\n  "proxy": {}\n  "mcpServers": {}\n}');
    expect(problemsOf(loadConfig(file, {}))).toEqual([
      { path: '', message: `invalid JSON in ${file}: Expected ',' or '}' after property value at line 4, column 3` },
    ]);
  });

  it('never echoes the file in a JSON error, since it may hold a secret', () => {
    for (const text of ['{"token": s3cr3t}', '{"token": "s3cr3t" x}', '{"token": "s3cr3t"']) {
      const [problem] = problemsOf(loadConfig(writeConfig(text), {}));
      expect(problem?.message).toMatch(/^invalid JSON in /);
      expect(problem?.message).not.toContain('s3cr3t');
    }
  });

  it('accepts a byte-order mark', () => {
    expect(loadConfig(writeConfig(`\uFEFF${JSON.stringify(minimal())}`), {}).ok).toBe(true);
  });

  it('reports a document that is not an object', () => {
    expect(problemsOf(loadConfig(writeConfig('[]'), {}))).toEqual([{ path: '', message: 'expected object, got array' }]);
  });
});

describe('formatProblems', () => {
  it('writes one line per problem', () => {
    const text = formatProblems([
      { path: 'mcpServers.db.args[2]', message: 'expected a string' },
      { path: 'proxy.sessions.timeout', message: 'invalid duration "x"' },
      { path: '', message: 'invalid JSON in c.json: Unexpected end of JSON input' },
    ]);
    expect(text).toBe(
      'mcpServers.db.args[2]: expected a string\nproxy.sessions.timeout: invalid duration "x"\ninvalid JSON in c.json: Unexpected end of JSON input',
    );
  });
});
