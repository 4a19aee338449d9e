import { rmSync } from 'node:fs';
import { eventually, freePort, startTopology, type Topology, type TopologyKind } from '#testing';
import { GATEWAY_ENV, TOKENS, writeGatewayConfig } from './support/gateway-config.js';
import { bearer, connectStreamable, textOf } from './support/mcp-clients.js';
import { scrape, type Scrape } from './support/metrics-scrape.js';
import { INIT, JSON_HEADERS, rawPost } from './support/raw-mcp.js';

type Command = 'serve' | 'edge' | 'auth' | 'runner';

const EVERYTHING = { server: 'everything' };

describe.each<TopologyKind>(['all-in-one', 'distributed'])('metrics (%s)', (kind) => {
  let topology: Topology;
  let configDir: string;
  /** Each process's --metrics-addr, by command. */
  const metricsAddr = new Map<Command, string>();
  const all = () => scrape(...metricsAddr.values());
  const of = (command: Command) => scrape(metricsAddr.get(command) ?? '');

  beforeAll(async () => {
    const config = writeGatewayConfig({
      maxPerUser: 4,
      runnerGroup: `metrics${Date.now().toString(36)}${kind === 'all-in-one' ? 'a' : 'd'}`,
    });
    configDir = config.dir;
    const commands: Command[] = kind === 'all-in-one' ? ['serve'] : ['runner', 'auth', 'edge'];
    for (const command of commands) metricsAddr.set(command, `127.0.0.1:${await freePort()}`);
    topology = await startTopology(kind, config.path, {
      env: GATEWAY_ENV,
      runnerCount: 1,
      args: (command) => ['--metrics-addr', metricsAddr.get(command) ?? ''],
    });
  }, 60000);

  afterAll(async () => {
    rmSync(configDir, { recursive: true, force: true });
    await topology?.stop();
  });

  it('serves /metrics on each process’s own listener with the default Node metrics, and never on the public port', async () => {
    for (const address of metricsAddr.values()) {
      const one = await scrape(address);
      expect(one.sum('process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(one.text).toContain('# TYPE gatehouse_mcp_request_duration_seconds histogram');
    }
    for (const path of ['/metrics', '/everything/metrics']) expect((await fetch(`${topology.url}${path}`)).status).toBe(404);
  });

  it('counts an MCP session: requests by method and outcome, timed; sessions, streams and processes up, then down after DELETE', async () => {
    const before = await all();
    const { client, transport } = await connectStreamable(`${topology.url}/everything/mcp`, bearer(TOKENS.bob));
    const sessionId = transport.sessionId ?? '';
    expect(sessionId).not.toBe('');
    const result = await client.callTool({ name: 'echo', arguments: { message: 'metered' } });
    expect(textOf(result)).toContain('metered');

    const edge = await of(kind === 'all-in-one' ? 'serve' : 'edge');
    const call = { ...EVERYTHING, method: 'tools/call', outcome: 'ok' };
    expect(edge.sum('gatehouse_mcp_requests_total', call) - before.sum('gatehouse_mcp_requests_total', call)).toBeGreaterThanOrEqual(1);
    const count = 'gatehouse_mcp_request_duration_seconds_count';
    expect(edge.sum(count, call) - before.sum(count, call)).toBeGreaterThanOrEqual(1);
    expect(edge.sum('gatehouse_mcp_request_duration_seconds_bucket', { ...call, le: '+Inf' })).toBe(edge.sum(count, call));
    expect(edge.sum('gatehouse_mcp_requests_total', { ...EVERYTHING, method: 'initialize', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    const posted = { route: '/:server/mcp', method: 'POST', status_class: '2xx' };
    expect(edge.sum('gatehouse_http_requests_total', posted)).toBeGreaterThanOrEqual(2);
    expect(
      edge.sum('gatehouse_bus_request_duration_seconds_count', { subject: 'gh.runner.*.session.*.in', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      edge.sum('gatehouse_bus_request_duration_seconds_count', { subject: 'gh.runner.*.session.open', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);

    const open = async (expected: number) => {
      const now: Scrape = await all();
      return (
        now.sum('gatehouse_open_sessions', EVERYTHING) === expected &&
        now.sum('gatehouse_backend_processes', EVERYTHING) === expected &&
        now.sum('gatehouse_open_streams', EVERYTHING) === expected
      );
    };
    // The SDK client opens its GET stream once initialized, in the background.
    await eventually(() => open(1), 'expected one open session, backend process and stream');
    const runner = await of(kind === 'all-in-one' ? 'serve' : 'runner');
    expect(runner.sum('gatehouse_open_sessions', EVERYTHING)).toBe(1);

    await transport.terminateSession();
    await client.close();
    await eventually(() => open(0), 'expected the session, its backend process and its stream gone after DELETE');
    const after = await all();
    const deleted = { route: '/:server/mcp', method: 'DELETE', status: '200' };
    expect(after.sum('gatehouse_http_requests_total', deleted) - before.sum('gatehouse_http_requests_total', deleted)).toBe(1);
    expect(after.sum('gatehouse_backend_spawn_failures_total')).toBe(0);
    // Bounded labels: no session id, no caller, no tool argument.
    for (const secret of [sessionId, TOKENS.bob, 'metered']) expect(after.text).not.toContain(secret);
  }, 30000);

  it('counts a refused request as refused, under the server and method it named', async () => {
    const refused = { ...EVERYTHING, method: 'initialize', outcome: 'refused' };
    const before = (await all()).sum('gatehouse_mcp_requests_total', refused);
    const res = await rawPost(`${topology.url}/everything/mcp`, JSON.stringify(INIT), JSON_HEADERS);
    expect(res.status).toBe(401);
    await rawPost(`${topology.url}/no-such-server/mcp`, JSON.stringify(INIT), { ...JSON_HEADERS, authorization: bearer(TOKENS.bob) });
    const after = await all();
    expect(after.sum('gatehouse_mcp_requests_total', refused) - before).toBe(1);
    expect(after.sum('gatehouse_mcp_requests_total', { server: 'other', method: 'initialize', outcome: 'refused' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(after.text).not.toContain('no-such-server');
    expect(after.sum('gatehouse_http_requests_total', { route: '/:server/mcp', status: '401' })).toBeGreaterThanOrEqual(1);
  });
});
