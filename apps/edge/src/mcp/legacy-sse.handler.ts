import type { ServerResponse } from 'node:http';
import { idKey, isRequest, isResponse, type JsonRpcMessage, type Principal, type SessionRoute } from '#contracts';
import { randomId } from '#crypto';
import type { WatchHandle } from '../relay/session-watch.js';
import type { EdgeServer } from './admission.js';
import { sendEmpty, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { parseBody } from './messages.js';
import { openSession } from './open-session.js';
import { SseStream } from './sse-stream.js';
import { relayFailure, type SessionDeps } from './streamable-http.handler.js';

/**
 * Legacy HTTP+SSE (2024-11-05): GET /{server}/sse holds the stream, POST /{server}/message feeds
 * it. Opening the stream reserves the session on a runner, which starts the backend with the
 * initialize the client posts; every answer comes back on the stream.
 */
export class LegacySseHandler {
  /** Streams held here, told of requests posted through this edge so a dead runner is noticed fast. */
  private readonly local = new Map<string, { sent: (requests: readonly JsonRpcMessage[]) => void }>();

  constructor(
    private readonly deps: SessionDeps,
    private readonly basePath: string,
  ) {}

  async stream(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = randomId();
    const sse = new SseStream(res);
    // Answers still due on this stream: while any is, a runner that dies is noticed within a second.
    const due = new Set<string>();
    const held: { watch?: WatchHandle } = {};
    const settle = (key: string) => {
      if (due.delete(key) && due.size === 0) held.watch?.busy(false);
    };
    const endpoint = {
      sessionId,
      write: (message: JsonRpcMessage) => {
        if (isResponse(message)) settle(idKey(message.id));
        return sse.send(message);
      },
      end: () => undefined,
      sessionEnded: () => sse.end(),
      sent: (requests: readonly JsonRpcMessage[]) => {
        if (due.size === 0 && requests.length > 0) held.watch?.busy(true);
        for (const r of requests) if (isRequest(r)) due.add(idKey(r.id));
      },
    };
    const stream = this.deps.streams.open(endpoint);
    let gone = false;
    req.onClose(() => {
      gone = true;
      this.local.delete(sessionId);
      held.watch?.stop();
      stream.close();
      void this.endSession(sessionId);
    });
    const opened = await openSession(this.deps.relay, { sessionId, server, principal, transport: 'sse', stream: stream.subject });
    if (!opened.ok) {
      sse.send(opened.response);
      return sse.end();
    }
    // The client left while the runner was reserving the session: nobody else will end it.
    if (gone) return void this.endSession(sessionId);
    held.watch = this.deps.watch.watch(sessionId, opened.runnerId);
    this.local.set(sessionId, endpoint);
    sse.event('endpoint', `${this.basePath}/${encodeURIComponent(server.name)}/message?sessionId=${sessionId}`);
  }

  async message(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = req.query.get('sessionId');
    if (!sessionId) throw McpErrors.badRequest('the sessionId query parameter is required');
    const route = await this.route(sessionId, server, principal);
    const { messages } = parseBody(req, true);
    this.local.get(sessionId)?.sent(messages.filter(isRequest));
    const relayed = await this.deps.relay.send(route.runnerId, sessionId, messages);
    if (!relayed.ok) throw relayFailure(relayed);
    sendEmpty(res, 202);
  }

  private async endSession(sessionId: string): Promise<void> {
    const route = await this.deps.routes.get(sessionId).catch(() => undefined);
    if (route) await this.deps.relay.close(route.runnerId, sessionId, 'the client closed the SSE stream').catch(() => undefined);
  }

  private async route(sessionId: string, server: EdgeServer, principal: Principal): Promise<SessionRoute> {
    const route = await this.deps.routes.find(sessionId, { sub: principal.sub, server: server.name, transport: 'sse' });
    if (!route) throw McpErrors.sessionNotFound();
    return route;
  }
}
