import type { ServerResponse } from 'node:http';
import {
  GatehouseError,
  isRequest,
  JsonRpcCode,
  parseEventId,
  type JsonRpcMessage,
  type Principal,
  type RequestId,
  type SessionRoute,
} from '#contracts';
import { randomId, randomKey } from '#crypto';
import type { Metrics, Tracing } from '#observability';
import type { PoolRelay } from '../relay/pool-relay.js';
import type { RouteTable } from '../relay/route-table.js';
import { endsSession, type RelayResult, type SessionRelay } from '../relay/session-relay.js';
import type { SessionWatch } from '../relay/session-watch.js';
import type { StreamRegistry } from '../relay/stream-registry.js';
import type { Admission, EdgeServer } from './admission.js';
import { header, sendEmpty, sendJson, type McpHttpRequest, type ResponseHeaders } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { acceptedModes, batchAllowedIn, checkSchema, parseBody, primesStreams, protocolVersionOf } from './messages.js';
import { openSession } from './open-session.js';
import { PostExchange } from './post-exchange.js';
import { requestMeter } from './request-meter.js';
import { traceRequests } from './request-trace.js';
import { isStatelessRequest, STATELESS_VERSIONS } from './request-metadata.js';
import { StatelessHandler } from './stateless.handler.js';
import { SseStream } from './sse-stream.js';

const SESSION_HEADER = 'mcp-session-id';
/** The header naming the session on an answer: a literal key, where a computed one costs V8 a call into its runtime per object. */
const sessionHeaders = (sessionId: string): ResponseHeaders =>
  ({ 'mcp-session-id': sessionId }) satisfies Record<typeof SESSION_HEADER, string>;
/** How long a 2025-11-25 tool call may go unanswered before its JSON answer turns into a resumable stream. */
const TOOL_CALL_STREAM_AFTER_MS = 50;

export interface SessionDeps {
  admission: Admission;
  pools: PoolRelay;
  relay: SessionRelay;
  routes: RouteTable;
  streams: StreamRegistry;
  watch: SessionWatch;
  metrics: Metrics;
  tracing: Tracing;
}

/**
 * Streamable HTTP at /{server}/mcp: POST messages, GET the server's stream (or resume one), DELETE
 * the session. A 2026-07-28 request has no session: it goes to the stateless handler.
 */
export class StreamableHttpHandler {
  private readonly stateless: StatelessHandler;

  constructor(private readonly deps: SessionDeps) {
    this.stateless = new StatelessHandler(deps);
  }

  async post(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const modes = acceptedModes(req);
    if (!modes.json && !modes.sse) throw McpErrors.notAcceptable('application/json or text/event-stream');
    // Parsed once; checked against its method's schema only once its revision is known.
    let parsed: ReturnType<typeof parseBody> | undefined;
    const single = () => (parsed ??= parseBody(req, false, { schemas: false }));
    if (isStatelessRequest(req.headers, single)) {
      const [message] = single().messages;
      if (message) return this.stateless.post(req, res, { server, principal, message, modes });
    }
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) {
      const initialize = single().messages[0];
      if (initialize) checkSchema(initialize);
      if (!initialize || !isRequest(initialize) || initialize.method !== 'initialize') throw McpErrors.sessionRequired();
      return this.initialize(req, res, { server, principal, initialize, json: modes.json });
    }
    const version = protocolVersionOf(req);
    const { messages, batch } = parseBody(req, batchAllowedIn(version));
    if (messages.some((m) => m.method === 'initialize')) throw McpErrors.alreadyInitialized();
    const route = await this.route(sessionId, server, principal);
    if (!messages.some(isRequest)) {
      const relayed = await this.deps.relay.send(route.runnerId, sessionId, messages);
      if (!relayed.ok) throw relayFailure(relayed);
      return sendEmpty(res, 202, sessionHeaders(sessionId));
    }
    await this.exchange(req, res, route, { sessionId, messages, batch, version, json: modes.json, sse: modes.sse });
  }

  async get(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    refuseStateless(req);
    if (!acceptedModes(req).sse) throw McpErrors.notAcceptable('text/event-stream');
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) throw McpErrors.sessionRequired();
    const version = protocolVersionOf(req);
    const lastEventId = header(req.headers, 'last-event-id');
    if (lastEventId !== undefined && !parseEventId(lastEventId)) throw McpErrors.badRequest('Last-Event-ID names no event of this gateway');
    const route = await this.route(sessionId, server, principal);
    // Attach before answering, so a session that is gone gets 404, not an empty 200 stream;
    // what arrives in between (a replay, say) is held and written once the stream is open.
    const open: { sse?: SseStream; early: [JsonRpcMessage, string | undefined][]; ended: boolean } = { early: [], ended: false };
    const stream = this.deps.streams.open({
      sessionId,
      write: (m, eventId) => (open.sse ? open.sse.send(m, eventId) : open.early.push([m, eventId]) > 0),
      end: () => (open.sse ? open.sse.end() : (open.ended = true)),
      sessionEnded: () => (open.sse ? open.sse.end() : (open.ended = true)),
    });
    const watch = this.deps.watch.watch(sessionId, route.runnerId);
    req.onClose(() => {
      watch.stop();
      stream.close();
      void this.deps.relay.attach(route.runnerId, sessionId, { detach: stream.subject }).catch(() => undefined);
    });
    const attached = await this.deps.relay.attach(route.runnerId, sessionId, { attach: stream.subject, resumeAfter: lastEventId });
    if (!attached.ok) throw relayFailure(attached);
    open.sse = new SseStream(res, sessionHeaders(sessionId));
    this.deps.metrics.streams(server.name, 1);
    req.onClose(() => this.deps.metrics.streams(server.name, -1));
    if (attached.eventId !== undefined && primesStreams(version)) open.sse.prime(attached.eventId);
    for (const [message, eventId] of open.early.splice(0)) open.sse.send(message, eventId);
    if (open.ended) open.sse.end();
  }

  async delete(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    refuseStateless(req);
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) throw McpErrors.sessionRequired();
    protocolVersionOf(req);
    const route = await this.route(sessionId, server, principal);
    const closed = await this.deps.relay.close(route.runnerId, sessionId, 'closed by the client');
    if (!closed.ok) throw McpErrors.sessionNotFound();
    this.deps.routes.forget(sessionId);
    sendEmpty(res, 200);
  }

  private async initialize(
    req: McpHttpRequest,
    res: ServerResponse,
    target: { server: EdgeServer; principal: Principal; initialize: JsonRpcMessage & { id: RequestId }; json: boolean },
  ): Promise<void> {
    const { server, principal, initialize, json } = target;
    const sessionId = randomId();
    const { meter, context } = traceRequests(
      this.deps.tracing,
      server.name,
      req,
      [initialize],
      requestMeter(this.deps.metrics, server.name, req.receivedAt),
    );
    const opened = await this.deps.tracing.within(context, () =>
      openSession(this.deps.relay, { sessionId, server, principal, initialize, transport: 'streamable-http' }),
    );
    if (!opened.ok) {
      meter('initialize', opened.status < 500 ? 'refused' : 'error');
      return sendJson(res, opened.status, opened.response);
    }
    const { response } = opened;
    if (!response) throw McpErrors.internal(new Error('the runner answered initialize without the backend response'));
    meter('initialize', response.error === undefined ? 'ok' : 'error');
    if (json) return sendJson(res, 200, response, sessionHeaders(sessionId));
    // A client that accepts only an event stream gets its answer as one.
    const sse = new SseStream(res, sessionHeaders(sessionId));
    sse.send(response);
    sse.end();
  }

  private async exchange(
    req: McpHttpRequest,
    res: ServerResponse,
    route: SessionRoute,
    post: { sessionId: string; messages: JsonRpcMessage[]; batch: boolean; version: string; json: boolean; sse: boolean },
  ): Promise<void> {
    // Named one by one: an object rest and then a spread were the most expensive lines of this function.
    const { sessionId, messages, version, batch, json, sse } = post;
    const streamId = randomKey(12);
    const resumable = sse && primesStreams(version);
    // A tool call may run long: unanswered after a moment, its answer becomes a primed event stream,
    // so a dropped connection resumes; a quick answer stays JSON, which costs the client less.
    const streamAfterMs = resumable && messages.some((m) => m.method === 'tools/call') ? TOOL_CALL_STREAM_AFTER_MS : undefined;
    // Every answer names its session, as the SDK's own server does (its client relies on it).
    const headers = sessionHeaders(sessionId);
    const traced = traceRequests(
      this.deps.tracing,
      route.server,
      req,
      messages,
      requestMeter(this.deps.metrics, route.server, req.receivedAt),
    );
    const exchange = new PostExchange(res, messages, {
      batch,
      json,
      sse,
      headers,
      streamAfterMs,
      primeKey: resumable ? streamId : undefined,
      meter: traced.meter,
    });
    // The reply may carry the stream's first events: what comes on the stream waits for them.
    const stream = this.deps.streams.open(exchange, streamId, { afterReply: true });
    const watch = this.deps.watch.watch(sessionId, route.runnerId);
    watch.busy(true);
    req.onClose(() => exchange.abandon());
    try {
      const sent = await this.deps.tracing.within(traced.context, () =>
        this.deps.relay.send(route.runnerId, sessionId, messages, stream.subject, true),
      );
      stream.replied(sent.ok ? (sent.events ?? []) : []);
      // The session's end reaches the exchange only once the runner has taken its requests: one it
      // refused (gone, or ended while they were on their way) is answered by the refusal, 404.
      if (sent.ok) stream.bind(sessionId);
      else if (!exchange.isDone) {
        // Before anything was written the refusal is the HTTP answer; after, each pending request gets it.
        if (!res.headersSent) {
          exchange.withdraw();
          throw relayFailure(sent);
        }
        if (endsSession(sent.error)) exchange.sessionEnded(sent.error.message);
        else exchange.fail(sent.error.message);
      }
      await exchange.finished();
    } finally {
      stream.replied([]);
      watch.busy(false);
      watch.stop();
      stream.close();
    }
  }

  /** The session's route, as long as it belongs to this caller and server; 404 otherwise. */
  private async route(sessionId: string, server: EdgeServer, principal: Principal): Promise<SessionRoute> {
    const route = await this.deps.routes.find(sessionId, { sub: principal.sub, server: server.name, transport: 'streamable-http' });
    if (!route) throw McpErrors.sessionNotFound();
    return route;
  }
}

/** 2026-07-28 has no GET stream and no session to delete: 405, as the revision says. */
function refuseStateless(req: McpHttpRequest): void {
  const version = header(req.headers, 'mcp-protocol-version');
  if (version !== undefined && STATELESS_VERSIONS.includes(version)) {
    throw new GatehouseError('method_not_allowed', 405, `Method Not Allowed: ${version} clients only POST`, {
      rpcCode: JsonRpcCode.invalidRequest,
      headers: { allow: 'POST' },
    });
  }
}

/** The HTTP answer to a message the runner did not take: 404 once the session is gone. */
export function relayFailure(result: RelayResult & { ok: false }): GatehouseError {
  const { code, message } = result.error;
  if (endsSession(result.error)) return McpErrors.sessionNotFound();
  if (code === 'TOO_LARGE') return McpErrors.tooLarge(message);
  if (code === 'BAD_REQUEST') return McpErrors.badRequest(message);
  return McpErrors.backendFailed(message);
}
