import type { ServerResponse } from 'node:http';
import {
  JsonRpcCode,
  errorResponse,
  encode,
  idKey,
  isRequest,
  isResponse,
  StreamMessageSchema,
  type JsonRpcMessage,
  type Principal,
  type RequestId,
  type SessionRoute,
} from '#contracts';
import { randomId } from '#crypto';
import type { Bus } from '#bus';
import type { WatchHandle } from '../relay/session-watch.js';
import type { EdgeServer } from './admission.js';
import { McpHttpError, sendEmpty, type McpHttpRequest } from './http-io.js';
import { parseBody } from './messages.js';
import { openSession } from './open-session.js';
import { SseStream } from './sse-stream.js';
import { relayFailure, sessionNotFound, type SessionDeps } from './streamable-http.handler.js';

type PendingRequest = JsonRpcMessage & { id: RequestId };

/** Legacy HTTP+SSE (2024-11-05): GET /{server}/sse holds the stream, POST /{server}/message feeds it. */
export class LegacySseHandler {
  /** Sessions whose initialize is under way here: a second one is refused, not a second backend. */
  private readonly initializing = new Set<string>();
  /** Streams held here, told of requests posted through this edge so a dead runner fails them fast. */
  private readonly local = new Map<string, { sent: (runnerId: string, requests: readonly PendingRequest[]) => void }>();

  constructor(
    private readonly deps: SessionDeps & { bus: Bus },
    private readonly basePath: string,
  ) {}

  async stream(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = randomId();
    const sse = new SseStream(res);
    const pending = new Map<string, RequestId>();
    let watch: WatchHandle | undefined;
    const endpoint = {
      sessionId,
      write: (message: JsonRpcMessage) => {
        if (isResponse(message) && pending.delete(idKey(message.id)) && pending.size === 0) watch?.busy(false);
        return sse.send(message);
      },
      cancel: (requestId: RequestId) => {
        if (pending.delete(idKey(requestId)) && pending.size === 0) watch?.busy(false);
      },
      sessionEnded: (reason: string) => {
        for (const id of pending.values()) sse.send(errorResponse(id, JsonRpcCode.serverError, `Session ended: ${reason}`));
        sse.end();
      },
      sent: (runnerId: string, requests: readonly PendingRequest[]) => {
        watch ??= this.deps.watch.watch(sessionId, runnerId);
        if (pending.size === 0 && requests.length > 0) watch.busy(true);
        for (const r of requests) pending.set(idKey(r.id), r.id);
      },
    };
    const stream = this.deps.streams.open(endpoint);
    this.local.set(sessionId, endpoint);
    req.onClose(() => {
      this.local.delete(sessionId);
      watch?.stop();
      stream.close();
      void this.endSession(sessionId);
    });
    await this.deps.routes.put(sessionId, {
      runnerId: '',
      sub: principal.sub,
      server: server.name,
      transport: 'sse',
      stream: stream.subject,
    });
    sse.event('endpoint', `${this.basePath}/${encodeURIComponent(server.name)}/message?sessionId=${sessionId}`);
  }

  async message(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = req.query.get('sessionId');
    if (!sessionId) throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Bad Request: the sessionId query parameter is required');
    const route = await this.route(sessionId, server, principal);
    const { messages } = parseBody(req, true);
    const first = messages[0];
    if (first && isRequest(first) && first.method === 'initialize') {
      if (route.runnerId || this.initializing.has(sessionId)) {
        throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Invalid Request: this session is already initialized');
      }
      this.initializing.add(sessionId);
      try {
        await this.initialize(sessionId, server, principal, first, route);
      } finally {
        this.initializing.delete(sessionId);
      }
      return sendEmpty(res, 202);
    }
    if (!route.runnerId) throw new McpHttpError(400, JsonRpcCode.invalidRequest, 'Bad Request: initialize the session first');
    this.local.get(sessionId)?.sent(route.runnerId, messages.filter(isRequest));
    const relayed = await this.deps.relay.sendAll(route.runnerId, sessionId, messages, route.stream);
    if (!relayed.ok) throw relayFailure(relayed);
    sendEmpty(res, 202);
  }

  private async initialize(
    sessionId: string,
    server: EdgeServer,
    principal: Principal,
    initialize: PendingRequest,
    route: SessionRoute,
  ): Promise<void> {
    const opened = await openSession(this.deps, { sessionId, server, principal, initialize, transport: 'sse', stream: route.stream });
    // The answer to initialize goes where every answer of this session goes: the SSE stream.
    if (route.stream) this.deps.bus.publish(route.stream, encode(StreamMessageSchema, { sessionId, message: opened.response }));
  }

  private async endSession(sessionId: string): Promise<void> {
    const route = await this.deps.routes.get(sessionId).catch(() => undefined);
    if (route?.runnerId) await this.deps.relay.close(route.runnerId, sessionId, 'the client closed the SSE stream').catch(() => undefined);
    await this.deps.routes.delete(sessionId).catch(() => undefined);
  }

  private async route(sessionId: string, server: EdgeServer, principal: Principal): Promise<SessionRoute> {
    const route = await this.deps.routes.find(sessionId, { sub: principal.sub, server: server.name, transport: 'sse' });
    if (!route) throw sessionNotFound();
    return route;
  }
}
