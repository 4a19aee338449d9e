import {
  cancelledRequestId,
  errorResponse,
  JsonRpcCode,
  idKey,
  isRequest,
  isResponse,
  progressNotificationToken,
  progressTokenOf,
  type JsonRpcMessage,
  type RequestId,
  type SessionTransport,
} from '#contracts';
import type { Logger } from '#observability';
import { errorCodeOf, type AuditCaller, type AuditTicket } from '../audit/call-audit.js';
import type { BackendConnection } from '../backends/backend.port.js';
import type { Outbound } from './outbound.port.js';
import type { ToolFilter } from './tool-filter.js';

export interface SessionIdentity {
  id: string;
  sub: string;
  server: string;
  transport: SessionTransport;
}

interface InFlight {
  id: RequestId;
  /** The logical stream that receives the response. */
  stream: string | undefined;
  method: string;
  progressToken: RequestId | undefined;
  audit: AuditTicket | undefined;
}

export interface SessionDeps {
  toolFilter: ToolFilter;
  log: Logger;
  now: () => number;
  /** Time allowed to start the backend and answer initialize. */
  startTimeoutMs: number;
  onEnded: (session: RunnerSession, reason: string) => void;
  /** Opens the audit ticket of a request that is audited; `caller` is the session's principal unless a pooled call names its own. */
  audit: (request: JsonRpcMessage & { method: string }, caller: AuditCaller | undefined) => AuditTicket | undefined;
}

type PendingInitialize = JsonRpcMessage & { id: RequestId };

/**
 * One MCP session, owned here: its requests in flight, cancellation, idle clock and streams. A
 * legacy SSE session is reserved when its stream opens and starts with the initialize it relays.
 */
export class RunnerSession {
  lastActivity: number;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly progressStreams = new Map<RequestId, string | undefined>();
  private state: 'reserved' | 'starting' | 'open' | 'ended' = 'reserved';
  private initializeWaiter: { key: string; resolve: (m: JsonRpcMessage) => void } | undefined;
  private ending: Promise<void> | undefined;
  private started: Promise<void> | undefined;
  private announceEnd: (reason: string) => void = () => undefined;
  /** Resolves with the reason once the session has ended, however it ended. */
  private readonly endedWith = new Promise<string>((resolve) => (this.announceEnd = resolve));

  constructor(
    readonly identity: SessionIdentity,
    private readonly backend: BackendConnection,
    readonly outbound: Outbound,
    private readonly deps: SessionDeps,
  ) {
    this.lastActivity = deps.now();
    backend.onmessage = (m) => this.fromBackend(m);
    backend.onclose = (reason) => void this.end(reason);
  }

  /**
   * Starts the backend (once) and relays the request that opens the session — initialize, or a
   * warm pool's server/discover probe, which may be followed by initialize when it is refused.
   * Resolves with the backend's response, rejects on failure.
   */
  async open(initialize: PendingInitialize, timeoutMs = this.deps.startTimeoutMs): Promise<JsonRpcMessage> {
    this.state = 'starting';
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`the backend of ${this.identity.server} did not answer ${String(initialize.method)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    const ended = this.endedWith.then((reason) => Promise.reject(new Error(reason)));
    const answered = (async () => {
      await (this.started ??= this.backend.start());
      const response = new Promise<JsonRpcMessage>((resolve) => (this.initializeWaiter = { key: idKey(initialize.id), resolve }));
      this.backend.send(initialize);
      return response;
    })();
    try {
      const response = await Promise.race([answered, timeout, ended]);
      if (response.error === undefined && this.state === 'starting') this.state = 'open';
      return response;
    } finally {
      clearTimeout(timer);
      this.initializeWaiter = undefined;
    }
  }

  get isEnded(): boolean {
    return this.state === 'ended';
  }

  /** Whether any request is waiting for its response: such a session is never closed to make room. */
  get isBusy(): boolean {
    return this.inFlight.size > 0 || this.state === 'starting';
  }

  /**
   * Client messages, in order; `stream` receives the responses to the requests among them.
   * `caller`: who sent them, when that is not the session's principal (a warm pool's call).
   */
  fromClient(messages: readonly JsonRpcMessage[], stream: string | undefined, caller?: AuditCaller): void {
    this.lastActivity = this.deps.now();
    const key = this.outbound.streamFor(stream);
    for (const message of messages) {
      if (this.state === 'open') this.relay(message, key, caller);
      else this.beforeInitialize(message, key);
    }
    if (key !== undefined && !this.streamBusy(key)) this.outbound.end(key);
  }

  /** A live client connection: activity. */
  touch(): void {
    this.lastActivity = this.deps.now();
  }

  /** A stream opened on an edge (resuming `resumeAfter`); returns the event id a new standalone stream primes with. */
  attach(subject: string, resumeAfter: string | undefined): string | undefined {
    this.touch();
    return this.outbound.attach(subject, resumeAfter, (k) => this.streamBusy(k));
  }

  /** A stream closed on an edge. */
  detach(subject: string): undefined {
    this.outbound.detach(subject);
    return undefined;
  }

  /** Ends the session: unanswered requests get an error, then the backend goes; resolves once its process tree is gone. */
  end(reason: string): Promise<void> {
    if (!this.ending) {
      this.state = 'ended';
      this.announceEnd(reason);
      for (const request of this.inFlight.values()) {
        request.audit?.end('protocol_error', JsonRpcCode.serverError);
        this.outbound.send(request.stream, errorResponse(request.id, JsonRpcCode.serverError, `Session ended: ${reason}`));
      }
      this.inFlight.clear();
      this.outbound.endAll();
      this.ending = this.backend.close();
      this.deps.onEnded(this, reason);
    }
    return this.ending;
  }

  private relay(message: JsonRpcMessage, stream: string | undefined, caller: AuditCaller | undefined): void {
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.settle(cancelled);
    if (isRequest(message)) {
      const audit = this.deps.audit(message, caller);
      const refusal = this.refusal(message);
      if (refusal) {
        audit?.end(refusal.byPolicy ? 'refused' : 'protocol_error', errorCodeOf(refusal.response));
        return this.outbound.send(stream, refusal.response);
      }
      const progressToken = progressTokenOf(message);
      this.inFlight.set(idKey(message.id), { id: message.id, stream, method: message.method, progressToken, audit });
      if (progressToken !== undefined) this.progressStreams.set(progressToken, stream);
    }
    this.backend.send(message);
  }

  /** Why a request is answered here instead of by the backend, if it is, and whether the server's tool policy is why. */
  private refusal(
    request: JsonRpcMessage & { id: RequestId; method: string },
  ): { response: JsonRpcMessage; byPolicy: boolean } | undefined {
    const invalid = (why: string) => ({
      response: errorResponse(request.id, JsonRpcCode.invalidRequest, `Invalid Request: ${why}`),
      byPolicy: false,
    });
    if (request.method === 'initialize') return invalid('this session is already initialized');
    if (this.inFlight.has(idKey(request.id))) {
      return invalid(`a request with id ${JSON.stringify(request.id)} is already in flight in this session`);
    }
    if (request.method === 'tools/call' && !this.deps.toolFilter.allows(toolName(request))) {
      const response = errorResponse(request.id, JsonRpcCode.invalidParams, `Tool ${String(toolName(request))} is not available`);
      return { response, byPolicy: true };
    }
    return undefined;
  }

  /** Legacy SSE: the first message must be initialize, which starts the backend; nothing else until it is answered. */
  private beforeInitialize(message: JsonRpcMessage, stream: string | undefined): void {
    if (!isRequest(message) || this.state === 'ended') return;
    if (message.method !== 'initialize' || this.state !== 'reserved') {
      const why = this.state === 'reserved' ? 'initialize the session first' : 'the session is still initializing';
      return this.outbound.send(stream, errorResponse(message.id, JsonRpcCode.invalidRequest, `Bad Request: ${why}`));
    }
    void this.open(message).then(
      (response) => {
        this.outbound.send(
          stream,
          response.error === undefined ? response : errorResponse(message.id, JsonRpcCode.serverError, 'the backend refused initialize'),
        );
        if (response.error !== undefined) void this.end('the backend refused initialize');
      },
      (err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.outbound.send(stream, errorResponse(message.id, JsonRpcCode.serverError, reason));
        void this.end(reason);
      },
    );
  }

  /** A cancelled request gets no response; one that comes anyway is dropped. */
  private settle(id: RequestId): void {
    const request = this.inFlight.get(idKey(id));
    if (!request) return;
    request.audit?.end('cancelled');
    this.inFlight.delete(idKey(id));
    if (request.progressToken !== undefined) this.progressStreams.delete(request.progressToken);
    if (request.stream !== undefined && !this.streamBusy(request.stream)) this.outbound.end(request.stream);
  }

  private streamBusy(key: string): boolean {
    for (const request of this.inFlight.values()) if (request.stream === key) return true;
    return false;
  }

  // Backend chatter (logs, list changes) is not activity: a session no client uses must idle out.
  private fromBackend(message: JsonRpcMessage): void {
    if (isResponse(message)) {
      const key = idKey(message.id);
      if (this.initializeWaiter?.key === key) return this.initializeWaiter.resolve(message);
      const request = this.inFlight.get(key);
      if (!request) return this.deps.log.warn({ ...this.logFields(), id: message.id }, 'backend answered an unknown request');
      this.inFlight.delete(key);
      if (request.progressToken !== undefined) this.progressStreams.delete(request.progressToken);
      const response = request.method === 'tools/list' ? this.deps.toolFilter.filterListResponse(message) : message;
      // The last answer on its stream ends the stream in the same bus message.
      this.outbound.send(request.stream, response, request.stream !== undefined && !this.streamBusy(request.stream));
      // After the answer is on its way: the record never delays it.
      request.audit?.answered(message);
      return;
    }
    const token = progressNotificationToken(message);
    if (token !== undefined && this.progressStreams.has(token)) return this.outbound.send(this.progressStreams.get(token), message);
    this.outbound.offer(message);
  }

  private logFields() {
    return { sessionId: this.identity.id, sub: this.identity.sub, server: this.identity.server };
  }
}

function toolName(request: JsonRpcMessage): unknown {
  const params = request.params;
  return typeof params === 'object' && params !== null && 'name' in params ? params.name : undefined;
}
