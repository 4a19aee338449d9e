import type { Bus, BusMessage, BusSubscription } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  encodeJson,
  jsonNestedDeeperThan,
  MAX_JSON_DEPTH,
  parseSessionSubject,
  runnerSessionsWildcard,
  SessionInReplySchema,
  SessionInRequestSchema,
  AttachReplySchema,
  SessionAttachRequestSchema,
} from '#contracts';
import type { RunnerPool } from './runner-pool.js';
import type { RunnerSession } from './runner-session.js';
import type { HeldEvents } from './stream-sink.port.js';

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
  private answer(msg: BusMessage, held: HeldEvents): boolean {
    const reply = replyCarrying(held, this.bus.maxPayloadBytes);
    try {
      msg.respond(reply ?? OK);
    } catch {
      // The hold's owner answers whatever happens: an edge left without a reply ends the session.
      msg.respond(OK);
      return false;
    }
    return reply !== undefined;
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

/**
 * The acknowledgement of a `session.in` carrying the held events, when an edge can read it: within
 * the bus's payload limit, and no deeper than an edge decodes (the reply nests each event two
 * levels below a stream message of its own). Undefined: they go on the stream instead. Joined from
 * the events' texts, each made once when it was held: it parses as JSON.stringify's would.
 */
export function replyCarrying({ events, texts }: HeldEvents, maxPayloadBytes: number): Uint8Array | undefined {
  if (events.length === 0) return OK;
  if (texts.some((text) => jsonNestedDeeperThan(text, MAX_JSON_DEPTH - 2))) return undefined;
  const reply = encodeJson(SessionInReplySchema, { ok: true, events }, `{"ok":true,"events":[${texts.join(',')}]}`);
  return reply.byteLength <= maxPayloadBytes ? reply : undefined;
}

function badRequest(msg: BusMessage, message: string): void {
  msg.respond(encode(AckReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message } }));
}
