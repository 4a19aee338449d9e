import type { ServerResponse } from 'node:http';
import { idKey, isRequest, isResponse, type JsonRpcMessage, type Principal, type SessionRoute } from '#contracts';
import { randomId } from '#crypto';
import type { McpOutcome } from '#observability';
import type { WatchHandle } from '../relay/session-watch.js';
import type { EdgeServer } from './admission.js';
import { sendEmpty, type McpHttpRequest } from './http-io.js';
import { McpErrors } from './mcp-errors.js';
import { parseBody } from './messages.js';
import { requestMeter, type RequestMeter } from './request-meter.js';
import { traceRequests } from './request-trace.js';
import { openSession } from './open-session.js';
import { SseStream } from './sse-stream.js';
import { relayFailure, type SessionDeps } from './streamable-http.handler.js';

/** A stream held at this edge, as a POST through this edge tells it of its requests. */
interface LocalStream {
  sent(requests: readonly JsonRpcMessage[], meter: RequestMeter): void;
  /** The runner did not take them: the refusal is the POST's answer, and counted there. */
  withdrawn(requests: readonly JsonRpcMessage[]): void;
}

/**
 * Legacy HTTP+SSE (2024-11-05): GET /{server}/sse holds the stream, POST /{server}/message feeds
 * it. Opening the stream reserves the session on a runner, which starts the backend with the
 * initialize the client posts; every answer comes back on the stream.
 */
export class LegacySseHandler {
  /** Streams held here, told of requests posted through this edge so a dead runner is noticed fast. */
  private readonly local = new Map<string, LocalStream>();

  constructor(
    private readonly deps: SessionDeps,
    private readonly basePath: string,
  ) {}

  async stream(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = randomId();
    const sse = new SseStream(res);
    // Answers still due on this stream, each with its meter: while any is, a runner that dies is noticed within a second.
    const due = new Map<string, (outcome: McpOutcome) => void>();
    const held: { watch?: WatchHandle } = {};
    const settle = (key: string, outcome: McpOutcome) => {
      due.get(key)?.(outcome);
      if (due.delete(key) && due.size === 0) held.watch?.busy(false);
    };
    const settleAll = (outcome: McpOutcome) => {
      for (const key of [...due.keys()]) settle(key, outcome);
    };
    const endpoint = {
      sessionId,
      write: (message: JsonRpcMessage) => {
        if (isResponse(message)) settle(idKey(message.id), message.error === undefined ? 'ok' : 'error');
        return sse.send(message);
      },
      end: () => undefined,
      sessionEnded: () => {
        settleAll('error');
        sse.end();
      },
      sent: (requests: readonly JsonRpcMessage[], meter: RequestMeter) => {
        if (due.size === 0 && requests.length > 0) held.watch?.busy(true);
        for (const r of requests) if (isRequest(r)) due.set(idKey(r.id), (outcome) => meter(r.method, outcome));
      },
      withdrawn: (requests: readonly JsonRpcMessage[]) => {
        for (const r of requests) if (isRequest(r) && due.delete(idKey(r.id)) && due.size === 0) held.watch?.busy(false);
      },
    };
    const stream = this.deps.streams.open(endpoint);
    let gone = false;
    req.onClose(() => {
      gone = true;
      settleAll('cancelled');
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
    this.deps.metrics.streams(server.name, 1);
    req.onClose(() => this.deps.metrics.streams(server.name, -1));
    sse.event('endpoint', `${this.basePath}/${encodeURIComponent(server.name)}/message?sessionId=${sessionId}`);
  }

  async message(req: McpHttpRequest, res: ServerResponse, serverName: string): Promise<void> {
    const { server, principal } = await this.deps.admission.admit(req, serverName);
    const sessionId = req.query.get('sessionId');
    if (!sessionId) throw McpErrors.badRequest('the sessionId query parameter is required');
    const route = await this.route(sessionId, server, principal);
    const { messages } = parseBody(req, true);
    const requests = messages.filter(isRequest);
    const { meter, context } = traceRequests(
      this.deps.tracing,
      server.name,
      req,
      requests,
      requestMeter(this.deps.metrics, server.name, req.receivedAt),
    );
    this.local.get(sessionId)?.sent(requests, meter);
    const relayed = await this.deps.tracing.within(context, () => this.deps.relay.send(route.runnerId, sessionId, messages));
    if (!relayed.ok) {
      this.local.get(sessionId)?.withdrawn(requests);
      throw relayFailure(relayed);
    }
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
