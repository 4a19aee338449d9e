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
} from '#contracts';
import type { Logger } from '#observability';
import type { BackendConnection } from '../backends/backend.port.js';
import type { StreamSink } from './stream-sink.port.js';
import type { ToolFilter } from './tool-filter.js';

/** Server-initiated messages kept while no stream is open, oldest dropped first. */
const OUT_BUFFER_LIMIT = 256;

export interface SessionIdentity {
  id: string;
  sub: string;
  server: string;
}

interface InFlight {
  stream: string | undefined;
  method: string;
  progressToken: RequestId | undefined;
}

/** One MCP session: a client's messages in, its backend's messages routed to the right stream. */
export class RunnerSession {
  lastActivity: number;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly progressStreams = new Map<RequestId, string>();
  private attached: string | undefined;
  private readonly outBuffer: JsonRpcMessage[] = [];
  private outChain: Promise<void> = Promise.resolve();
  private initializeWaiter: { key: string; resolve: (m: JsonRpcMessage) => void } | undefined;
  private ending: Promise<void> | undefined;
  private announceEnd: (reason: string) => void = () => undefined;
  /** Resolves with the reason once the session has ended, however it ended. */
  private readonly endedWith = new Promise<string>((resolve) => (this.announceEnd = resolve));

  constructor(
    readonly identity: SessionIdentity,
    private readonly backend: BackendConnection,
    private readonly deps: {
      sink: StreamSink;
      toolFilter: ToolFilter;
      log: Logger;
      now: () => number;
      onEnded: (session: RunnerSession, reason: string) => void;
    },
    attachedStream: string | undefined,
  ) {
    this.attached = attachedStream;
    this.lastActivity = deps.now();
    backend.onmessage = (m) => this.fromBackend(m);
    backend.onclose = (reason) => void this.end(reason);
  }

  /** Starts the backend and relays initialize; resolves with the backend's response. */
  async open(initialize: JsonRpcMessage & { id: RequestId }, timeoutMs: number): Promise<JsonRpcMessage> {
    await this.backend.start();
    const response = new Promise<JsonRpcMessage>((resolve) => {
      this.initializeWaiter = { key: idKey(initialize.id), resolve };
    });
    this.backend.send(initialize);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the backend did not answer initialize within ${timeoutMs} ms`)), timeoutMs);
    });
    const ended = this.endedWith.then((reason) => Promise.reject(new Error(reason)));
    try {
      return await Promise.race([response, timeout, ended]);
    } finally {
      clearTimeout(timer);
      this.initializeWaiter = undefined;
    }
  }

  /** A message from the client; `stream` receives the response of a request. */
  fromClient(message: JsonRpcMessage, stream: string | undefined): void {
    this.lastActivity = this.deps.now();
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.forget(cancelled);
    if (isRequest(message)) {
      if (message.method === 'tools/call' && !this.deps.toolFilter.allows(toolName(message))) {
        const refusal = errorResponse(message.id, JsonRpcCode.invalidParams, `Tool ${String(toolName(message))} is not available`);
        this.toStream(stream, refusal);
        return;
      }
      const progressToken = progressTokenOf(message);
      this.inFlight.set(idKey(message.id), { stream, method: message.method, progressToken });
      if (progressToken !== undefined && stream) this.progressStreams.set(progressToken, stream);
    }
    this.backend.send(message);
  }

  /** A cancelled request gets no response; one that comes anyway is dropped. */
  private forget(id: RequestId): void {
    const request = this.inFlight.get(idKey(id));
    if (request?.progressToken !== undefined) this.progressStreams.delete(request.progressToken);
    this.inFlight.delete(idKey(id));
  }

  /** Keeps the session alive and moves where server-initiated messages go. */
  touch(attach: string | undefined, detach: string | undefined): void {
    this.lastActivity = this.deps.now();
    if (detach !== undefined && this.attached === detach) this.attached = undefined;
    if (attach !== undefined) {
      this.attached = attach;
      this.outChain = this.outChain.then(() => this.flushBuffer());
    }
  }

  /** Ends the backend; every call resolves once its process tree is gone. */
  end(reason: string): Promise<void> {
    if (!this.ending) {
      this.announceEnd(reason);
      this.deps.onEnded(this, reason);
      this.ending = this.backend.close();
    }
    return this.ending;
  }

  get isEnded(): boolean {
    return this.ending !== undefined;
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
      return this.toStream(request.stream, response);
    }
    const token = progressNotificationToken(message);
    const progressStream = token === undefined ? undefined : this.progressStreams.get(token);
    if (progressStream) return this.deps.sink.publish(progressStream, this.identity.id, message);
    this.deliverOut(message);
  }

  private toStream(stream: string | undefined, message: JsonRpcMessage): void {
    if (stream) this.deps.sink.publish(stream, this.identity.id, message);
    else this.deliverOut(message);
  }

  /** Server-initiated messages leave one at a time, in order, behind any already buffered. */
  private deliverOut(message: JsonRpcMessage): void {
    this.outChain = this.outChain.then(async () => {
      if (this.outBuffer.length === 0 && (await this.offer(message))) return;
      if (this.outBuffer.push(message) > OUT_BUFFER_LIMIT) {
        this.outBuffer.shift();
        this.deps.log.warn(this.logFields(), 'no client stream is open; dropped the oldest buffered message');
      }
    });
  }

  private async flushBuffer(): Promise<void> {
    for (let next = this.outBuffer[0]; next !== undefined && (await this.offer(next)); next = this.outBuffer[0]) {
      this.outBuffer.shift();
    }
  }

  /** Tries the attached stream, then request streams newest first; re-read after each refusal. */
  private async offer(message: JsonRpcMessage): Promise<boolean> {
    const tried = new Set<string>();
    for (let stream = this.nextStream(tried); stream !== undefined; stream = this.nextStream(tried)) {
      tried.add(stream);
      if (await this.deps.sink.deliver(stream, this.identity.id, message).catch(() => false)) return true;
      if (stream === this.attached) this.attached = undefined;
    }
    return false;
  }

  private nextStream(tried: ReadonlySet<string>): string | undefined {
    if (this.attached !== undefined && !tried.has(this.attached)) return this.attached;
    const streams = [...this.inFlight.values()].map((r) => r.stream).reverse();
    return streams.find((s) => s !== undefined && !tried.has(s));
  }

  private logFields() {
    return { sessionId: this.identity.id, sub: this.identity.sub, server: this.identity.server };
  }
}

function toolName(request: JsonRpcMessage): unknown {
  const params = request.params;
  return typeof params === 'object' && params !== null && 'name' in params ? params.name : undefined;
}
