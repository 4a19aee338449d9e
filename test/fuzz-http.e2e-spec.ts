import fc from 'fast-check';
import { assertFuzz, childPids, eventually, fuzzRun, isAlive, type GatewayProcess } from '#testing';
import { startFuzzGateway, type FuzzGateway } from './support/fuzz-gateway.js';
import { FUZZ_SERVERS, fuzzRequests, type FuzzServer } from './support/fuzz-http-requests.js';
import { LiveSessions } from './support/fuzz-sessions.js';
import { exchange } from './support/http-exchange.js';
import { describeRequest, HttpFuzzHarness } from './support/http-fuzz-harness.js';
import { FuzzVerdict } from './support/http-fuzz-verdict.js';
import { errorLines, OutputCursor } from './support/log-lines.js';
import { connectStreamable, textOf } from './support/mcp-clients.js';

const RUN = fuzzRun(1000);
/** The whole property, shrinking included; 1,000 cases take about 20 s on 2 busy cores. */
const TIME_LIMIT_MS = 150_000;

describe('HTTP fuzz: every route of gatehouse serve with OAuth, bearer, basic and OAuth-only servers', () => {
  let gateway: FuzzGateway;
  let serve: GatewayProcess;
  let sessions: LiveSessions;
  let harness: HttpFuzzHarness;
  const authorization = (server: FuzzServer) => gateway.authorization({ kind: 'own' }, server) ?? '';

  beforeAll(async () => {
    gateway = await startFuzzGateway('all-in-one');
    const [process] = gateway.oauth.gateway.all;
    if (!process) throw new Error('no gateway process');
    serve = process;
    sessions = new LiveSessions(gateway.oauth.baseURL, authorization);
    harness = new HttpFuzzHarness(gateway, sessions);
  }, 60_000);

  afterAll(async () => {
    try {
      await sessions?.closeAll();
    } finally {
      await gateway?.oauth.stop();
    }
  });

  it(
    `answers ${RUN.numRuns} fuzzed requests (seed ${RUN.seed}) without a 5xx, a hang, a crash or an error-level log line`,
    async () => {
      expect(errorLines(serve.output())).toEqual([]);
      const verdict = new FuzzVerdict(serve);
      const site = { baseURL: gateway.oauth.baseURL, clientId: gateway.clientId };
      const property = fc.asyncProperty(fuzzRequests(site), async (request) => {
        const raw = await harness.resolve(request);
        await verdict.started(raw);
        const answer = await harness.send(request, raw).catch((err: unknown) => {
          throw new Error(`${describeRequest(raw)}\n→ ${String(err)}`);
        });
        const problems = verdict.judge(raw, answer);
        if (problems.length > 0) throw new Error(`${describeRequest(raw)}\n→ ${problems.join('\n')}`);
      });
      const { numRuns } = await assertFuzz(property, RUN, TIME_LIMIT_MS);
      // One more exchange gives the last case's lines time to arrive.
      await (await fetch(`${gateway.oauth.baseURL}/health`)).text();
      verdict.collectLate();
      const { tally } = harness;
      console.log(
        `HTTP fuzz: ${numRuns} cases, ${tally.requests} requests; statuses ${JSON.stringify(Object.fromEntries(tally.byStatus))}; ` +
          `${sessions.opened} harness sessions, ${tally.strayOpened} opened by fuzzed initializes`,
      );
      expect(numRuns).toBe(RUN.numRuns);
      expect(tally.strayCloseFailed).toEqual([]);
    },
    TIME_LIMIT_MS + 30_000,
  );

  // Bugs the fuzz found, kept at their smallest.
  it('answers a session message nested 10,000 levels with 400 and no error log', async () => {
    const log = new OutputCursor(() => serve.output());
    log.next();
    const sessionId = await sessions.id({ kind: 'live', server: 'bearer', transport: 'streamable-http' });
    const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const body = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":${nested}}}}`;
    const headers = {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: authorization('bearer'),
      'mcp-session-id': sessionId,
    };
    const answer = await exchange(gateway.oauth.baseURL, { method: 'POST', path: '/bearer/mcp', headers, body }, 10_000);
    expect({ status: answer.status, errors: errorLines(log.next()).length }).toEqual({ status: 400, errors: 0 });
  });

  it('answers an initialize without params with 400 and starts no backend', async () => {
    const before = childPids(serve.pid).length;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    const headers = { 'content-type': 'application/json', accept: 'application/json', authorization: authorization('bearer') };
    const answer = await exchange(gateway.oauth.baseURL, { method: 'POST', path: '/bearer/mcp', headers, body }, 10_000);
    expect({ status: answer.status, backends: childPids(serve.pid).length }).toEqual({ status: 400, backends: before });
  });

  it('still serves the real MCP client on every server, then holds no backend once sessions end', async () => {
    const log = new OutputCursor(() => serve.output());
    log.next();
    for (const server of FUZZ_SERVERS) {
      const { client, transport } = await connectStreamable(`${gateway.oauth.baseURL}/${server}/mcp`, authorization(server));
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: `after the fuzz on ${server}` } }))).toContain(server);
      await transport.terminateSession();
      await client.close();
    }
    await sessions.closeAll();
    await eventually(() => childPids(serve.pid).length === 0, `backends left behind: ${childPids(serve.pid).join(', ')}`, 15_000);
    expect(isAlive(serve.pid)).toBe(true);
    expect(errorLines(log.next()).map((l) => l.raw)).toEqual([]);
  }, 60_000);

  it('shuts down on SIGTERM within its grace period, ending the backends of open sessions', async () => {
    for (const server of FUZZ_SERVERS) await sessions.id({ kind: 'live', server, transport: 'streamable-http' });
    const backends = childPids(serve.pid);
    expect(backends.length).toBe(FUZZ_SERVERS.length);
    expect(await gateway.oauth.gateway.stop()).toEqual({ forced: 0 });
    await eventually(() => backends.every((pid) => !isAlive(pid)), `backends outlived the gateway: ${backends.filter(isAlive).join(', ')}`);
  }, 30_000);
});
