import { PassThrough } from 'node:stream';
import type { AuditRecord, JsonRpcMessage } from '#contracts';
import { createLogger, PrometheusMetrics } from '#observability';
import { nextTurn } from '#testing';
import { CallAudit } from '../audit/call-audit.js';
import type { BackendConnection } from '../backends/backend.port.js';
import { RunnerPool, type OpenSession } from './runner-pool.js';
import type { SessionRoutes } from './session-routes.js';

/** The route store as a map, with every write recorded; `failing` makes puts reject. */
class RecordingRoutes implements SessionRoutes {
  readonly routes = new Map<string, unknown>();
  readonly writes: string[] = [];
  failing = false;
  put(sessionId: string, route: unknown): Promise<void> {
    if (this.failing) return Promise.reject(new Error('KV down'));
    this.writes.push(`put ${sessionId}`);
    this.routes.set(sessionId, route);
    return Promise.resolve();
  }
  delete(sessionId: string): Promise<void> {
    this.writes.push(`delete ${sessionId}`);
    this.routes.delete(sessionId);
    return Promise.resolve();
  }
}

/** A backend that answers initialize at once, unless told to stay silent or to exit instead. */
class FakeBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  readonly sent: JsonRpcMessage[] = [];
  closes = 0;
  constructor(private readonly behaviour: 'answer' | 'silent' | 'exit' | 'refuse') {}
  start(): Promise<void> {
    return Promise.resolve();
  }
  send(message: JsonRpcMessage): void {
    this.sent.push(message);
    if (message.method !== 'initialize') return;
    if (this.behaviour === 'answer') this.onmessage?.({ jsonrpc: '2.0', id: message.id, result: { serverInfo: { name: 'fake' } } });
    if (this.behaviour === 'exit') setImmediate(() => this.onclose?.('the backend exited (code 1)'));
    if (this.behaviour === 'refuse')
      this.onmessage?.({ jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'unsupported protocol version' } });
  }
  close(): Promise<void> {
    this.closes += 1;
    return Promise.resolve();
  }
}

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

const REPLAY = { messages: 16, bytes: 65536 };

function setup(limits: { idleTimeoutMs: number; maxPerUser: number } = { idleTimeoutMs: 1000, maxPerUser: 2 }) {
  let clock = 0;
  const routes = new RecordingRoutes();
  const backends = new Map<string, FakeBackend>();
  const behaviour = new Map<string, 'silent' | 'exit' | 'refuse'>();
  const ended: Array<{ id: string; reason: string }> = [];
  const metrics = new PrometheusMetrics(['files', 'shell', 'admin']);
  const audited: AuditRecord[] = [];
  const auditConfig = { enabled: true, arguments: true, redact: ['pin'], maxArgumentBytes: 2048, retentionMs: 0 };
  const audit = new CallAudit(auditConfig, { record: (r) => void audited.push(r), close: () => Promise.resolve() }, () => clock);
  const servers = new Map([
    ['files', { name: 'files', timeoutMs: 30 }],
    ['shell', { name: 'shell', timeoutMs: 30, toolFilter: { mode: 'block' as const, list: ['rm'] } }],
    ['admin', { name: 'admin', timeoutMs: 30, toolAccess: [{ tools: ['delete_*'], groups: ['admins'] }] }],
  ]);
  const pool = new RunnerPool(
    servers,
    { ...limits, replay: REPLAY },
    {
      createBackend: (_server, context) => {
        const backend = new FakeBackend(behaviour.get(context.sessionId) ?? 'answer');
        backends.set(context.sessionId, backend);
        return backend;
      },
      sink: { publish: () => 0, deliver: () => Promise.resolve(true) },
      routes,
      runnerId: 'runner-1',
      log,
      metrics,
      now: () => clock,
      onEnded: (id, reason) => ended.push({ id, reason }),
      audit,
    },
  );
  const advance = (ms: number) => {
    clock += ms;
  };
  return { pool, backends, behaviour, ended, advance, routes, metrics, audited };
}

function openRequest(sessionId: string, sub: string, server = 'files'): OpenSession {
  return {
    sessionId,
    server,
    principal: { sub, method: 'bearer' },
    transport: 'streamable-http',
    initialize: { jsonrpc: '2.0', id: 1, method: 'initialize', params: {} },
  };
}

describe('RunnerPool', () => {
  it("opens a session and answers with the backend's initialize response", async () => {
    const { pool } = setup();
    const opened = await pool.open(openRequest('s1', 'alice'));
    expect(opened).toEqual({ ok: true, response: { jsonrpc: '2.0', id: 1, result: { serverInfo: { name: 'fake' } } } });
    expect(pool.size).toBe(1);
    expect(pool.get('s1')?.identity).toEqual({ id: 's1', sub: 'alice', server: 'files', transport: 'streamable-http' });
  });

  it('counts open sessions by server: up on open, down when they end, unchanged by a failed open', async () => {
    const { pool, behaviour, metrics } = setup();
    const open = async () => (await metrics.registry.getSingleMetric('gatehouse_open_sessions')?.get())?.values ?? [];
    await pool.open(openRequest('s1', 'alice'));
    await pool.open(openRequest('s2', 'bob', 'shell'));
    behaviour.set('s3', 'refuse');
    await pool.open(openRequest('s3', 'carol'));
    expect(await open()).toEqual(expect.arrayContaining([expect.objectContaining({ labels: { server: 'files' }, value: 1 })]));
    expect(await open()).toEqual(expect.arrayContaining([expect.objectContaining({ labels: { server: 'shell' }, value: 1 })]));
    await pool.get('s1')?.end('closed by the client');
    await pool.closeAll('shutdown');
    expect((await open()).map((v) => v.value)).toEqual([0, 0]);
  });

  it('records the route before it answers, and deletes it when the session ends', async () => {
    const { pool, routes } = setup();
    await pool.open(openRequest('s1', 'alice'));
    expect(routes.routes.get('s1')).toEqual({ runnerId: 'runner-1', sub: 'alice', server: 'files', transport: 'streamable-http' });
    await pool.get('s1')?.end('closed by the client');
    expect(routes.writes).toEqual(['put s1', 'delete s1']);
  });

  it('ends the session and answers UNAVAILABLE when its route cannot be recorded', async () => {
    const { pool, routes, backends } = setup();
    routes.failing = true;
    expect(await pool.open(openRequest('s1', 'alice'))).toEqual({
      ok: false,
      error: { code: 'UNAVAILABLE', message: 'the gateway could not record the session; try again' },
    });
    expect(backends.get('s1')?.closes).toBe(1);
    expect(pool.size).toBe(0);
  });

  it('reserves a legacy SSE session without starting its backend', async () => {
    const { pool, routes, backends } = setup();
    const reservation = { ...openRequest('s1', 'alice'), initialize: undefined, transport: 'sse' as const, stream: 'gh.edge.e.stream.x' };
    expect(await pool.open(reservation)).toEqual({ ok: true });
    expect(backends.get('s1')?.sent).toEqual([]);
    expect(routes.routes.get('s1')).toMatchObject({ transport: 'sse' });
  });

  it('closes the least recently used idle session of a user at the limit to make room', async () => {
    const { pool, ended, advance } = setup({ idleTimeoutMs: 1000, maxPerUser: 2 });
    await pool.open(openRequest('s1', 'alice'));
    advance(1);
    await pool.open(openRequest('s2', 'alice'));
    advance(1);
    pool.get('s1')?.fromClient([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }], undefined);
    expect(await pool.open(openRequest('s3', 'alice'))).toMatchObject({ ok: true });
    expect(ended).toEqual([{ id: 's2', reason: 'closed to make room: the identity opened more than 2 sessions' }]);
    expect(pool.get('s1')).toBeDefined();
  });

  it('never closes a session with a request in flight to make room', async () => {
    const { pool, backends } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    await pool.open(openRequest('s1', 'alice'));
    pool.get('s1')?.fromClient([{ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'slow' } }], 'gh.edge.e.stream.a');
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: false, error: { code: 'SESSION_LIMIT' } });
    expect(backends.has('s2')).toBe(false);
    expect(pool.get('s1')).toBeDefined();
  });

  it('waits, when closing every session, for those that were already ending', async () => {
    const { pool, backends } = setup();
    await pool.open(openRequest('s1', 'alice'));
    const backend = backends.get('s1');
    let finish: () => void = () => undefined;
    if (backend) backend.close = () => new Promise<void>((resolve) => (finish = resolve));
    void pool.get('s1')?.end('closed by the client');
    let closed = false;
    const closing = pool.closeAll('runner shutting down').then(() => (closed = true));
    await nextTurn();
    expect(closed).toBe(false);
    finish();
    await closing;
    expect(closed).toBe(true);
  });

  it('refuses new sessions once it is closing every session', async () => {
    const { pool } = setup();
    await pool.open(openRequest('s1', 'alice'));
    await pool.closeAll('runner shutting down');
    expect(pool.size).toBe(0);
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE' } });
  });

  it('sweep() renews the route of a live session once half the idle timeout has passed', async () => {
    const { pool, routes, advance } = setup({ idleTimeoutMs: 1000, maxPerUser: 2 });
    await pool.open(openRequest('s1', 'alice'));
    advance(400);
    pool.get('s1')?.fromClient([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }], undefined);
    await pool.sweep();
    expect(routes.writes).toEqual(['put s1']);
    advance(100);
    await pool.sweep();
    expect(routes.writes).toEqual(['put s1', 'put s1']);
  });

  it("does not count one user's sessions against another", async () => {
    const { pool } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    await pool.open(openRequest('s1', 'alice'));
    expect(await pool.open(openRequest('s2', 'bob'))).toMatchObject({ ok: true });
  });

  it('frees the slot when a session ends', async () => {
    const { pool, ended } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    await pool.open(openRequest('s1', 'alice'));
    await pool.get('s1')?.end('closed by the client');
    expect(ended).toEqual([{ id: 's1', reason: 'closed by the client' }]);
    expect(pool.get('s1')).toBeUndefined();
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: true });
  });

  it('frees the slot when the backend exits by itself', async () => {
    const { pool, backends, ended } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    await pool.open(openRequest('s1', 'alice'));
    backends.get('s1')?.onclose?.('the backend exited (code 1)');
    expect(ended).toEqual([{ id: 's1', reason: 'the backend exited (code 1)' }]);
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: true });
  });

  it('ends the session and frees the slot when initialize fails', async () => {
    const { pool, backends, behaviour, ended } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    behaviour.set('s1', 'silent');
    const failed = await pool.open(openRequest('s1', 'alice'));
    expect(failed).toEqual({
      ok: false,
      error: { code: 'BACKEND_FAILED', message: 'the backend of files did not answer initialize within 30 ms' },
    });
    expect(backends.get('s1')?.closes).toBe(1);
    expect(ended).toEqual([{ id: 's1', reason: 'the backend of files did not answer initialize within 30 ms' }]);
    expect(pool.size).toBe(0);
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: true });
  });

  it('opens no session when the backend answers initialize with an error', async () => {
    const { pool, backends, behaviour } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    behaviour.set('s1', 'refuse');
    expect(await pool.open(openRequest('s1', 'alice'))).toEqual({
      ok: false,
      error: { code: 'BACKEND_FAILED', message: 'the backend refused initialize' },
    });
    expect(backends.get('s1')?.closes).toBe(1);
    expect(pool.size).toBe(0);
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: true });
  });

  it('ends the session, once, when the backend exits during initialize', async () => {
    const { pool, backends, behaviour, ended } = setup({ idleTimeoutMs: 1000, maxPerUser: 1 });
    behaviour.set('s1', 'exit');
    const failed = await pool.open(openRequest('s1', 'alice'));
    expect(failed).toEqual({ ok: false, error: { code: 'BACKEND_FAILED', message: 'the backend exited (code 1)' } });
    expect(ended).toEqual([{ id: 's1', reason: 'the backend exited (code 1)' }]);
    expect(backends.get('s1')?.closes).toBe(1);
    expect(await pool.open(openRequest('s2', 'alice'))).toMatchObject({ ok: true });
  });

  it("applies each server's own tool filter to its sessions", async () => {
    const { pool, backends } = setup();
    await pool.open(openRequest('open', 'alice', 'files'));
    await pool.open(openRequest('filtered', 'alice', 'shell'));
    const call = { jsonrpc: '2.0' as const, id: 2, method: 'tools/call', params: { name: 'rm' } };
    pool.get('open')?.fromClient([call], 'gh.edge.e.stream.a');
    pool.get('filtered')?.fromClient([call], 'gh.edge.e.stream.b');
    expect(backends.get('open')?.sent).toContainEqual(call);
    expect(backends.get('filtered')?.sent).not.toContainEqual(call);
  });

  it("applies a server's tool access rules to each session by its caller's groups", async () => {
    const { pool, backends } = setup();
    const open = (id: string, principal: OpenSession['principal']) => pool.open({ ...openRequest(id, principal.sub, 'admin'), principal });
    await open('admin', { sub: 'ann', method: 'oauth', groups: ['staff', 'admins'] });
    await open('staff', { sub: 'bob', method: 'oauth', groups: ['staff'] });
    await open('bearer', { sub: 'ci', method: 'bearer' });
    const call = { jsonrpc: '2.0' as const, id: 2, method: 'tools/call', params: { name: 'delete_user' } };
    for (const id of ['admin', 'staff', 'bearer']) pool.get(id)?.fromClient([call], `gh.edge.e.stream.${id}`);
    expect(backends.get('admin')?.sent).toContainEqual(call);
    expect(backends.get('staff')?.sent).not.toContainEqual(call);
    expect(backends.get('bearer')?.sent).not.toContainEqual(call);
  });

  it('audits calls, reads and prompt gets once each, however they end, and nothing else', async () => {
    const { pool, backends, advance, audited } = setup();
    const principal = { sub: 'alice', email: 'alice@example.com', clientId: 'https://client.example/meta', method: 'oauth' as const };
    await pool.open({ ...openRequest('s1', 'alice', 'shell'), principal });
    const session = pool.get('s1');
    const answer = (message: JsonRpcMessage) => backends.get('s1')?.onmessage?.(message);
    const stream = 'gh.edge.e.stream.a';
    session?.fromClient([{ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'rm', arguments: { path: '/' } } }], stream);
    session?.fromClient(
      [{ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'ls', arguments: { path: '/', PIN: '1234' } } }],
      stream,
    );
    advance(40);
    answer({ jsonrpc: '2.0', id: 3, result: { content: [], isError: true } });
    session?.fromClient([{ jsonrpc: '2.0', id: 4, method: 'resources/read', params: { uri: 'file:///etc/hosts' } }], stream);
    answer({ jsonrpc: '2.0', id: 4, error: { code: -32002, message: 'not found' } });
    session?.fromClient([{ jsonrpc: '2.0', id: 5, method: 'prompts/get', params: { name: 'greet' } }], stream);
    session?.fromClient([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 5 } }], stream);
    answer({ jsonrpc: '2.0', id: 5, result: { messages: [] } });
    session?.fromClient([{ jsonrpc: '2.0', id: 6, method: 'tools/list' }], stream);
    answer({ jsonrpc: '2.0', id: 6, result: { tools: [] } });
    session?.fromClient([{ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'sleep' } }], stream);
    await session?.end('closed by the client');
    await nextTurn(); // records are made in the turn after their calls end
    const who = { sub: 'alice', email: 'alice@example.com', clientId: 'https://client.example/meta', server: 'shell' };
    expect(audited).toEqual([
      {
        ...who,
        at: 0,
        kind: 'tools/call',
        name: 'rm',
        outcome: 'refused',
        errorCode: -32602,
        durationMs: 0,
        requestBytes: expect.any(Number),
        arguments: '{"path":"/"}',
      },
      {
        ...who,
        at: 0,
        kind: 'tools/call',
        name: 'ls',
        outcome: 'tool_error',
        durationMs: 40,
        requestBytes: expect.any(Number),
        arguments: '{"path":"/","PIN":"[redacted]"}',
      },
      {
        ...who,
        at: 40,
        kind: 'resources/read',
        name: 'file:///etc/hosts',
        outcome: 'protocol_error',
        errorCode: -32002,
        durationMs: 0,
        requestBytes: expect.any(Number),
      },
      { ...who, at: 40, kind: 'prompts/get', name: 'greet', outcome: 'cancelled', durationMs: 0, requestBytes: expect.any(Number) },
      {
        ...who,
        at: 40,
        kind: 'tools/call',
        name: 'sleep',
        outcome: 'protocol_error',
        errorCode: -32000,
        durationMs: 0,
        requestBytes: expect.any(Number),
      },
    ]);
  });

  it('refuses an unknown server without creating a backend', async () => {
    const { pool, backends } = setup();
    const refused = await pool.open(openRequest('s1', 'alice', 'nope'));
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNKNOWN_SERVER' } });
    expect(backends.size).toBe(0);
  });

  it('refuses a session id that is already in use', async () => {
    const { pool } = setup();
    await pool.open(openRequest('s1', 'alice'));
    expect(await pool.open(openRequest('s1', 'bob'))).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(pool.get('s1')?.identity.sub).toBe('alice');
  });

  it('sweep() ends the sessions idle for longer than the timeout', async () => {
    const { pool, backends, ended, advance } = setup({ idleTimeoutMs: 1000, maxPerUser: 5 });
    await pool.open(openRequest('idle', 'alice'));
    await pool.open(openRequest('busy', 'alice'));
    advance(600);
    pool.get('busy')?.fromClient([{ jsonrpc: '2.0', method: 'notifications/roots/list_changed' }], undefined);
    advance(600);
    expect(await pool.sweep()).toBe(1);
    expect(ended).toEqual([{ id: 'idle', reason: 'idle timeout' }]);
    expect(backends.get('idle')?.closes).toBe(1);
    expect(backends.get('busy')?.closes).toBe(0);
    expect(pool.get('busy')).toBeDefined();
  });

  it('sweep() ends a session whose backend keeps talking but whose client went away', async () => {
    const { pool, backends, advance } = setup({ idleTimeoutMs: 1000, maxPerUser: 5 });
    await pool.open(openRequest('chatty', 'alice'));
    advance(600);
    backends.get('chatty')?.onmessage?.({ jsonrpc: '2.0', method: 'notifications/message', params: { data: 'tick' } });
    advance(600);
    expect(await pool.sweep()).toBe(1);
  });

  it('sweep() leaves sessions alone before the timeout', async () => {
    const { pool, advance } = setup();
    await pool.open(openRequest('s1', 'alice'));
    advance(999);
    expect(await pool.sweep()).toBe(0);
    expect(pool.size).toBe(1);
  });
});
