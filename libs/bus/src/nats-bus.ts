import { Kvm } from '@nats-io/kv';
import { connect, createInbox, errors, type Msg, type MsgHdrs, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import {
  BusNoRespondersError,
  BusTimeoutError,
  type Bus,
  type BusHandler,
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
  assertPattern,
  assertPayload,
  assertQueue,
  assertSubject,
  assertTimeout,
  DEFAULT_MAX_PAYLOAD_BYTES,
} from './bus-arguments.js';
import { BusClosedError, BusConnectError, guardListener, type BusErrorListener } from './bus-errors.js';
import { DeliveryQueue } from './delivery-queue.js';
import { NatsKvBucket } from './nats-kv-bucket.js';
import { toBusMessage, toNatsHeaders } from './nats-message.js';

export interface NatsBusOptions {
  /** One URL, or several separated by commas. */
  servers: string;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** Receives errors thrown by handlers; defaults to stderr. */
  onError?: BusErrorListener;
}

class NatsSubscription implements BusSubscription {
  constructor(
    private readonly sub: Subscription,
    private readonly inbox: DeliveryQueue,
    private readonly forget: (sub: NatsSubscription) => void,
  ) {}

  unsubscribe(): void {
    this.inbox.stop();
    this.sub.unsubscribe();
    this.forget(this);
  }

  /** Stops the server sending more, then waits until everything received is handled. */
  async drain(): Promise<void> {
    try {
      await this.sub.drain();
    } catch {
      // already unsubscribed or connection gone: nothing more will arrive either way
    }
    await this.inbox.idle();
  }
}

interface PendingRequest {
  subject: string;
  resolve: (reply: Msg) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Requests' replies, on one wildcard subscription of this connection's own inbox. nats.js's own
 * request machinery builds an Error with a captured stack for every request it completes (to
 * reject a promise already resolved): 6% of the edge's JavaScript at 16 busy sessions. The server
 * answers a request nobody listens to with a 503 status on its reply subject.
 */
class ReplyInbox {
  private readonly prefix = `${createInbox()}.`;
  private readonly pending = new Map<string, PendingRequest>();
  private next = 0;

  /** `lost`: the subscription failed (the server refused it, say) and is gone; a request needs a new inbox. */
  constructor(nc: NatsConnection, lost: () => void) {
    nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (err) {
          lost();
          return this.fail(
            () => true,
            () => new errors.RequestError(err.message, { cause: err }),
          );
        }
        const token = msg.subject.slice(this.prefix.length);
        const request = this.pending.get(token);
        if (!request) return;
        this.settle(token, request);
        if (msg.data.length === 0 && msg.headers?.code === 503) request.reject(new BusNoRespondersError(request.subject));
        else request.resolve(msg);
      },
    });
  }

  /** A reply subject for a request on `subject`, and its reply: pending until answered, timed out or failed. */
  open(subject: string, timeoutMs: number): { replyTo: string; reply: Promise<Msg> } {
    const token = (this.next++).toString(36);
    const reply = new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.settle(token, request);
        reject(new BusTimeoutError(subject, timeoutMs));
      }, timeoutMs);
      const request: PendingRequest = { subject, timer, resolve, reject };
      this.pending.set(token, request);
    });
    return { replyTo: this.prefix + token, reply };
  }

  /** Fails the request of `replyTo` with `err`: its publish failed, so no reply can come. */
  cancel(replyTo: string, err: unknown): void {
    const token = replyTo.slice(this.prefix.length);
    const request = this.pending.get(token);
    if (!request) return;
    this.settle(token, request);
    request.reject(err instanceof Error ? err : new Error(String(err)));
  }

  /** Fails each pending request on a subject `which` picks, each with an error of its own. */
  fail(which: (subject: string) => boolean, error: () => Error): void {
    for (const [token, request] of this.pending) {
      if (!which(request.subject)) continue;
      this.settle(token, request);
      request.reject(error());
    }
  }

  private settle(token: string, request: PendingRequest): void {
    clearTimeout(request.timer);
    this.pending.delete(token);
  }
}

/**
 * The messages this connection publishes in one turn of the event loop, handed to nats.js together
 * in the turn's check phase, in the order they were published. nats.js writes its socket once for
 * the publishes of one task, and a busy process publishes from many tasks a turn (a reply for each
 * backend's output, a request for each HTTP request): a write each cost the runner a third of its
 * CPU, and the edge a quarter, at 16 busy sessions. When the last turn published at most one
 * message, the first of this turn goes at once (nats.js writes it when the task's microtasks are
 * done): a lone call's message then does not wait for the rest of the turn (11–18 µs a hop,
 * bench/notes.md), and a process that gets busy batches again from its next turn on.
 */
class Outbox {
  private sends: (() => void)[] = [];
  /** A turn is open: its end is scheduled. */
  private turn = false;
  /** Messages of the open turn, sent or queued. */
  private published = 0;
  /** The last turn published more than one message. */
  private busy = false;

  add(send: () => void): void {
    this.published += 1;
    if (!this.turn) {
      this.turn = true;
      setImmediate(() => this.endTurn());
      if (!this.busy && this.sends.length === 0) return send();
    }
    this.sends.push(send);
  }

  /**
   * Hands nats.js everything queued, now: at the turn's end, and before a flush or a drain. What is
   * published meanwhile (by an error listener) joins the queue and goes after it.
   */
  send(): void {
    const sends = this.sends;
    for (let i = 0; i < sends.length; i++) sends[i]?.();
    sends.length = 0;
  }

  private endTurn(): void {
    this.busy = this.published > 1;
    this.published = 0;
    this.turn = false;
    this.send();
  }
}

/** The distributed Bus: core NATS for messages, JetStream KV for buckets. */
export class NatsBus implements Bus {
  readonly closed: Promise<Error | undefined>;
  private readonly subscriptions = new Set<NatsSubscription>();
  private readonly buckets = new Map<string, Promise<KvBucket>>();
  private readonly kvm: Kvm;
  private replies: ReplyInbox | undefined;
  private readonly outbox = new Outbox();
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly report: BusErrorListener,
  ) {
    this.kvm = new Kvm(nc);
    this.closed = nc.closed().then((err) => {
      this.replies?.fail(
        () => true,
        () => new BusClosedError(err instanceof Error ? { cause: err } : undefined),
      );
      return err instanceof Error ? err : undefined;
    });
    void this.failRefusedRequests();
  }

  /** Connects once, failing fast with the URL in the message; after that, reconnects forever. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const servers = options.servers.split(',').map((s) => s.trim());
    let nc: NatsConnection;
    try {
      // No async traces: nats.js would build an Error (a captured stack) per request up front, for a stack we never show.
      nc = await connect({ servers, name: options.name, maxReconnectAttempts: -1, noAsyncTraces: true });
    } catch (err) {
      throw new BusConnectError(options.servers, err);
    }
    return new NatsBus(nc, guardListener(options.onError));
  }

  /** The server's max_payload, as it announced on connecting. */
  get maxPayloadBytes(): number {
    return this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD_BYTES;
  }

  publish(subject: string, data: Uint8Array, options: PublishOptions = {}): void {
    assertSubject(subject);
    this.publishLater(subject, data, toNatsHeaders(options.headers));
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const { timeoutMs } = options;
    assertSubject(subject);
    assertTimeout(timeoutMs);
    assertPayload(data, this.maxPayloadBytes);
    const headers = toNatsHeaders(options.headers);
    // As nats.js's request did: refused once the connection drains or is closed.
    if (this.nc.isClosed() || this.nc.isDraining()) throw new BusClosedError();
    const replies = (this.replies ??= this.guard(() => new ReplyInbox(this.nc, () => (this.replies = undefined))));
    const { replyTo, reply } = replies.open(subject, timeoutMs);
    this.outbox.add(() => this.publishNow(subject, data, { reply: replyTo, headers }, (err) => replies.cancel(replyTo, err)));
    return this.toBusMessage(await reply);
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    assertPattern(subject);
    if (options.queue !== undefined) assertQueue(options.queue);
    if (this.closing) throw new BusClosedError();
    const inbox = new DeliveryQueue(handler, this.report, 'after-read');
    // a callback, not `for await`: a stopped iterator drops what it buffered, which breaks drain
    const sub = this.guard(() =>
      this.nc.subscribe(subject, {
        queue: options.queue,
        callback: (err, msg) => {
          if (err) this.report(err, subject);
          else inbox.push(this.toBusMessage(msg));
        },
      }),
    );
    const subscription = new NatsSubscription(sub, inbox, (s) => this.subscriptions.delete(s));
    this.subscriptions.add(subscription);
    return subscription;
  }

  async kv(bucket: string, options: KvOptions): Promise<KvBucket> {
    assertBucket(bucket, options.ttlMs);
    let opening = this.buckets.get(bucket);
    if (!opening) {
      opening = this.openBucket(bucket, options.ttlMs);
      this.buckets.set(bucket, opening);
    }
    try {
      return await opening;
    } catch (err) {
      if (this.buckets.get(bucket) === opening) this.buckets.delete(bucket);
      throw this.translate(err);
    }
  }

  async flush(): Promise<void> {
    this.outbox.send();
    try {
      await this.nc.flush();
    } catch (err) {
      throw this.translate(err);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.drain();
    return this.closing;
  }

  /** Drains our subscriptions first so handlers can still reply, then the connection. */
  private async drain(): Promise<void> {
    await Promise.all([...this.subscriptions].map((sub) => sub.drain()));
    // What the handlers answered while their subscriptions drained goes out before the connection stops publishing.
    this.outbox.send();
    try {
      await this.nc.drain();
    } catch {
      await this.nc.close();
    }
  }

  private async openBucket(bucket: string, ttlMs: number): Promise<KvBucket> {
    // `create` opens an existing bucket as it is, so the first creator's TTL stands
    const kv = await this.kvm.create(bucket, { ttl: ttlMs });
    return new NatsKvBucket(kv, (err) => this.translate(err));
  }

  /**
   * A request the server refused to publish (a permission violation, which it reports on its own)
   * fails at once, as it did with nats.js's request, instead of waiting out its timeout.
   */
  private async failRefusedRequests(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type !== 'error') continue;
      const refused = status.error;
      if (!(refused instanceof errors.PermissionViolationError) || refused.operation !== 'publish') continue;
      this.replies?.fail(
        (subject) => subject === refused.subject,
        () => new errors.RequestError(refused.message, { cause: refused }),
      );
    }
  }

  /**
   * Publishes in the outbox (see Outbox). A connection closed already is refused here; one that
   * fails by the time the outbox is sent reports the message lost, as NATS loses what it had not
   * written when a connection drops.
   */
  private publishLater(subject: string, data: Uint8Array, headers: MsgHdrs | undefined): void {
    assertPayload(data, this.maxPayloadBytes);
    if (this.nc.isClosed()) throw new BusClosedError();
    this.outbox.add(() => this.publishNow(subject, data, { headers }, (err) => this.report(err, subject)));
  }

  /** Hands nats.js one message of the outbox; a failure, translated, goes to `failed`. */
  private publishNow(
    subject: string,
    data: Uint8Array,
    options: { reply?: string; headers?: MsgHdrs },
    failed: (err: unknown) => void,
  ): void {
    try {
      this.nc.publish(subject, data, options);
    } catch (err) {
      failed(this.translate(err));
    }
  }

  private toBusMessage(msg: Msg): BusMessage {
    return toBusMessage(msg, (reply, data, headers) => this.publishLater(reply, data, toNatsHeaders(headers)));
  }

  private guard<T>(op: () => T): T {
    try {
      return op();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): unknown {
    const gone = err instanceof errors.ClosedConnectionError || err instanceof errors.DrainingConnectionError;
    return gone || this.nc.isClosed() ? new BusClosedError({ cause: err }) : err;
  }
}
