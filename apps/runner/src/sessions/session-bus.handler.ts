import type { Bus, BusMessage, BusSubscription, KvBucket } from '#bus';
import {
  AckReplySchema,
  RunnerPingReplySchema,
  SessionCloseRequestSchema,
  SessionClosedEventSchema,
  SessionInRequestSchema,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  SessionTouchRequestSchema,
  decode,
  encode,
  isRequest,
  runnerPingQueue,
  runnerPingSubject,
  sessionClosedSubject,
  sessionOpenQueue,
  sessionOpenSubject,
} from '#contracts';
import type { Logger } from '#observability';
import type { RunnerPool } from './runner-pool.js';

// Encoded once: every message of every session is answered with one of these.
const NOT_FOUND = encode(AckReplySchema, { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'no such session' } });
const OK = encode(AckReplySchema, { ok: true });

/** The runner's side of the session subjects: parse, call the pool, reply. */
export class SessionBusHandler {
  private readonly subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly pool: RunnerPool,
    private readonly routes: KvBucket,
    private readonly runner: { id: string; groups: readonly string[] },
    private readonly log: Logger,
  ) {}

  start(): void {
    for (const group of this.runner.groups) {
      this.subscriptions.push(
        // Opening takes a spawn and a handshake: run it beside the subscription, not in its queue.
        this.bus.subscribe(sessionOpenSubject(group), (m) => void this.open(m).catch((err: unknown) => this.failed(m, err)), {
          queue: sessionOpenQueue(group),
        }),
        this.bus.subscribe(runnerPingSubject(group), (m) => this.ping(m, group), { queue: runnerPingQueue(group) }),
      );
    }
    this.subscriptions.push(this.bus.subscribe(`gh.runner.${this.runner.id}.session.*.*`, (m) => this.sessionMessage(m)));
  }

  stop(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  /** Tells every edge the session is over and forgets its route. */
  async sessionEnded(sessionId: string, reason: string): Promise<void> {
    this.bus.publish(sessionClosedSubject(sessionId), encode(SessionClosedEventSchema, { sessionId, reason }));
    await this.routes.delete(sessionId).catch((err: unknown) => this.log.warn({ sessionId, err }, 'route delete failed'));
  }

  private async open(msg: BusMessage): Promise<void> {
    const request = decode(SessionOpenRequestSchema, msg.data);
    if (!request.ok) return this.refuseOpen(msg, request.error);
    const { initialize, ...rest } = request.value;
    if (!isRequest(initialize) || initialize.method !== 'initialize') {
      return this.refuseOpen(msg, 'a session opens with an initialize request');
    }
    const result = await this.pool.open({ ...rest, initialize });
    const reply = result.ok ? { ok: true as const, runnerId: this.runner.id, response: result.response } : result;
    msg.respond(encode(SessionOpenReplySchema, reply));
  }

  private refuseOpen(msg: BusMessage, message: string): void {
    msg.respond(encode(SessionOpenReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message } }));
  }

  /** Handled in arrival order; nothing here waits, so one session never holds up another. */
  private sessionMessage(msg: BusMessage): void {
    const [, , , , sessionId, verb] = msg.subject.split('.');
    const session = sessionId === undefined ? undefined : this.pool.get(sessionId);
    if (!session || session.isEnded) {
      msg.respond(NOT_FOUND);
      return;
    }
    switch (verb) {
      case 'in': {
        const request = decode(SessionInRequestSchema, msg.data);
        if (!request.ok) return this.badRequest(msg, request.error);
        session.fromClient(request.value.message, request.value.stream);
        break;
      }
      case 'touch': {
        const request = decode(SessionTouchRequestSchema, msg.data);
        if (!request.ok) return this.badRequest(msg, request.error);
        session.touch(request.value.attach, request.value.detach);
        break;
      }
      case 'close': {
        const request = decode(SessionCloseRequestSchema, msg.data);
        // Acknowledged once the process tree is gone; messages behind it see the session ended.
        void session
          .end(request.ok ? request.value.reason : 'closed')
          .then(() => msg.respond(OK))
          .catch((err: unknown) => this.log.warn({ err, sessionId }, 'could not acknowledge a close'));
        return;
      }
      default:
        return this.badRequest(msg, `unknown session verb ${verb}`);
    }
    msg.respond(OK);
  }

  private ping(msg: BusMessage, group: string): void {
    msg.respond(encode(RunnerPingReplySchema, { runnerId: this.runner.id, group, sessions: this.pool.size }));
  }

  private failed(msg: BusMessage, err: unknown): void {
    this.log.error({ err, subject: msg.subject }, 'session open failed');
    msg.respond(
      encode(SessionOpenReplySchema, { ok: false, error: { code: 'INTERNAL', message: 'the runner failed to open the session' } }),
    );
  }

  private badRequest(msg: BusMessage, message: string): void {
    msg.respond(encode(AckReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message } }));
  }
}
