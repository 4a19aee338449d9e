import { PassThrough } from 'node:stream';
import { LocalBus, type BusMessage } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  SessionInRequestSchema,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  StreamMessageSchema,
  type JsonRpcMessage,
} from '#contracts';
import { createLogger } from '#observability';
import { AggregateBackend } from './aggregate.backend.js';
import { AggregateHub } from './aggregate-hub.js';

const OK = encode(AckReplySchema, { ok: true });
const NOT_FOUND = encode(AckReplySchema, { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'no such session' } });
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
/** Waits until `check` holds (a loaded machine may take longer than `settle`). */
async function until(check: () => boolean): Promise<void> {
  for (let waited = 0; !check(); waited += 5) {
    if (waited > 5000) throw new Error('the condition did not come true within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/**
 * A member runner over the bus, as the aggregate sees one: it opens sessions, takes messages and
 * answers tools/list with `tools[member]`; tools/call waits until the test answers it.
 */
class FakeMemberRunner {
  readonly received: { member: string; message: JsonRpcMessage }[] = [];
  readonly streams = new Map<string, string>();
  readonly tools: Record<string, string[]> = {};
  readonly silent = new Set<string>();
  /** Members that answer tools/list with this error, as a credential gate does. */
  readonly refusing = new Map<string, Record<string, unknown>>();
  dead = false;
  private readonly members = new Map<string, string>();

  constructor(private readonly bus: LocalBus) {
    bus.subscribe('gh.runner.members.session.open', (m) => this.open(m));
    bus.subscribe('gh.runner.r1.session.*.*', (m) => this.session(m));
  }

  /** The member sends a message on the session's stream. */
  send(member: string, message: JsonRpcMessage): void {
    const [sessionId, subject] = [...this.streams].find(([id]) => this.members.get(id) === member) ?? [];
    if (subject && sessionId) this.bus.publish(subject, encode(StreamMessageSchema, { sessionId, message }));
  }

  private open(msg: BusMessage): void {
    const request = decode(SessionOpenRequestSchema, msg.data);
    if (!request.ok) throw new Error(request.error);
    this.members.set(request.value.sessionId, request.value.server);
    msg.respond(encode(SessionOpenReplySchema, { ok: true, runnerId: 'r1', response: { jsonrpc: '2.0', id: 0, result: {} } }));
  }

  private session(msg: BusMessage): void {
    const [, , , , sessionId = '', verb] = msg.subject.split('.');
    const member = this.members.get(sessionId) ?? '';
    if (this.dead) return void msg.respond(NOT_FOUND);
    if (verb === 'attach') this.streams.set(sessionId, (JSON.parse(new TextDecoder().decode(msg.data)) as { attach: string }).attach);
    if (verb === 'in') {
      const request = decode(SessionInRequestSchema, msg.data);
      if (!request.ok) throw new Error(request.error);
      if (request.value.stream) this.streams.set(sessionId, request.value.stream);
      for (const message of request.value.messages) this.take(member, message);
    }
    msg.respond(OK);
  }

  private take(member: string, message: JsonRpcMessage): void {
    this.received.push({ member, message });
    const refusal = this.refusing.get(member);
    if (message.method === 'tools/list' && refusal) {
      setImmediate(() => this.send(member, { jsonrpc: '2.0', id: message.id, error: refusal }));
    } else if (message.method === 'tools/list' && !this.silent.has(member)) {
      const tools = (this.tools[member] ?? []).map((name) => ({ name, inputSchema: { type: 'object' } }));
      setImmediate(() => this.send(member, { jsonrpc: '2.0', id: message.id, result: { tools } }));
    }
  }
}

function setup(options: { maxConnsPerUser?: number; timeoutMs?: number } = {}) {
  const bus = new LocalBus();
  const runner = new FakeMemberRunner(bus);
  const hub = new AggregateHub(bus, 'agg-runner', log);
  hub.start();
  const members = ['db', 'git'].map((name) => ({ name, runnerGroup: 'members', timeoutMs: 1000 }));
  const discovery = { timeoutMs: options.timeoutMs ?? 1000, cacheTtlMs: 60_000, maxConnsPerUser: options.maxConnsPerUser ?? 0 };
  const principal = { sub: 'alice', method: 'oauth' as const };
  const aggregate = new AggregateBackend({ name: 'all', members, delimiter: '_', discovery }, principal, hub, log, {
    sessionId: 's1',
    sub: 'alice',
    server: 'all',
  });
  const toClient: JsonRpcMessage[] = [];
  aggregate.onmessage = (m) => toClient.push(m);
  runner.tools.db = ['query'];
  runner.tools.git = ['log', 'diff'];
  aggregate.send({
    jsonrpc: '2.0',
    id: 'init',
    method: 'initialize',
    params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'c', version: '1' } },
  });
  const answer = async (id: string | number) => {
    for (let i = 0; i < 100 && !toClient.some((m) => m.id === id); i++) await settle();
    return toClient.find((m) => m.id === id);
  };
  const close = async () => {
    await aggregate.close();
    hub.stop();
    await bus.close();
  };
  return { runner, aggregate, toClient, answer, close };
}

const list = (id: number): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/list' });
const call = (id: number, name: string): JsonRpcMessage => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } });

describe('AggregateBackend', () => {
  it("passes on unchanged a member's answer that the caller must connect a credential, then lists every member once connected", async () => {
    const { aggregate, runner, answer, close } = setup();
    const elicitation = { mode: 'url', elicitationId: 'e1', url: 'https://g.test/oauth/connect?service=git', message: 'Connect Git.' };
    const required = { code: -32042, message: 'Connect Git.', data: { elicitations: [elicitation] } };
    runner.refusing.set('git', required);
    aggregate.send(list(1));
    expect(await answer(1)).toEqual({ jsonrpc: '2.0', id: 1, error: required });
    const plain = {
      code: -32000,
      message: 'Connect Git. Connect it at https://g.test/my/tokens, then try again.',
      data: { connectUrl: 'https://g.test/my/tokens' },
    };
    runner.refusing.set('git', plain);
    aggregate.send(list(2));
    expect(await answer(2)).toEqual({ jsonrpc: '2.0', id: 2, error: plain });
    runner.refusing.delete('git');
    aggregate.send(list(3));
    expect(((await answer(3))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual([
      'db_query',
      'git_log',
      'git_diff',
    ]);
    await close();
  });

  it('leaves out a member that fails otherwise, listing the others', async () => {
    const { aggregate, runner, answer, close } = setup();
    runner.refusing.set('git', { code: -32603, message: 'internal error' });
    aggregate.send(list(1));
    expect(((await answer(1))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['db_query']);
    await close();
  });

  it('answers initialize itself, with the tools capability and list changes', async () => {
    const { answer, close } = setup();
    expect(await answer('init')).toMatchObject({
      result: { protocolVersion: '2025-11-25', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'all' } },
    });
    await close();
  });

  it("lists the members' tools once within the cache time", async () => {
    const { aggregate, runner, answer, close } = setup();
    aggregate.send(list(1));
    expect(((await answer(1))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual([
      'db_query',
      'git_log',
      'git_diff',
    ]);
    aggregate.send(list(2));
    await answer(2);
    expect(runner.received.filter((r) => r.message.method === 'tools/list')).toHaveLength(2);
    await close();
  });

  it('lists again after a member says its tools changed, and tells the client', async () => {
    const { aggregate, runner, answer, toClient, close } = setup();
    aggregate.send(list(1));
    await answer(1);
    runner.tools.git = ['log'];
    runner.send('git', { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await settle();
    expect(toClient).toContainEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    aggregate.send(list(2));
    expect(((await answer(2))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['db_query', 'git_log']);
    await close();
  });

  it("still shows a member's tools when it says they changed while another member is being listed", async () => {
    const { aggregate, runner, answer, close } = setup();
    runner.silent.add('db');
    aggregate.send(list(1));
    await settle();
    runner.send('git', { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    await settle();
    const asked = runner.received.find((r) => r.member === 'db' && r.message.method === 'tools/list');
    runner.send('db', { jsonrpc: '2.0', id: asked?.message.id, result: { tools: [{ name: 'query', inputSchema: { type: 'object' } }] } });
    expect(((await answer(1))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual([
      'db_query',
      'git_log',
      'git_diff',
    ]);
    await close();
  });

  it("routes a call under the member's own tool name and answers with the client's id", async () => {
    const { aggregate, runner, answer, close } = setup();
    aggregate.send(call(7, 'git_diff'));
    await until(() => runner.received.some((r) => r.message.method === 'tools/call'));
    const sent = runner.received.find((r) => r.message.method === 'tools/call');
    expect(sent).toMatchObject({ member: 'git', message: { params: { name: 'diff' } } });
    runner.send('git', { jsonrpc: '2.0', id: sent?.message.id, result: { content: [{ type: 'text', text: 'the diff' }] } });
    expect(await answer(7)).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'the diff' }] } });
    await close();
  });

  it("passes a client's cancel on under the aggregate's id, and drops the late answer", async () => {
    const { aggregate, runner, toClient, close } = setup();
    aggregate.send(call(7, 'db_query'));
    await until(() => runner.received.some((r) => r.message.method === 'tools/call'));
    const sent = runner.received.find((r) => r.message.method === 'tools/call');
    aggregate.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'enough' } });
    await until(() => runner.received.at(-1)?.message.method === 'notifications/cancelled');
    expect(runner.received.at(-1)).toEqual({
      member: 'db',
      message: { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: sent?.message.id, reason: 'enough' } },
    });
    runner.send('db', { jsonrpc: '2.0', id: sent?.message.id, result: {} });
    await settle();
    expect(toClient.filter((m) => m.id === 7)).toEqual([]);
    await close();
  });

  it("relays a member's request of the client under an id of its own, and the answer back", async () => {
    const { aggregate, runner, toClient, close } = setup();
    aggregate.send(call(7, 'db_query'));
    await settle();
    runner.send('db', { jsonrpc: '2.0', id: 3, method: 'sampling/createMessage', params: { messages: [] } });
    await settle();
    const asked = toClient.find((m) => m.method === 'sampling/createMessage');
    expect(asked?.id).not.toBe(3);
    aggregate.send({
      jsonrpc: '2.0',
      id: asked?.id ?? '',
      result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'ok' } },
    });
    await settle();
    expect(runner.received.at(-1)).toMatchObject({ member: 'db', message: { id: 3, result: { model: 'm' } } });
    await close();
  });

  it('leaves out a member that does not list its tools in time, and keeps the others', async () => {
    const { aggregate, runner, answer, close } = setup({ timeoutMs: 100 });
    runner.silent.add('git');
    aggregate.send(list(1));
    expect(((await answer(1))?.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toEqual(['db_query']);
    await close();
  });

  it('holds no more member connections per user than maxConnsPerUser', async () => {
    const { aggregate, answer, close } = setup({ maxConnsPerUser: 1 });
    aggregate.send(list(1));
    expect(((await answer(1))?.result as { tools: unknown[] }).tools).toHaveLength(1);
    await close();
  });

  it('fails a waiting call at once when its member session goes away', async () => {
    const { aggregate, runner, answer, close } = setup();
    aggregate.send(call(7, 'db_query'));
    await settle();
    runner.dead = true;
    const failed = await answer(7);
    expect(failed).toMatchObject({ id: 7, error: { code: -32000, message: expect.stringContaining('db went away') } });
    await close();
  }, 10_000);

  it('answers an unknown tool with -32602 and other methods with -32601', async () => {
    const { aggregate, answer, close } = setup();
    aggregate.send(call(7, 'nope'));
    aggregate.send({ jsonrpc: '2.0', id: 8, method: 'resources/list' });
    expect(await answer(7)).toMatchObject({ error: { code: -32602, message: 'Unknown tool: nope' } });
    expect(await answer(8)).toMatchObject({ error: { code: -32601 } });
    await close();
  });
});
