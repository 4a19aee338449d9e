import { execFile } from 'node:child_process';
import { CLI, eventually, startOAuthTopology, TestOAuthProvider, type OAuthTopology, type TopologyKind } from '#testing';
import { EVERYTHING } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';
import { CLIENT_REDIRECT, connectWithOAuth } from './support/oauth-gateway.js';

const USERS = {
  ann: { sub: 'ann', email: 'ann@example.com', email_verified: true, groups: ['eng'] },
  sam: { sub: 'sam', email: 'sam@example.com', email_verified: true, groups: ['support'] },
};
const SERVICE_TOKEN = 'audit-service-token-0123456789abcdef';

const mcpServers = {
  everything: {
    transportType: 'stdio',
    command: process.execPath,
    args: [EVERYTHING, 'stdio'],
    options: { toolAccess: [{ tools: ['get-*'], groups: ['eng'] }] },
    serviceAuths: [{ type: 'bearer', tokens: [SERVICE_TOKEN] }],
  },
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

type Json = Record<string, unknown>;

/** The cases: all-in-one on SQLite keeping (redacted) arguments; separate processes on PostgreSQL with the defaults. */
const CASES: { kind: TopologyKind; storage: 'sqlite' | 'postgres'; audit?: Json }[] = [
  { kind: 'all-in-one', storage: 'sqlite', audit: { arguments: true, redact: ['message'] } },
  { kind: 'distributed', storage: 'postgres' },
];

describe.each(CASES)('the audit trail ($kind, $storage)', ({ kind, storage, audit }) => {
  let gw: OAuthTopology;

  /** `gatehouse audit` as an administrator runs it, with the gateway's environment (its data directory or DATABASE_URL). */
  const gatehouseAudit = (...args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'audit', '--config', gw.configPath, ...args],
        { env: { ...process.env, ...gw.env }, timeout: 30_000 },
        (err, stdout, stderr) => resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stdout, stderr }),
      );
    });
  const records = async (...args: string[]): Promise<Json[]> => {
    const run = await gatehouseAudit('--since', '10m', '--format', 'jsonl', ...args);
    expect(run).toMatchObject({ code: 0 });
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Json);
  };

  beforeAll(async () => {
    gw = await startOAuthTopology(kind, { users: USERS, mcpServers, storage, ...(audit && { audit }) });
  }, 60_000);

  afterAll(async () => {
    await gw?.stop();
  });

  it('records logins, consents, calls and refusals by who made them, and the CLI shows them', async () => {
    gw.idp.loginAs('ann');
    const ann = await connectWithOAuth(gw, new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT }));
    expect(textOf(await ann.callTool({ name: 'echo', arguments: { message: 'for the record' } }))).toContain('for the record');
    expect(textOf(await ann.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } }))).toContain('5');
    await ann.close();
    gw.idp.loginAs('sam');
    const sam = await connectWithOAuth(gw, new TestOAuthProvider({ redirectUrl: CLIENT_REDIRECT }));
    await expect(sam.callTool({ name: 'get-sum', arguments: { a: 1, b: 1 } })).rejects.toThrow('Tool get-sum is not available');
    await sam.close();
    const { client: service } = await connectStreamable(`${gw.baseURL}/everything/mcp`, bearer(SERVICE_TOKEN));
    await service.listTools();
    await service.close();

    // Runners send their records about once a second.
    let all: Json[] = [];
    await eventually(
      async () => (all = await records()).filter((r) => r.kind === 'tools/call').length === 3,
      'three calls recorded',
      15_000,
    );
    const calls = all.filter((r) => r.kind === 'tools/call');
    const annCall = { kind: 'tools/call', sub: 'oidc:ann', email: 'ann@example.com', server: 'everything', clientId: expect.any(String) };
    expect(calls).toEqual([
      {
        ...annCall,
        time: expect.any(String),
        id: expect.any(String),
        name: 'echo',
        outcome: 'ok',
        durationMs: expect.any(Number),
        requestBytes: expect.any(Number),
        ...(audit && { arguments: '{"message":"[redacted]"}' }),
      },
      {
        ...annCall,
        time: expect.any(String),
        id: expect.any(String),
        name: 'get-sum',
        outcome: 'ok',
        durationMs: expect.any(Number),
        requestBytes: expect.any(Number),
        ...(audit && { arguments: '{"a":2,"b":3}' }),
      },
      {
        kind: 'tools/call',
        sub: 'oidc:sam',
        email: 'sam@example.com',
        server: 'everything',
        clientId: expect.any(String),
        time: expect.any(String),
        id: expect.any(String),
        name: 'get-sum',
        outcome: 'refused',
        errorCode: -32602,
        durationMs: expect.any(Number),
        requestBytes: expect.any(Number),
        ...(audit && { arguments: '{"a":1,"b":1}' }),
      },
    ]);
    expect(calls[0]?.clientId).not.toBe(calls[2]?.clientId);
    expect(all.filter((r) => r.kind === 'login')).toEqual([
      expect.objectContaining({ outcome: 'ok', sub: 'oidc:ann', email: 'ann@example.com', clientId: calls[0]?.clientId }),
      expect.objectContaining({ outcome: 'ok', sub: 'oidc:sam', email: 'sam@example.com', clientId: calls[2]?.clientId }),
    ]);
    expect(all.filter((r) => r.kind === 'consent').map((r) => [r.outcome, r.email, r.detail])).toEqual([
      ['ok', 'ann@example.com', `${gw.baseURL}/everything`],
      ['ok', 'sam@example.com', `${gw.baseURL}/everything`],
    ]);
    // The service's listTools is not audited: only calls, reads and prompt gets are.
    expect(all.some((r) => r.sub !== 'oidc:ann' && r.sub !== 'oidc:sam')).toBe(false);
    expect(JSON.stringify(all)).not.toContain('for the record');
  });

  it('filters by person and server, prints a table, and refuses what it cannot read', async () => {
    expect((await records('--user', 'sam@example.com')).map((r) => r.kind)).toEqual(['login', 'consent', 'tools/call']);
    expect(await records('--user', 'nobody@example.com')).toEqual([]);
    const table = await gatehouseAudit('--since', '1h', '--server', 'everything');
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+KIND\s+OUTCOME\s+USER\s+CLIENT\s+SERVER\s+NAME\s+MS\s+BYTES\s+DETAIL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/).slice(1, 4))).toEqual([
      ['tools/call', 'ok', 'ann@example.com'],
      ['tools/call', 'ok', 'ann@example.com'],
      ['tools/call', 'refused', '(-32602)'],
    ]);
    const limited = await gatehouseAudit('--since', '1h', '--limit', '1', '--format', 'jsonl');
    expect(limited.stdout.trim().split('\n')).toHaveLength(1);
    expect(limited.stderr).toContain('showing the first 1 records');
    expect(await gatehouseAudit('--server', 'nope')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('there is no server "nope"'),
    });
    expect(await gatehouseAudit('--since', 'yesterday')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('--since expects a duration'),
    });
    expect(await gatehouseAudit('--format', 'xml')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('Allowed choices are table, jsonl'),
    });
  });
});
