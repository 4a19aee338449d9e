import type { ServerResponse } from 'node:http';
import { JsonRpcCode, isRequest, type JsonRpcMessage, type Principal, type RequestId, type SessionRoute } from '#contracts';
import { randomId } from '#crypto';
import type { RouteTable } from '../relay/route-table.js';
import type { RelayResult, SessionRelay } from '../relay/session-relay.js';
import type { SessionWatch } from '../relay/session-watch.js';
import type { StreamRegistry } from '../relay/stream-registry.js';
import type { Admission, EdgeServer } from './admission.js';
import { header, McpHttpError, sendEmpty, sendJson, type McpHttpRequest } from './http-io.js';
import { acceptedModes, batchAllowedIn, parseBody, protocolVersionOf } from './messages.js';
import { openSession } from './open-session.js';
import { PostExchange } from './post-exchange.js';
import { SseStream } from './sse-stream.js';

const SESSION_HEADER = 'mcp-session-id';

export interface SessionDeps {
  admission: Admission;
  relay: SessionRelay;
  routes: RouteTable;
  streams: StreamRegistry;
  watch: SessionWatch;
}

/** Streamable HTTP at /{server}/mcp: POST messages, GET the server's stream, DELETE the session. */
export class StreamableHttpHandler {
  constructor(private readonly deps: SessionDeps) {}

  async post(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const modes = acceptedModes(req);
    if (!modes.json && !modes.sse) throw notAcceptable('application/json or text/event-stream');
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) {
      const { messages } = parseBody(req, false);
      const initialize = messages[0];
      if (!initialize || !isRequest(initialize) || initialize.method !== 'initialize') {
        throw sessionRequired();
      }
      return this.initialize(res, server, principal, initialize, modes.json);
    }
    const version = protocolVersionOf(req);
    const { messages, batch } = parseBody(req, batchAllowedIn(version));
    if (messages.some((m) => m.method === 'initialize')) {
      throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Invalid Request: this session is already initialized');
    }
    const route = await this.route(sessionId, server, principal);
    const requests = messages.filter(isRequest);
    if (requests.length === 0) {
      const relayed = await this.deps.relay.sendAll(route.runnerId, sessionId, messages);
      if (!relayed.ok) throw relayFailure(relayed);
      return sendEmpty(res, 202, { [SESSION_HEADER]: sessionId });
    }
    await this.exchange(req, res, sessionId, route, messages, { batch, ...modes });
  }

  async get(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    if (!acceptedModes(req).sse) throw notAcceptable('text/event-stream');
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) throw sessionRequired();
    protocolVersionOf(req);
    const route = await this.route(sessionId, server, principal);
    // Attach before answering, so a session that is gone gets 404, not an empty 200 stream;
    // what arrives in between is held and written once the stream is open.
    const open: { sse?: SseStream } = {};
    const early: JsonRpcMessage[] = [];
    const stream = this.deps.streams.open({
      sessionId,
      write: (m) => (open.sse ? open.sse.send(m) : early.push(m) > 0),
      sessionEnded: () => open.sse?.end(),
    });
    const watch = this.deps.watch.watch(sessionId, route.runnerId);
    req.onClose(() => {
      watch.stop();
      stream.close();
      void this.deps.relay.touch(route.runnerId, sessionId, { detach: stream.subject }).catch(() => undefined);
    });
    const attached = await this.deps.relay.touch(route.runnerId, sessionId, { attach: stream.subject });
    if (!attached.ok) throw relayFailure(attached);
    open.sse = new SseStream(res, { [SESSION_HEADER]: sessionId });
    for (const message of early.splice(0)) open.sse.send(message);
  }

  async delete(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = header(req.headers, SESSION_HEADER);
    if (sessionId === undefined) throw sessionRequired();
    protocolVersionOf(req);
    const route = await this.route(sessionId, server, principal);
    const closed = await this.deps.relay.close(route.runnerId, sessionId, 'closed by the client');
    if (!closed.ok) throw sessionNotFound();
    await this.deps.routes.delete(sessionId);
    sendEmpty(res, 200);
  }

  private async initialize(
    res: ServerResponse,
    server: EdgeServer,
    principal: Principal,
    initialize: JsonRpcMessage & { id: RequestId },
    json: boolean,
  ): Promise<void> {
    const sessionId = randomId();
    const opened = await openSession(this.deps, { sessionId, server, principal, initialize, transport: 'streamable-http' });
    if (!opened.ok) return sendJson(res, opened.status, opened.response);
    if (json) return sendJson(res, 200, opened.response, { [SESSION_HEADER]: sessionId });
    // A client that accepts only an event stream gets its answer as one.
    const sse = new SseStream(res, { [SESSION_HEADER]: sessionId });
    sse.send(opened.response);
    sse.end();
  }

  private async exchange(
    req: McpHttpRequest,
    res: ServerResponse,
    sessionId: string,
    route: SessionRoute,
    messages: JsonRpcMessage[],
    options: { batch: boolean; json: boolean; sse: boolean },
  ): Promise<void> {
    // Every answer names its session, as the SDK's own server does (its client relies on it).
    const post = new PostExchange(sessionId, res, messages, { ...options, headers: { [SESSION_HEADER]: sessionId } });
    const stream = this.deps.streams.open(post);
    const watch = this.deps.watch.watch(sessionId, route.runnerId);
    watch.busy(true);
    req.onClose(() => post.abandon());
    try {
      const results = await Promise.all(messages.map((m) => this.deps.relay.send(route.runnerId, sessionId, m, stream.subject)));
      const refused = results.find((r) => !r.ok);
      if (refused && !refused.ok && !post.isDone) {
        // Before anything was written the refusal is the HTTP answer; after, each pending request gets it.
        if (!res.headersSent) {
          post.abandon();
          throw relayFailure(refused);
        }
        post.fail(refused.error.message);
      }
      await post.finished();
    } finally {
      watch.busy(false);
      watch.stop();
      stream.close();
    }
  }

  /** The session's route, as long as it belongs to this caller and server; 404 otherwise. */
  private async route(sessionId: string, server: EdgeServer, principal: Principal): Promise<SessionRoute> {
    const route = await this.deps.routes.find(sessionId, { sub: principal.sub, server: server.name, transport: 'streamable-http' });
    if (!route?.runnerId) throw sessionNotFound();
    return route;
  }
}

export function sessionNotFound(): McpHttpError {
  return new McpHttpError(404, JsonRpcCode.serverError, 'Session not found');
}

function sessionRequired(): McpHttpError {
  return new McpHttpError(400, JsonRpcCode.invalidRequest, 'Bad Request: Mcp-Session-Id header is required');
}

function notAcceptable(what: string): McpHttpError {
  return new McpHttpError(406, JsonRpcCode.invalidRequest, `Not Acceptable: the client must accept ${what}`);
}

/** The HTTP answer to a message the runner did not take: 404 once the session is gone. */
export function relayFailure(result: RelayResult & { ok: false }): McpHttpError {
  const { code, message } = result.error;
  if (code === 'SESSION_NOT_FOUND' || code === 'RUNNER_GONE') return sessionNotFound();
  if (code === 'TOO_LARGE') return new McpHttpError(413, JsonRpcCode.invalidRequest, message);
  return new McpHttpError(502, JsonRpcCode.serverError, message);
}
