import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  errorResponse,
  formatRequestState,
  isRequest,
  isResponse,
  JsonRpcCode,
  progressTokenOf,
  streamIdOf,
  type JsonRpcMessage,
  type ParkedCallState,
  type RequestId,
  MCP_META,
  metaOf,
  paramsOf,
} from '#contracts';
import type { Logger } from '#observability';
import type { Outbound } from '../sessions/outbound.port.js';
import type { StreamSink } from '../sessions/stream-sink.port.js';
import { INPUT_CAPABLE_METHODS, requestName } from './stateless-messages.js';

const SUBSCRIPTION_ID = MCP_META.subscriptionId;

/** One stateless call in flight on a pooled session. */
export interface PooledCall {
  /** The logical stream key: the edge's stream id of the call's first request. */
  readonly key: string;
  /** The id the backend knows the call by (unique in the session; each edge maps it back to its client's). */
  readonly requestId: RequestId;
  readonly method: string;
  readonly name: string | undefined;
  readonly sub: string;
  /** Whether the client asked for log messages (`_meta` logLevel). */
  readonly logs: boolean;
  /** A list request's cache key, and the cache generation it was asked in (a list change since voids its answer). */
  readonly listKey?: string | undefined;
  readonly listGeneration?: number | undefined;
  /** The edge stream answering the call now; undefined while the call waits for the client's input. */
  subject: string | undefined;
  /** The progress token of the client request answering now (a retry may bring its own). */
  progressToken: RequestId | undefined;
  input: InputWait | undefined;
  /** The backend's answer when it came while the call waited for the client: given to the retry. */
  final: JsonRpcMessage | undefined;
}

export type CallOptions = Pick<PooledCall, 'sub' | 'logs' | 'listKey' | 'listGeneration'>;

/** Requests of the backend that the client has been asked to answer (in an input_required result). */
interface InputWait {
  readonly asked: Map<string, { backendId: RequestId; request: { method: string; params?: unknown } }>;
  readonly timer: NodeJS.Timeout;
  count: number;
}

export interface CallOutboundDeps {
  sessionId: string;
  runnerId: string;
  sink: StreamSink;
  log: Logger;
  /** Key of the MACs in this runner's requestState values. */
  secret: Buffer;
  /** How long a call waits for the client to retry with the input asked for. */
  inputTimeoutMs: number;
  /** What the session's clients declared they can answer (sampling, elicitation and its modes, roots). */
  capabilities: Record<string, unknown>;
  /** Completes a result for a stateless client (resultType, server identity, cache hints). */
  decorate: (call: PooledCall, response: JsonRpcMessage) => JsonRpcMessage;
  onListChanged: (method: string) => void;
  onEnded: () => void;
}

/** Requests a 2025 backend may send while it serves a call, and the client capability each needs. */
const INPUT_METHODS = new Map([
  ['sampling/createMessage', 'sampling'],
  ['elicitation/create', 'elicitation'],
  ['roots/list', 'roots'],
]);

/**
 * Where a pooled session's backend messages go: each call's answer to the edge stream holding
 * the call, and the backend's own requests (sampling, elicitation, roots) bridged into the
 * input_required results of 2026-07-28: the call waits, the client's retry — on any edge —
 * brings the answers, which go to the backend as its responses.
 */
export class CallOutbound implements Outbound {
  private readonly calls = new Map<string, PooledCall>();
  /** Answers the backend (its requests) and cancels calls; set once the session exists. */
  toBackend: (message: JsonRpcMessage) => void = () => undefined;

  constructor(private readonly deps: CallOutboundDeps) {}

  /** Calls in flight, waiting ones included. */
  get active(): number {
    return this.calls.size;
  }

  /** A call about to be relayed to the backend with `subject` as its stream. */
  register(subject: string, request: JsonRpcMessage & { id: RequestId; method: string }, options: CallOptions): void {
    const key = streamIdOf(subject);
    const { method, id: requestId } = request;
    const progressToken = progressTokenOf(request);
    this.calls.set(key, {
      key,
      requestId,
      method,
      name: requestName(request),
      ...options,
      subject,
      progressToken,
      input: undefined,
      final: undefined,
    });
  }

  streamFor(subject: string | undefined): string | undefined {
    return subject === undefined ? undefined : streamIdOf(subject);
  }

  send(key: string | undefined, message: JsonRpcMessage, last = false): void {
    const call = key === undefined ? undefined : this.calls.get(key);
    if (!call) return;
    // Progress goes to the request answering now, under its token; while the call waits, it is lost.
    if (!isResponse(message)) return this.publish(call, withProgressToken(message, call.progressToken));
    const answer = this.deps.decorate(call, message);
    if (call.subject === undefined) call.final = answer;
    else this.publish(call, answer);
    if (last) this.end(call.key);
  }

  end(key: string): void {
    const call = this.calls.get(key);
    if (!call) return;
    // An answer that came while the call waited is kept for the retry.
    if (call.subject === undefined && call.final !== undefined) return;
    this.finish(call);
  }

  endAll(): void {
    for (const call of [...this.calls.values()]) this.finish(call);
    this.deps.onEnded();
  }

  offer(message: JsonRpcMessage): void {
    if (isRequest(message)) return this.bridge(message);
    const method = message.method;
    if (typeof method !== 'string') return;
    if (method.endsWith('/list_changed')) this.deps.onListChanged(method);
    // A 2026 backend tags what it sends for a subscriptions/listen call with that call's id.
    const listener = [...this.calls.values()].find((c) => c.requestId === metaOf(message)[SUBSCRIPTION_ID]);
    if (listener) return this.publish(listener, message);
    // A log line belongs to a call only when one call could have caused it.
    const [only, ...others] = this.calls.values();
    if (method === 'notifications/message' && only?.logs && others.length === 0) this.publish(only, message);
  }

  attach(): string | undefined {
    return undefined;
  }

  detach(): void {}

  /**
   * A client's retry of a call that waits for input: checked against the state the call was
   * given, the answers go to the backend, and the call answers on `subject` from now on.
   */
  resume(state: ParkedCallState, retry: JsonRpcMessage & { id: RequestId; method: string }, sub: string, subject: string): void {
    const call = this.calls.get(state.callId);
    const refusal = !call
      ? 'the call this requestState belongs to has ended (answered, expired or cancelled); call again without requestState'
      : !this.validState(call, state, sub) || call.method !== retry.method || call.name !== requestName(retry)
        ? 'requestState does not belong to this request'
        : undefined;
    if (refusal || !call) {
      this.deps.sink.publish(subject, {
        sessionId: this.deps.sessionId,
        message: errorResponse(retry.id, JsonRpcCode.invalidParams, `Invalid params: ${refusal}`),
      });
      this.deps.sink.publish(subject, { sessionId: this.deps.sessionId, end: true });
      return;
    }
    call.subject = subject;
    call.progressToken = progressTokenOf(retry);
    const responses = paramsOf(retry).inputResponses;
    const given = typeof responses === 'object' && responses !== null ? (responses as Record<string, unknown>) : {};
    for (const [key, asked] of call.input?.asked ?? []) {
      const answer = given[key];
      if (typeof answer !== 'object' || answer === null) continue;
      call.input?.asked.delete(key);
      this.toBackend({ jsonrpc: '2.0', id: asked.backendId, result: answer });
    }
    if (call.final !== undefined) {
      this.publish(call, call.final);
      return this.finish(call);
    }
    if (call.input && call.input.asked.size > 0) return this.askClient(call); // what was not answered is asked again
    this.stopWaiting(call);
  }

  /** A backend request during a call: the call's client is asked for it in an input_required result. */
  private bridge(request: JsonRpcMessage & { id: RequestId; method: string }): void {
    // Only a call that may answer input_required can have caused it; lists in flight beside it cannot.
    const [call, ...others] = [...this.calls.values()].filter((c) => INPUT_CAPABLE_METHODS.has(c.method));
    const why = !INPUT_METHODS.has(request.method)
      ? `${request.method} is not a request a stateless client can answer`
      : !this.declared(request)
        ? `the client did not declare the capability ${request.method} needs`
        : 'no single client request is in progress to carry this request to its client';
    if (!call || others.length > 0 || !this.declared(request)) {
      this.deps.log.warn({ sessionId: this.deps.sessionId, method: request.method }, `backend request refused: ${why}`);
      return this.toBackend(errorResponse(request.id, JsonRpcCode.internalError, why));
    }
    const input = call.input ?? this.startWaiting(call);
    input.count += 1;
    const key = `${request.method.split('/')[0]}-${input.count}`;
    input.asked.set(key, {
      backendId: request.id,
      request: { method: request.method, ...(request.params !== undefined && { params: request.params }) },
    });
    if (call.subject !== undefined) this.askClient(call);
  }

  /** Whether the session's clients declared what `request` asks of them (a URL elicitation needs its mode). */
  private declared(request: JsonRpcMessage & { method: string }): boolean {
    const capability = INPUT_METHODS.get(request.method);
    const declared = capability === undefined ? undefined : this.deps.capabilities[capability];
    if (declared === undefined) return false;
    if (request.method !== 'elicitation/create' || paramsOf(request).mode !== 'url') return true;
    return typeof declared === 'object' && declared !== null && 'url' in declared;
  }

  /** Answers the call's current stream with input_required; the call waits for the retry. */
  private askClient(call: PooledCall): void {
    const inputRequests = Object.fromEntries([...(call.input?.asked ?? [])].map(([key, asked]) => [key, asked.request]));
    const result = { resultType: 'input_required', inputRequests, requestState: this.stateOf(call) };
    this.publish(call, { jsonrpc: '2.0', id: call.requestId, result });
    if (call.subject !== undefined) this.deps.sink.publish(call.subject, { sessionId: this.deps.sessionId, end: true });
    call.subject = undefined;
  }

  private startWaiting(call: PooledCall): InputWait {
    const timer = setTimeout(() => this.expire(call), this.deps.inputTimeoutMs);
    timer.unref();
    call.input = { asked: new Map(), timer, count: 0 };
    return call.input;
  }

  private stopWaiting(call: PooledCall): void {
    if (call.input) clearTimeout(call.input.timer);
    call.input = undefined;
  }

  /** The client never came back: the backend's requests fail, and the call is cancelled. */
  private expire(call: PooledCall): void {
    if (this.calls.get(call.key) !== call || call.subject !== undefined) return;
    const reason = `the client did not answer the request for input within ${this.deps.inputTimeoutMs} ms`;
    for (const asked of call.input?.asked.values() ?? []) this.toBackend(errorResponse(asked.backendId, JsonRpcCode.internalError, reason));
    this.toBackend({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: call.requestId, reason } });
    this.finish(call);
  }

  private finish(call: PooledCall): void {
    this.stopWaiting(call);
    this.calls.delete(call.key);
    if (call.subject !== undefined) this.deps.sink.publish(call.subject, { sessionId: this.deps.sessionId, end: true });
  }

  private publish(call: PooledCall, message: JsonRpcMessage): void {
    if (call.subject !== undefined) this.deps.sink.publish(call.subject, { sessionId: this.deps.sessionId, message });
  }

  private stateOf(call: PooledCall): string {
    return formatRequestState({
      runnerId: this.deps.runnerId,
      sessionId: this.deps.sessionId,
      callId: call.key,
      mac: this.mac(call, call.sub),
    });
  }

  private validState(call: PooledCall, state: ParkedCallState, sub: string): boolean {
    const expected = Buffer.from(this.mac(call, sub));
    const given = Buffer.from(state.mac);
    return (
      call.input !== undefined &&
      state.sessionId === this.deps.sessionId &&
      expected.length === given.length &&
      timingSafeEqual(expected, given)
    );
  }

  /** Binds a requestState to the session, the call, the caller and what was called. */
  private mac(call: PooledCall, sub: string): string {
    const bound = [this.deps.sessionId, call.key, sub, call.method, call.name ?? ''].join('\n');
    return createHmac('sha256', this.deps.secret).update(bound).digest('base64url');
  }
}

function withProgressToken(message: JsonRpcMessage, token: RequestId | undefined): JsonRpcMessage {
  if (message.method !== 'notifications/progress' || token === undefined) return message;
  return { ...message, params: { ...paramsOf(message), progressToken: token } };
}
