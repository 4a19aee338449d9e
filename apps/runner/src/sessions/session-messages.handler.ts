import type { Bus, BusMessage, BusSubscription } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  parseSessionSubject,
  runnerSessionsWildcard,
  SessionInReplySchema,
  SessionInRequestSchema,
  AttachReplySchema,
  type StreamMessage,
  SessionAttachRequestSchema,
} from '#contracts';
import type { RunnerPool } from './runner-pool.js';
import type { RunnerSession } from './runner-session.js';

// Encoded once: every message of every session is answered with one of these.
const NOT_FOUND = encode(AckReplySchema, { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'no such session' } });
const OK = encode(AckReplySchema, { ok: true });
/**
 * How long the reply to an edge that takes answers in it waits for them: a call answered sooner
 * costs one bus message instead of two; a longer one's progress waits this long at most.
 */
const ANSWER_HOLD_MS = 25;

/**
 * The data plane: each session's client messages and touches, straight on the bus. Handled in
 * arrival order; nothing here waits, so one session never holds up another.
 */
export class SessionMessagesHandler {
  private readonly subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly pool: RunnerPool,
    private readonly runnerId: string,
  ) {}

  start(): void {
    this.subscriptions.push(
      this.bus.subscribe(runnerSessionsWildcard(this.runnerId, 'in'), (m) => this.in(m)),
      this.bus.subscribe(runnerSessionsWildcard(this.runnerId, 'touch'), (m) => this.touch(m)),
      this.bus.subscribe(runnerSessionsWildcard(this.runnerId, 'attach'), (m) => this.attach(m)),
    );
  }

  stop(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private in(msg: BusMessage): void {
    const session = this.sessionOf(msg);
    if (!session) return void msg.respond(NOT_FOUND);
    const request = decode(SessionInRequestSchema, msg.data);
    if (!request.ok) return badRequest(msg, request.error);
    const { messages, stream, answerInReply } = request.value;
    const held = answerInReply === true && stream !== undefined && this.pool.holdStream(stream, ANSWER_HOLD_MS, (e) => this.answer(msg, e));
    session.fromClient(messages, stream);
    if (!held) msg.respond(OK);
  }

  /** The reply with the stream's first events, when it can carry them; false and a plain OK when it cannot. */
  private answer(msg: BusMessage, events: StreamMessage[]): boolean {
    const reply = events.length === 0 ? OK : encode(SessionInReplySchema, { ok: true, events });
    const fits = reply.byteLength <= this.bus.maxPayloadBytes;
    msg.respond(fits ? reply : OK);
    return fits;
  }

  /** Liveness only: the body is not read. */
  private touch(msg: BusMessage): void {
    const session = this.sessionOf(msg);
    if (!session) return void msg.respond(NOT_FOUND);
    session.touch();
    msg.respond(OK);
  }

  private attach(msg: BusMessage): void {
    const session = this.sessionOf(msg);
    if (!session) return void msg.respond(NOT_FOUND);
    const request = decode(SessionAttachRequestSchema, msg.data);
    if (!request.ok) return badRequest(msg, request.error);
    const eventId =
      'detach' in request.value ? session.detach(request.value.detach) : session.attach(request.value.attach, request.value.resumeAfter);
    msg.respond(eventId === undefined ? OK : encode(AttachReplySchema, { ok: true, eventId }));
  }

  private sessionOf(msg: BusMessage): RunnerSession | undefined {
    const sessionId = parseSessionSubject(msg.subject)?.sessionId;
    const session = sessionId === undefined ? undefined : this.pool.get(sessionId);
    return session && !session.isEnded ? session : undefined;
  }
}

function badRequest(msg: BusMessage, message: string): void {
  msg.respond(encode(AckReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message } }));
}
