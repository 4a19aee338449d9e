import type { ServerResponse } from 'node:http';
import {
  GatehouseError,
  isRequest,
  MCP_META,
  metaOf,
  paramsOf,
  parseRequestState,
  isResponse,
  JsonRpcCode,
  type JsonRpcMessage,
  type Principal,
  type ReplyError,
  type RequestId,
} from '#contracts';
import { randomKey } from '#crypto';
import type { Metrics, Tracing } from '#observability';
import type { PoolRelay } from '../relay/pool-relay.js';
import type { SessionRelay } from '../relay/session-relay.js';
import type { SessionWatch } from '../relay/session-watch.js';
import type { StreamEndpoint, StreamRegistry } from '../relay/stream-registry.js';
import type { EdgeServer } from './admission.js';
import { sendEmpty, type McpHttpRequest } from './http-io.js';
import { PostExchange } from './post-exchange.js';
import { requestMeter, type RequestMeter } from './request-meter.js';
import { traceRequests } from './request-trace.js';
import { checkSchema } from './messages.js';
import { checkStatelessRequest, GATEWAY_PROTOCOL_VERSIONS, STATELESS_PROTOCOL_VERSION } from './request-metadata.js';

export interface StatelessDeps {
  pools: PoolRelay;
  relay: SessionRelay;
  streams: StreamRegistry;
  watch: SessionWatch;
  metrics: Metrics;
  tracing: Tracing;
}

/** Time for the bus on top of the server's own start-up timeout (a first call may start a backend). */
const CALL_MARGIN_MS = 5000;

/**
 * 2026-07-28 at /{server}/mcp: each POST one request, no session. A runner serves it from the
 * caller's warm pool; the answer (with the call's progress) comes back on this POST. Closing the
 * response before the answer cancels the call.
 */
export class StatelessHandler {
  constructor(private readonly deps: StatelessDeps) {}

  async post(
    req: McpHttpRequest,
    res: ServerResponse,
    target: { server: EdgeServer; principal: Principal; message: JsonRpcMessage; modes: { json: boolean; sse: boolean } },
  ): Promise<void> {
    const { server, principal, message, modes } = target;
    checkStatelessRequest(req.headers, message);
    // The revision defines no client notification over HTTP (closing a stream cancels): accepted, nothing to do.
    if (!isRequest(message)) return sendEmpty(res, 202);
    if (REMOVED_METHODS.has(message.method)) throw methodNotFound(message.method, message.id);
    checkSchema(message);
    const streamId = randomKey(12);
    const { meter, context } = traceRequests(
      this.deps.tracing,
      server.name,
      req,
      [message],
      requestMeter(this.deps.metrics, server.name, req.receivedAt),
    );
    const exchange = new StatelessExchange(res, message, streamId, { ...modes, meter });
    const stream = this.deps.streams.open(exchange, streamId);
    let cancel: (() => void) | undefined;
    let left = false;
    req.onClose(() => {
      if (!exchange.isDone) {
        left = true;
        cancel?.();
      }
      exchange.abandon();
    });
    const watched: { stop: () => void }[] = [];
    try {
      // The call's id (and progress token) is its stream's: unique in the pooled session, mapped back to the client's here.
      const call = { server: server.name, principal, message: relayed(message, streamId), stream: stream.subject };
      const reply = await this.deps.tracing.within(context, () =>
        this.deps.pools.call(server.runnerGroup, call, server.timeoutMs + CALL_MARGIN_MS),
      );
      if (!reply.ok) {
        if (exchange.isDone) return;
        exchange.withdraw();
        throw callRefused(reply.error, message.id);
      }
      stream.bind(reply.sessionId);
      const watch = this.deps.watch.watch(reply.sessionId, reply.runnerId);
      watch.busy(true);
      watched.push({ stop: () => (watch.busy(false), watch.stop()) });
      // A retry continues the call its requestState names: that call is the one to cancel.
      const requestId = parseRequestState(paramsOf(message).requestState)?.callId ?? streamId;
      const cancelled = {
        jsonrpc: '2.0' as const,
        method: 'notifications/cancelled',
        params: { requestId, reason: 'the client closed the response' },
      };
      cancel = () => void this.deps.relay.send(reply.runnerId, reply.sessionId, [cancelled]).catch(() => undefined);
      if (left) cancel(); // the client left before the runner took the call
      await exchange.finished();
    } finally {
      for (const w of watched) w.stop();
      stream.close();
    }
  }
}

/**
 * The answer to one stateless POST: PostExchange's JSON-or-SSE answer, with the response's id
 * given back as the client sent it, and 404 for a method nobody implements (the revision's rule).
 */
class StatelessExchange implements StreamEndpoint {
  private readonly inner: PostExchange;

  constructor(
    res: ServerResponse,
    private readonly request: JsonRpcMessage & { id: RequestId; method: string },
    /** The id the call has at the runner and the backend. */
    private readonly relayedId: string,
    modes: { json: boolean; sse: boolean; meter: RequestMeter },
  ) {
    this.inner = new PostExchange(res, [request], { batch: false, ...modes, headers: {}, primeKey: undefined, status: statusOf });
  }

  get isDone(): boolean {
    return this.inner.isDone;
  }

  finished(): Promise<void> {
    return this.inner.finished();
  }

  write(message: JsonRpcMessage): boolean {
    if (!isResponse(message)) return this.inner.write(this.clientsOwn(message), undefined);
    const answer = { ...message, id: this.request.id };
    return this.inner.write(this.request.method === 'server/discover' ? speakingEveryVersion(answer) : answer, undefined);
  }

  end(): void {
    this.inner.end();
  }

  /** A notification for this call names it as the client did: its progress token, its subscription id. */
  private clientsOwn(message: JsonRpcMessage): JsonRpcMessage {
    const params = paramsOf(message);
    const meta = metaOf(message);
    if (message.method === 'notifications/progress' && params.progressToken === this.relayedId) {
      const token = metaOf(this.request).progressToken;
      return { ...message, params: { ...params, progressToken: token } };
    }
    if (meta[SUBSCRIPTION_ID] !== this.relayedId) return message;
    return { ...message, params: { ...params, _meta: { ...meta, [SUBSCRIPTION_ID]: this.request.id } } };
  }

  sessionEnded(reason: string): void {
    this.inner.sessionEnded(reason);
  }

  abandon(): void {
    this.inner.abandon();
  }

  withdraw(): void {
    this.inner.withdraw();
  }
}

const REFUSAL_STATUS: Record<ReplyError['code'], number> = {
  SESSION_NOT_FOUND: 400,
  SESSION_LIMIT: 429,
  BAD_REQUEST: 400,
  UNKNOWN_SERVER: 502,
  BACKEND_FAILED: 502,
  UNAVAILABLE: 503,
  INTERNAL: 502,
};

/** A call no runner took, answered with the client's id; a retry whose waiting call is gone is the client's to redo. */
function callRefused(error: ReplyError, rpcId: RequestId): GatehouseError {
  const rpcCode = error.code === 'SESSION_NOT_FOUND' || error.code === 'BAD_REQUEST' ? JsonRpcCode.invalidParams : JsonRpcCode.serverError;
  const headers: Record<string, string> = error.code === 'UNAVAILABLE' ? { 'retry-after': '1' } : {};
  return new GatehouseError(`call_${error.code.toLowerCase()}`, REFUSAL_STATUS[error.code], error.message, { rpcCode, rpcId, headers });
}

/** Methods 2026-07-28 removed: a 2025 backend would still answer them, so they stop here. */
const REMOVED_METHODS = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

function methodNotFound(method: string, rpcId: RequestId): GatehouseError {
  return new GatehouseError(
    'method_not_found',
    404,
    `Method not found: ${method} is not part of protocol revision ${STATELESS_PROTOCOL_VERSION}`,
    {
      rpcCode: JsonRpcCode.methodNotFound,
      rpcId,
    },
  );
}

/** The HTTP status the revision gives an answer: 404 for an unknown method, 400 for its own request errors. */
function statusOf(response: JsonRpcMessage): number {
  const { error } = response;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  if (code === JsonRpcCode.methodNotFound) return 404;
  const requestErrors: unknown[] = [
    JsonRpcCode.headerMismatch,
    JsonRpcCode.missingRequiredClientCapability,
    JsonRpcCode.unsupportedProtocolVersion,
  ];
  return requestErrors.includes(code) ? 400 : 200;
}

/** The endpoint speaks every version the gateway does, whatever the backend behind it lists. */
function speakingEveryVersion(response: JsonRpcMessage): JsonRpcMessage {
  const { result } = response;
  if (typeof result !== 'object' || result === null || Array.isArray(result)) return response;
  return { ...response, result: { ...result, supportedVersions: GATEWAY_PROTOCOL_VERSIONS } };
}

const SUBSCRIPTION_ID = MCP_META.subscriptionId;

/** The request as the runner sees it: id and progress token unique in the pooled session. */
function relayed(message: JsonRpcMessage & { id: RequestId }, streamId: string): JsonRpcMessage & { id: RequestId } {
  const meta = metaOf(message);
  if (meta.progressToken === undefined) return { ...message, id: streamId };
  return { ...message, id: streamId, params: { ...paramsOf(message), _meta: { ...meta, progressToken: streamId } } };
}
