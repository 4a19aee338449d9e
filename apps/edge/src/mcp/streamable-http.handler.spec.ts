import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import { LocalBus, type BusMessage } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  errorResponse,
  JsonRpcCode,
  SessionClosedEventSchema,
  sessionClosedSubject,
  sessionClosedWildcard,
  SessionInReplySchema,
  SessionInRequestSchema,
  sessionInSubject,
  StreamMessageSchema,
} from '#contracts';
import { createLogger, noMetrics, noTracing } from '#observability';
import { HostPolicy } from '../http/host-check.js';
import { RequestGate } from '../http/request-gate.js';
import { EdgeEventsController } from '../relay/edge-events.controller.js';
import { PoolRelay } from '../relay/pool-relay.js';
import { RouteTable } from '../relay/route-table.js';
import { SessionRelay } from '../relay/session-relay.js';
import { SessionWatch } from '../relay/session-watch.js';
import { StreamRegistry } from '../relay/stream-registry.js';
import { Admission } from './admission.js';
import { LegacySseHandler } from './legacy-sse.handler.js';
import { McpRoutes } from './mcp-routes.js';
import { StreamableHttpHandler } from './streamable-http.handler.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const SESSION = 'AAAAAAAAAAAAAAAAAAAAAA';
const RUNNER = 'r1';
const HEADERS = {
  authorization: 'Bearer t0',
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
  'mcp-session-id': SESSION,
};

/**
 * An edge on a LocalBus, its MCP routes served by a plain HTTP server, and a session routed to a
 * runner that the test plays by answering the session's subject itself.
 */
describe('StreamableHttpHandler, a message at the end of its session', () => {
  let bus: LocalBus;
  let streams: StreamRegistry;
  let watch: SessionWatch;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    bus = new LocalBus();
    const kv = await bus.kv('routes', { ttlMs: 60_000 });
    const routes = new RouteTable(kv, 60_000);
    streams = new StreamRegistry(bus, 'e1', log);
    streams.start();
    const relay = new SessionRelay(bus, routes, streams, log);
    watch = new SessionWatch(relay);
    const events = new EdgeEventsController(relay, null, log);
    bus.subscribe(sessionClosedWildcard, (m) => events.closed(m.data));
    const db = { name: 'db', serviceAuths: [{ type: 'bearer' as const, tokens: ['t0'] }], runnerGroup: 'g', timeoutMs: 5000 };
    const admission = new Admission(new Map([['db', db]]), { allowed: [], own: 'http://127.0.0.1' });
    const deps = { admission, pools: new PoolRelay(bus, kv, log), relay, routes, streams, watch, metrics: noMetrics, tracing: noTracing };
    const mcp = new McpRoutes(new StreamableHttpHandler(deps), new LegacySseHandler(deps, ''), log, noMetrics);
    const dispatch = mcp.dispatch('', new RequestGate(new HostPolicy('http://127.0.0.1', []), '', 1024 * 1024));
    server = createServer((req, res) => {
      if (!dispatch(req, res)) res.writeHead(404).end();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening on a TCP port');
    url = `http://127.0.0.1:${address.port}/db/mcp`;
    routes.remember(SESSION, { runnerId: RUNNER, sub: 'bearer:db/0.0', server: 'db', transport: 'streamable-http' });
  });

  afterEach(async () => {
    watch.stopAll();
    streams.stop();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await bus.close();
  });

  const post = async (body: unknown) => {
    const res = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify(body) });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  };
  const toolsList = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
  /** The runner's announcement that the session ended, as every edge hears it. */
  const announceEnd = () =>
    bus.publish(sessionClosedSubject(SESSION), encode(SessionClosedEventSchema, { sessionId: SESSION, reason: 'the backend exited' }));

  it('answers 404 when the runner no longer has the session, though the end was announced while the message was on its way', async () => {
    // The runner announced the end before the message reached it: the edge hears both before the refusal.
    bus.subscribe(sessionInSubject(RUNNER, SESSION), (msg) => {
      announceEnd();
      msg.respond(encode(AckReplySchema, { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'no such session' } }));
    });
    expect(await post(toolsList)).toMatchObject({ status: 404 });
    // The route is forgotten: the next message is refused without asking a runner.
    expect(await post(toolsList)).toMatchObject({ status: 404 });
  });

  it('answers 404 when no runner holds the session any more', async () => {
    expect(await post(toolsList)).toMatchObject({ status: 404 });
  });

  // Also shows that the route is the caller's: the 404s above are the runner's refusal, not a route refused.
  it('fails the request with a JSON-RPC error when the session ends after the runner took it', async () => {
    bus.subscribe(sessionInSubject(RUNNER, SESSION), (msg: BusMessage) => {
      const request = decode(SessionInRequestSchema, msg.data);
      if (!request.ok || request.value.stream === undefined) throw new Error('no stream to answer on');
      msg.respond(encode(SessionInReplySchema, { ok: true }));
      // As a runner ends a session with a request in flight: its error on the stream, then the announcement.
      const failed = errorResponse(3, JsonRpcCode.serverError, 'Session ended: the backend exited');
      bus.publish(request.value.stream, encode(StreamMessageSchema, { sessionId: SESSION, message: failed, end: true }));
      announceEnd();
    });
    const answer = await post(toolsList);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 3, error: { message: 'Session ended: the backend exited' } });
  });

  it('ends the session for a tool call whose answer became a stream before its runner stopped answering', async () => {
    bus.subscribe(sessionInSubject(RUNNER, SESSION), () => undefined);
    const call = { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'echo', arguments: {} } };
    const answer = await post(call);
    expect(answer).toMatchObject({ status: 200, type: 'text/event-stream' });
    expect(answer.text).toContain(
      '"id":4,"error":{"code":-32000,"message":"Session ended: the runner holding this session is not answering"}',
    );
  });

  it('fails the request on the announcement alone once the runner took it', async () => {
    bus.subscribe(sessionInSubject(RUNNER, SESSION), (msg: BusMessage) => {
      msg.respond(encode(SessionInReplySchema, { ok: true }));
      setTimeout(announceEnd, 20);
    });
    const answer = await post(toolsList);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 3, error: { message: 'Session ended: the backend exited' } });
  });
});
