import { BusNoRespondersError, BusPayloadTooLargeError, BusTimeoutError, type Bus, type BusSubscription } from '#bus';
import {
  AckReplySchema,
  cancelledRequestId,
  SessionClosedEventSchema,
  SessionOpenReplySchema,
  decode,
  encode,
  SessionCloseRequestSchema,
  SessionInRequestSchema,
  SessionOpenRequestSchema,
  SessionTouchRequestSchema,
  sessionClosedWildcard,
  sessionCloseSubject,
  sessionInSubject,
  sessionOpenSubject,
  sessionTouchSubject,
  type JsonRpcMessage,
  type ReplyError,
  type SessionOpenReply,
  type SessionOpenRequest,
  type SessionTouchRequest,
} from '#contracts';
import type { Logger } from '#observability';
import type { RouteTable } from './route-table.js';
import type { StreamRegistry } from './stream-registry.js';

/** How long a runner has to acknowledge a message or touch. */
const ACK_TIMEOUT_MS = 1500;
/** A close is acknowledged once the process tree is gone: stdin grace, SIGTERM grace, SIGKILL. */
const CLOSE_TIMEOUT_MS = 5000;

type RelayError = ReplyError | { code: 'RUNNER_GONE' | 'TOO_LARGE'; message: string };
export type RelayResult = { ok: true } | { ok: false; error: RelayError };

/** The edge's side of the session subjects: open, relay, touch, close, and closed events. */
export class SessionRelay {
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly routes: RouteTable,
    private readonly streams: StreamRegistry,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.subscription = this.bus.subscribe(sessionClosedWildcard, (msg) => {
      const event = decode(SessionClosedEventSchema, msg.data);
      if (event.ok) this.ended(event.value.sessionId, event.value.reason);
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  /** Asks a runner of the group to start the session; a missing runner is an error, not a throw. */
  async open(group: string, request: SessionOpenRequest, timeoutMs: number): Promise<SessionOpenReply> {
    try {
      const reply = await this.bus.request(sessionOpenSubject(group), encode(SessionOpenRequestSchema, request), { timeoutMs });
      const decoded = decode(SessionOpenReplySchema, reply.data);
      if (decoded.ok) return decoded.value;
      this.log.error({ error: decoded.error }, 'malformed session.open reply');
      return { ok: false, error: { code: 'INTERNAL', message: 'the runner sent a malformed reply' } };
    } catch (err) {
      if (err instanceof BusNoRespondersError) {
        return { ok: false, error: { code: 'BACKEND_FAILED', message: `no runner is serving group ${group}` } };
      }
      if (err instanceof BusTimeoutError) {
        return { ok: false, error: { code: 'BACKEND_FAILED', message: 'the runner did not start the session in time' } };
      }
      if (err instanceof BusPayloadTooLargeError) return { ok: false, error: { code: 'BAD_REQUEST', message: tooLarge(err) } };
      throw err;
    }
  }

  send(runnerId: string, sessionId: string, message: JsonRpcMessage, stream?: string): Promise<RelayResult> {
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) this.streams.cancel(sessionId, cancelled);
    const payload = encode(SessionInRequestSchema, { message, stream });
    return this.ack(sessionInSubject(runnerId, sessionId), payload, sessionId);
  }

  /** Sends messages one after another; stops at, and returns, the first the runner did not take. */
  async sendAll(runnerId: string, sessionId: string, messages: readonly JsonRpcMessage[], stream?: string): Promise<RelayResult> {
    for (const message of messages) {
      const result = await this.send(runnerId, sessionId, message, stream);
      if (!result.ok) return result;
    }
    return { ok: true };
  }

  /** Keeps the session alive on its runner and its route alive in the bucket. */
  async touch(runnerId: string, sessionId: string, request: SessionTouchRequest = {}): Promise<RelayResult> {
    const result = await this.ack(sessionTouchSubject(runnerId, sessionId), encode(SessionTouchRequestSchema, request), sessionId);
    if (result.ok) await this.routes.keepAlive(sessionId);
    return result;
  }

  close(runnerId: string, sessionId: string, reason: string): Promise<RelayResult> {
    return this.ack(sessionCloseSubject(runnerId, sessionId), encode(SessionCloseRequestSchema, { reason }), sessionId, CLOSE_TIMEOUT_MS);
  }

  /** The session is over here: streams fail what is pending, the cached route goes. */
  ended(sessionId: string, reason: string): void {
    this.routes.forget(sessionId);
    this.streams.sessionEnded(sessionId, reason);
  }

  private async ack(subject: string, payload: Uint8Array, sessionId: string, timeoutMs = ACK_TIMEOUT_MS): Promise<RelayResult> {
    let result: RelayResult;
    try {
      const reply = await this.bus.request(subject, payload, { timeoutMs });
      const decoded = decode(AckReplySchema, reply.data);
      result = decoded.ok ? decoded.value : { ok: false, error: { code: 'INTERNAL', message: decoded.error } };
    } catch (err) {
      if (err instanceof BusPayloadTooLargeError) return { ok: false, error: { code: 'TOO_LARGE', message: tooLarge(err) } };
      if (!(err instanceof BusNoRespondersError || err instanceof BusTimeoutError)) throw err;
      result = { ok: false, error: { code: 'RUNNER_GONE', message: 'the runner holding this session is gone' } };
    }
    // A runner that is gone or has forgotten the session ends it for everyone on this edge.
    if (!result.ok && (result.error.code === 'RUNNER_GONE' || result.error.code === 'SESSION_NOT_FOUND')) {
      this.ended(sessionId, result.error.message);
      await this.routes.delete(sessionId).catch(() => undefined);
    }
    return result;
  }
}

function tooLarge(err: BusPayloadTooLargeError): string {
  return `Payload Too Large: the message (${err.size} bytes) is larger than the gateway's message bus carries (${err.limit} bytes)`;
}
