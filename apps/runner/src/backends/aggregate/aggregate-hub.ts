import type { Bus, BusMessage, BusSubscription } from '#bus';
import {
  DeliveryReplySchema,
  StreamMessageSchema,
  decode,
  edgeStreamsWildcard,
  encode,
  streamIdOf,
  streamSubject,
  type StreamMessage,
} from '#contracts';
import { randomId } from '#crypto';
import type { Logger } from '#observability';

// Encoded once: every message to a member stream is answered with one of these.
const DELIVERED = encode(DeliveryReplySchema, { delivered: true });
const NOT_DELIVERED = encode(DeliveryReplySchema, { delivered: false });

/** Takes one event of a member session's stream; false when it could not. */
export type MemberStreamHandler = (event: StreamMessage) => boolean;

/**
 * What a runner's aggregates share: one subscription on which member sessions answer (the runner
 * holds their streams as an edge would), and how many member connections each identity holds.
 */
export class AggregateHub {
  /** The token in stream subjects that names this runner's aggregates, as an edge id would. */
  private readonly holder: string;
  private readonly streams = new Map<string, MemberStreamHandler>();
  private readonly perUser = new Map<string, number>();
  private subscription: BusSubscription | undefined;

  constructor(
    readonly bus: Bus,
    runnerId: string,
    readonly log: Logger,
  ) {
    this.holder = `agg-${runnerId}`;
  }

  start(): void {
    this.subscription = this.bus.subscribe(edgeStreamsWildcard(this.holder), (msg) => this.receive(msg));
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  /** A stream subject for one member session; `close` frees it. */
  openStream(handler: MemberStreamHandler): { subject: string; close: () => void } {
    const streamId = randomId(12);
    this.streams.set(streamId, handler);
    return { subject: streamSubject(this.holder, streamId), close: () => this.streams.delete(streamId) };
  }

  /** Takes one of `sub`'s member connections; false at `limit` (0 = no limit). */
  reserve(sub: string, limit: number): boolean {
    const held = this.perUser.get(sub) ?? 0;
    if (limit > 0 && held >= limit) return false;
    this.perUser.set(sub, held + 1);
    return true;
  }

  release(sub: string): void {
    const held = (this.perUser.get(sub) ?? 1) - 1;
    if (held > 0) this.perUser.set(sub, held);
    else this.perUser.delete(sub);
  }

  private receive(msg: BusMessage): void {
    const handler = this.streams.get(streamIdOf(msg.subject));
    const decoded = decode(StreamMessageSchema, msg.data);
    if (!decoded.ok) this.log.warn({ subject: msg.subject, error: decoded.error }, 'bad member stream message');
    const delivered = Boolean(handler && decoded.ok && handler(decoded.value));
    msg.respond(delivered ? DELIVERED : NOT_DELIVERED);
  }
}
