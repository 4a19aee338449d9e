import fc from 'fast-check';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { AckReplySchema, AuthHttpResponseSchema, decode } from '#contracts';
import {
  assertFuzz,
  descendantPids,
  eventually,
  fuzzRun,
  isAlive,
  type GatewayProcess,
  startPrivateNatsServer,
  type PrivateNatsServer,
} from '#testing';
import { BusAttacker, openedBy, type BusOutcome } from './support/bus-attacker.js';
import { busActions, payloadBytes, type BusAction } from './support/bus-fuzz-actions.js';
import { contractOf, sniffTargets, type BusTarget } from './support/bus-fuzz-targets.js';
import { Bystander, resolved, templated, type LiveIds } from './support/bus-bystander.js';
import { startFuzzGateway, type FuzzGateway } from './support/fuzz-gateway.js';
import type { FuzzServer } from './support/fuzz-http-requests.js';
import { ErrorLogWatch } from './support/log-lines.js';
import { connectStreamable, textOf } from './support/mcp-clients.js';

/** This suite's own nats-server: an attacker floods it, nobody else must notice. */
const NATS_PORT = 4314;
const RUN = fuzzRun(500);
const TIME_LIMIT_MS = 90_000;

describe('bus fuzz: an attacker on NATS against separate edge, auth and runner processes', () => {
  let nats: PrivateNatsServer;
  let gateway: FuzzGateway;
  let attackerConnection: NatsConnection;
  let attacker: BusAttacker;
  let targets: BusTarget[];
  let bystander: Bystander;
  let watch: ErrorLogWatch<BusAction>;
  const runnerIds = new Set<string>();
  const authorization = (server: FuzzServer) => gateway.authorization({ kind: 'own' }, server) ?? '';
  const processes = (): GatewayProcess[] => gateway.oauth.gateway.all;

  beforeAll(async () => {
    nats = await startPrivateNatsServer(NATS_PORT);
    gateway = await startFuzzGateway('distributed', { NATS_URL: nats.url });
    watch = new ErrorLogWatch(processes().map((p, i) => ({ name: `${p.args[0] ?? 'gatehouse'}#${i}`, output: () => p.output() })));
    attackerConnection = await connect({ servers: nats.url, name: 'fuzz attacker' });
    attacker = new BusAttacker(attackerConnection);
    bystander = new Bystander(attackerConnection, `${gateway.oauth.baseURL}/bearer/mcp`, authorization('bearer'));
    let ids: LiveIds | undefined;
    targets = await sniffTargets(attackerConnection, async () => {
      ids = await bystander.ensure();
      await useTheGateway();
    });
    if (!ids) throw new Error('no bystander session');
    runnerIds.add(ids.runnerId);
    targets = templated(targets, ids);
  }, 90_000);

  afterAll(async () => {
    try {
      await bystander?.close();
      await attackerConnection?.close();
    } finally {
      await gateway?.oauth.stop();
      await nats?.close();
    }
  });

  /** Beside the bystander's session: a session that closes, readiness, metadata and keys. */
  async function useTheGateway(): Promise<void> {
    const base = gateway.oauth.baseURL;
    const closing = await connectStreamable(`${base}/open/mcp`, authorization('open'));
    await closing.client.listTools();
    await closing.transport.terminateSession();
    await closing.client.close();
    for (const path of ['/ready', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json'])
      await (await fetch(base + path)).text();
  }

  it('sees every kind of subject the services listen on during a real session', () => {
    const seen = new Set(targets.map((t) => t.contract?.name).filter((name) => name !== undefined));
    for (const name of ['session.open', 'session.in', 'session.attach', 'session.close', 'session.closed', 'edge.stream', 'runner.ping']) {
      expect(seen).toContain(name);
    }
    expect(seen).toContain('auth.http');
    expect(seen).toContain('kv.session-route');
    expect(runnerIds.size).toBeGreaterThan(0);
  });

  it(
    `survives ${RUN.numRuns} bus messages (seed ${RUN.seed}): no crash, no error log, replies by contract`,
    async () => {
      const property = fc.asyncProperty(busActions(withUnseenSubjects(targets)), async (template) => {
        const live = await bystander.ensure();
        runnerIds.add(live.runnerId);
        const action = resolved(template, live);
        await watch.started(action);
        const outcome = await attacker.send(action);
        watch.ended();
        bystander.sawAction(action);
        const runner = openedBy(outcome);
        if (runner && action.subject.endsWith('.session.open')) runnerIds.add(runner);
        const problems = [...deadProcesses(processes()), ...brokenReply(action, outcome), ...errorsOf(watch, action)];
        if (problems.length > 0) throw new Error(`${describeAction(action)}\n→ ${problems.join('\n')}`);
      });
      const { numRuns } = await assertFuzz(property, RUN, TIME_LIMIT_MS);
      const outcomes = JSON.stringify(Object.fromEntries(attacker.outcomes));
      console.log(`bus fuzz: ${numRuns} messages to ${targets.length} subjects; ${bystander.renewals} bystander sessions; ${outcomes}`);
      expect(numRuns).toBe(RUN.numRuns);
      // A round trip to every service gives the last messages' lines time to arrive.
      await (await fetch(`${gateway.oauth.baseURL}/ready`)).text();
      expect([...errorsOf(watch, undefined), ...late]).toEqual([]);
    },
    TIME_LIMIT_MS + 30_000,
  );

  // Bugs the fuzz found, kept at their smallest.
  it('answers a relayed request with an empty url by contract (refused), with no error log', async () => {
    const request = { method: 'GET', url: '', headers: {}, body: '', clientIp: '127.0.0.1' };
    const action: BusAction = { subject: 'gh.auth.http', payload: JSON.stringify(request), mode: 'request' };
    await watch.started(action);
    const reply = await attackerConnection.request(action.subject, action.payload, { timeout: 5000 });
    watch.ended();
    const answer = decode(AuthHttpResponseSchema, reply.data);
    expect({ status: answer.ok ? answer.value.status : 'malformed', errors: errorsOf(watch, action) }).toEqual({ status: 400, errors: [] });
  });

  it('refuses a session message whose stream is no stream subject, instead of answering there', async () => {
    const live = await bystander.ensure();
    const payload = JSON.stringify({ messages: [{ jsonrpc: '2.0', id: 'probe', method: 'ping' }], stream: 'gh.auth.http' });
    const action: BusAction = { subject: `gh.runner.${live.runnerId}.session.${live.sessionId}.in`, payload, mode: 'request' };
    await watch.started(action);
    const reply = await attackerConnection.request(action.subject, payload, { timeout: 5000 });
    watch.ended();
    expect(decode(AckReplySchema, reply.data)).toEqual({
      ok: true,
      value: { ok: false, error: { code: 'BAD_REQUEST', message: expect.any(String) } },
    });
  });

  it('still serves a real MCP call on a new session, is ready, and leaves no backend behind', async () => {
    await attacker.closeOpened([...runnerIds]);
    for (const server of ['bearer', 'open'] as const) {
      const { client, transport } = await connectStreamable(`${gateway.oauth.baseURL}/${server}/mcp`, authorization(server));
      expect(textOf(await client.callTool({ name: 'echo', arguments: { message: `after the bus fuzz on ${server}` } }))).toContain(server);
      await transport.terminateSession();
      await client.close();
    }
    await bystander.close();
    expect((await fetch(`${gateway.oauth.baseURL}/ready`)).status).toBe(200);
    const runners = processes().filter((p) => p.args[0] === 'runner');
    const backends = () => runners.flatMap((r) => descendantPids(r.pid));
    await eventually(() => backends().length === 0, `backends left behind: ${backends().join(', ')}`, 15_000);
    expect(deadProcesses(processes())).toEqual([]);
    expect([...errorsOf(watch, undefined), ...late]).toEqual([]);
    if (process.env.FUZZ_TRACE)
      for (const p of processes())
        process.stderr.write(
          `${p.args[0]}:\n${p
            .output()
            .split('\n')
            .filter((l) => /"level":[45]0/.test(l))
            .map((l) => l.slice(0, 300))
            .join('\n')}\n`,
        );
  }, 60_000);
});

/** Subjects a short session may not show (JWKS and revocations are asked for at start-up). */
function withUnseenSubjects(targets: BusTarget[]): BusTarget[] {
  // An edge touches a session only after a second of waiting: a short session may show none.
  const touches = targets.filter((t) => t.subject.endsWith('.in')).map((t) => t.subject.replace(/\.in$/, '.touch'));
  const fixed = ['gh.auth.jwks.get', 'gh.auth.revocations.list', 'gh.auth.token.revoked', ...touches].filter(
    (s) => !targets.some((t) => t.subject === s),
  );
  return [...targets, ...fixed.map((subject) => ({ subject, sample: new TextEncoder().encode('{}'), contract: contractOf(subject) }))];
}

function deadProcesses(processes: readonly GatewayProcess[]): string[] {
  return processes.filter((p) => !isAlive(p.pid)).map((p) => `gatehouse ${p.args[0]} exited:\n${p.output().slice(-2000)}`);
}

/** A reply that does not decode with the subject's reply contract. */
function brokenReply(action: BusAction, outcome: BusOutcome): string[] {
  const schema = contractOf(action.subject)?.reply;
  if (outcome.kind !== 'reply' || schema === undefined) return [];
  const decoded = decode(schema, outcome.data);
  return decoded.ok ? [] : [`the reply breaks its contract (${decoded.error}): ${new TextDecoder().decode(outcome.data).slice(0, 300)}`];
}

/**
 * Error-level lines that reached the test after their message's case was over (a publish has no
 * reply to wait for), each with that message: reported after the run, so shrinking is not misled.
 */
const late: string[] = [];

/** This action's error-level lines; an earlier action's go to `late`. */
function errorsOf(watch: ErrorLogWatch<BusAction>, current: BusAction | undefined): string[] {
  const own: string[] = [];
  for (const { culprit, process, line } of watch.take()) {
    if (culprit === current) own.push(`error-level line from ${process}:\n${line.raw.slice(0, 1500)}`);
    else
      late.push(
        `error-level line from ${process} during ${culprit ? describeAction(culprit) : 'no fuzzed message'}:\n${line.raw.slice(0, 1500)}`,
      );
  }
  return own;
}

function describeAction(action: BusAction): string {
  const bytes = payloadBytes(action);
  const text = Buffer.from(bytes).toString('utf8');
  const payload = text.length > 400 ? `${text.slice(0, 400)}… (${bytes.length} bytes)` : text;
  const extra = `${action.headers ? ` headers ${JSON.stringify(action.headers)}` : ''}${action.reply ? ` reply-to ${action.reply}` : ''}`;
  return `${action.mode} ${action.subject}${extra}\npayload: ${payload}`;
}
