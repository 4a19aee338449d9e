import { BusNoRespondersError, BusPayloadTooLargeError, BusTimeoutError, type Bus } from '#bus';
import {
  decode,
  encode,
  encodeJson,
  SessionCloseRequestSchema,
  SessionInReplySchema,
  SessionInRequestSchema,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  SessionAttachRequestSchema,
  SessionTouchRequestSchema,
  sessionAttachSubject,
  sessionCloseSubject,
  sessionInJson,
  sessionInSubject,
  sessionOpenSubject,
  sessionTouchSubject,
  AttachReplySchema,
  type JsonRpcMessage,
  type ReplyError,
  type SessionOpenReply,
  type SessionOpenRequest,
  type SessionAttachRequest,
  type SessionInRequest,
  type StreamMessage,
} from '#contracts';
import type { Logger } from '#observability';
import type { RouteTable } from './route-table.js';
import type { StreamRegistry } from './stream-registry.js';

// Encoded once: edges touch often.
const TOUCH = encode(SessionTouchRequestSchema, {});
/** How long a runner has to acknowledge a message or touch. */
const ACK_TIMEOUT_MS = 1500;
/** A close is acknowledged once the process tree is gone: stdin grace, SIGTERM grace, SIGKILL. */
const CLOSE_TIMEOUT_MS = 5000;

type RelayError = ReplyError | { code: 'RUNNER_GONE' | 'TOO_LARGE'; message: string };
export type RelayResult =
  { ok: true; eventId?: string | undefined; events?: StreamMessage[] | undefined } | { ok: false; error: RelayError };

/** The edge's side of the session subjects: open, relay, touch, close; and what it learns of sessions ending. */
export class SessionRelay {
  constructor(
    private readonly bus: Bus,
    private readonly routes: RouteTable,
    private readonly streams: StreamRegistry,
    private readonly log: Logger,
  ) {}

  /** Asks a runner of the group to start the session; a missing runner is an error, not a throw. */
  async open(group: string, request: SessionOpenRequest, timeoutMs: number): Promise<SessionOpenReply> {
    let reply: SessionOpenReply;
    try {
      const answer = await this.bus.request(sessionOpenSubject(group), encode(SessionOpenRequestSchema, request), { timeoutMs });
      const decoded = decode(SessionOpenReplySchema, answer.data);
      if (!decoded.ok) this.log.warn({ error: decoded.error }, 'malformed session.open reply');
      reply = decoded.ok ? decoded.value : { ok: false, error: { code: 'INTERNAL', message: 'the runner sent a malformed reply' } };
    } catch (err) {
      if (err instanceof BusNoRespondersError) return refused('BACKEND_FAILED', `no runner is serving group ${group}`);
      if (err instanceof BusTimeoutError) return refused('BACKEND_FAILED', 'the runner did not start the session in time');
      if (err instanceof BusPayloadTooLargeError) return refused('BAD_REQUEST', tooLarge(err));
      throw err;
    }
    if (reply.ok) {
      const { sessionId, principal, server, transport } = request;
      this.routes.remember(sessionId, { runnerId: reply.runnerId, sub: principal.sub, server, transport });
    }
    return reply;
  }

  /**
   * One POST's messages, in order; `stream` receives the responses to its requests. With
   * `answerInReply`, the reply may bring the stream's first events (see SessionInRequest), which
   * the caller writes to the stream's endpoint itself.
   */
  send(
    runnerId: string,
    sessionId: string,
    messages: readonly JsonRpcMessage[],
    stream?: string,
    answerInReply = false,
  ): Promise<RelayResult> {
    // One of two fixed shapes, not a member added after.
    const request: SessionInRequest = answerInReply
      ? { messages: [...messages], stream, answerInReply: true }
      : { messages: [...messages], stream };
    let payload = encodeJson(SessionInRequestSchema, request, sessionInJson(request));
    // A client's text may be laid out longer than its JSON: one the bus cannot carry is stringified.
    if (payload.byteLength > this.bus.maxPayloadBytes) payload = encode(SessionInRequestSchema, request);
    return this.ack(sessionInSubject(runnerId, sessionId), payload, sessionId, ACK_TIMEOUT_MS, SessionInReplySchema);
  }

  /** A live client connection: keeps the session alive on its runner, and proves the runner is. */
  touch(runnerId: string, sessionId: string): Promise<RelayResult> {
    return this.ack(sessionTouchSubject(runnerId, sessionId), TOUCH, sessionId);
  }

  /** Opens (or resumes) or closes a stream of the session at its runner. */
  attach(runnerId: string, sessionId: string, request: SessionAttachRequest): Promise<RelayResult> {
    return this.ack(sessionAttachSubject(runnerId, sessionId), encode(SessionAttachRequestSchema, request), sessionId);
  }

  close(runnerId: string, sessionId: string, reason: string): Promise<RelayResult> {
    return this.ack(sessionCloseSubject(runnerId, sessionId), encode(SessionCloseRequestSchema, { reason }), sessionId, CLOSE_TIMEOUT_MS);
  }

  /** The session is over: streams here fail what is pending, the cached route goes. */
  ended(sessionId: string, reason: string): void {
    this.routes.forget(sessionId);
    this.streams.sessionEnded(sessionId, reason);
  }

  private async ack(
    subject: string,
    payload: Uint8Array,
    sessionId: string,
    timeoutMs = ACK_TIMEOUT_MS,
    schema: typeof AttachReplySchema | typeof SessionInReplySchema = AttachReplySchema,
  ): Promise<RelayResult> {
    let result: RelayResult;
    try {
      const reply = await this.bus.request(subject, payload, { timeoutMs });
      const decoded = decode<RelayResult>(schema, reply.data);
      result = decoded.ok ? decoded.value : { ok: false, error: { code: 'INTERNAL', message: 'the runner sent a malformed reply' } };
    } catch (err) {
      if (err instanceof BusPayloadTooLargeError) return { ok: false, error: { code: 'TOO_LARGE', message: tooLarge(err) } };
      if (!(err instanceof BusNoRespondersError || err instanceof BusTimeoutError)) throw err;
      // Either way the edge cannot wait: what it holds for the session fails now. The route stays the
      // runner's, so a runner that was only out of reach (a bus outage) serves the session again after.
      const message =
        err instanceof BusNoRespondersError
          ? 'the runner holding this session is gone'
          : 'the runner holding this session is not answering';
      result = { ok: false, error: { code: 'RUNNER_GONE', message } };
    }
    // A runner that is gone or has forgotten the session ends it for everyone on this edge.
    if (!result.ok && endsSession(result.error)) this.ended(sessionId, result.error.message);
    return result;
  }
}

/** Whether a refusal means the session is over for this edge: its runner is gone, or has forgotten it. */
export function endsSession(error: RelayError): boolean {
  return error.code === 'RUNNER_GONE' || error.code === 'SESSION_NOT_FOUND';
}

function refused(code: ReplyError['code'], message: string): SessionOpenReply {
  return { ok: false, error: { code, message } };
}

/** What a client is told when its message is larger than the bus carries. */
export function tooLarge(err: BusPayloadTooLargeError): string {
  return `Payload Too Large: the message (${err.size} bytes) is larger than the gateway's message bus carries (${err.limit} bytes)`;
}
