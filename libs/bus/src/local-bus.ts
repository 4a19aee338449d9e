import { randomUUID } from 'node:crypto';
import {
  BusNoRespondersError,
  BusTimeoutError,
  type Bus,
  type BusHandler,
  type BusHeaders,
  type BusMessage,
  type BusSubscription,
  type KvBucket,
  type KvOptions,
  type PublishOptions,
  type RequestOptions,
  type SubscribeOptions,
} from './bus.port.js';
import {
  assertBucket,
  assertPayload,
  assertPattern,
  assertQueue,
  assertSubject,
  assertTimeout,
  DEFAULT_MAX_PAYLOAD_BYTES,
  matchesTokens,
  normalizeHeaders,
} from './bus-arguments.js';
import { BusClosedError, guardListener, type BusErrorListener } from './bus-errors.js';
import { DeliveryQueue } from './delivery-queue.js';
import { LocalKvBucket, settle } from './local-kv-bucket.js';

export interface LocalBusOptions {
  /** Receives errors thrown by handlers; defaults to stderr. */
  onError?: BusErrorListener;
  /** Largest payload carried; defaults to NATS's default max_payload (1 MiB). */
  maxPayloadBytes?: number;
}

type Reply = (data: Uint8Array, headers: BusHeaders) => void;

class LocalSubscription implements BusSubscription {
  readonly tokens: readonly string[];
  readonly wildcard: boolean;
  constructor(
    readonly pattern: string,
    readonly queue: string | undefined,
    readonly inbox: DeliveryQueue,
    private readonly detach: (sub: LocalSubscription) => void,
  ) {
    this.tokens = pattern.split('.');
    this.wildcard = this.tokens.some((t) => t === '*' || t === '>');
  }

  unsubscribe(): void {
    this.inbox.stop();
    this.detach(this);
  }
}

/** The all-in-one Bus: the same semantics as NATS, inside one process. */
export class LocalBus implements Bus {
  readonly closed: Promise<Error | undefined>;
  readonly maxPayloadBytes: number;
  private readonly exact = new Map<string, Set<LocalSubscription>>();
  private readonly wild = new Set<LocalSubscription>();
  private readonly buckets = new Map<string, LocalKvBucket>();
  private readonly pendingRequests = new Set<() => void>();
  private readonly report: BusErrorListener;
  private state: 'open' | 'draining' | 'closed' = 'open';
  private closing: Promise<void> | null = null;
  private markClosed: () => void = () => undefined;

  constructor(options: LocalBusOptions = {}) {
    this.report = guardListener(options.onError);
    this.maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
    this.closed = new Promise((resolve) => {
      this.markClosed = () => resolve(undefined);
    });
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    assertSubject(subject);
    assertPayload(data, this.maxPayloadBytes);
    const headers = normalizeHeaders(options.headers);
    this.assertNotClosed();
    this.route(subject, data, headers, null);
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const { timeoutMs } = options;
    assertSubject(subject);
    assertTimeout(timeoutMs);
    assertPayload(data, this.maxPayloadBytes);
    const headers = normalizeHeaders(options.headers);
    this.assertNotClosed();
    return await new Promise<BusMessage>((resolve, reject) => {
      const finish = (outcome: BusMessage | Error): void => {
        clearTimeout(timer);
        if (!this.pendingRequests.delete(abort)) return;
        if (outcome instanceof Error) reject(outcome);
        else resolve(outcome);
      };
      const abort = (): void => finish(new BusClosedError());
      const timer = setTimeout(() => finish(new BusTimeoutError(subject, timeoutMs)), timeoutMs).unref();
      this.pendingRequests.add(abort);
      const inbox = `_INBOX.${randomUUID()}`;
      const delivered = this.route(subject, data, headers, (reply, replyHeaders) =>
        finish(message(inbox, reply, replyHeaders, null, () => undefined)),
      );
      if (delivered === 0) finish(new BusNoRespondersError(subject));
    });
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    assertPattern(subject);
    if (options.queue !== undefined) assertQueue(options.queue);
    if (this.state !== 'open') throw new BusClosedError();
    const inbox = new DeliveryQueue(handler, this.report);
    const sub = new LocalSubscription(subject, options.queue, inbox, (s) => this.detach(s));
    if (sub.wildcard) this.wild.add(sub);
    else this.exact.set(subject, (this.exact.get(subject) ?? new Set()).add(sub));
    return sub;
  }

  kv(bucket: string, options: KvOptions): Promise<KvBucket> {
    return settle(() => {
      assertBucket(bucket, options.ttlMs);
      this.assertNotClosed();
      let found = this.buckets.get(bucket);
      if (!found) {
        found = new LocalKvBucket(options.ttlMs, () => this.state !== 'closed');
        this.buckets.set(bucket, found);
      }
      return found;
    });
  }

  flush(): Promise<void> {
    return settle(() => this.assertNotClosed());
  }

  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** Stops routing to every subscription, lets each finish what it was given, then shuts. */
  private async drain(): Promise<void> {
    this.state = 'draining';
    const subs = [...this.wild, ...[...this.exact.values()].flatMap((set) => [...set])];
    for (const sub of subs) this.detach(sub);
    await Promise.all(subs.map((sub) => sub.inbox.idle()));
    this.state = 'closed';
    for (const abort of [...this.pendingRequests]) abort();
    for (const bucket of this.buckets.values()) bucket.clear();
    this.buckets.clear();
    this.markClosed();
  }

  /** Delivers to every plain subscriber and one member of each queue group; returns how many. */
  private route(subject: string, data: Uint8Array, headers: BusHeaders, reply: Reply | null): number {
    const targets: LocalSubscription[] = [];
    const groups = new Map<string, LocalSubscription[]>();
    for (const sub of this.matching(subject)) {
      if (sub.queue === undefined) targets.push(sub);
      else groups.set(sub.queue, [...(groups.get(sub.queue) ?? []), sub]);
    }
    for (const members of groups.values()) targets.push(members[Math.floor(Math.random() * members.length)]);
    for (const sub of targets)
      sub.inbox.push(
        message(subject, data, headers, reply, (answer) => {
          this.assertNotClosed();
          assertPayload(answer, this.maxPayloadBytes);
        }),
      );
    return targets.length;
  }

  private *matching(subject: string): Iterable<LocalSubscription> {
    yield* this.exact.get(subject) ?? [];
    if (this.wild.size === 0) return;
    const tokens = subject.split('.');
    for (const sub of this.wild) if (matchesTokens(sub.tokens, tokens)) yield sub;
  }

  private detach(sub: LocalSubscription): void {
    this.wild.delete(sub);
    const set = this.exact.get(sub.pattern);
    set?.delete(sub);
    if (set?.size === 0) this.exact.delete(sub.pattern);
  }

  private assertNotClosed(): void {
    if (this.state === 'closed') throw new BusClosedError();
  }
}

/**
 * Each subscriber gets the publisher's bytes, not a copy: payloads are never written to once
 * published, and the codec knows bytes it encoded itself (see `encode` in contracts) and does not
 * parse them again.
 */
function message(
  subject: string,
  data: Uint8Array,
  headers: BusHeaders,
  reply: Reply | null,
  check: (answer: Uint8Array) => void,
): BusMessage {
  return {
    subject,
    data,
    headers: { ...headers },
    respond(answer: Uint8Array, answerHeaders?: BusHeaders): boolean {
      if (!reply) return false;
      const normalized = normalizeHeaders(answerHeaders);
      check(answer);
      reply(answer, normalized);
      return true;
    },
  };
}
