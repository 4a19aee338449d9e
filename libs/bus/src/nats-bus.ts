import { Kvm } from '@nats-io/kv';
import { connect, errors, type NatsConnection, type Subscription } from '@nats-io/transport-node';
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

/** The distributed Bus: core NATS for messages, JetStream KV for buckets. */
export class NatsBus implements Bus {
  readonly closed: Promise<Error | undefined>;
  private readonly subscriptions = new Set<NatsSubscription>();
  private readonly buckets = new Map<string, Promise<KvBucket>>();
  private readonly kvm: Kvm;
  private closing: Promise<void> | null = null;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly report: BusErrorListener,
  ) {
    this.kvm = new Kvm(nc);
    this.closed = nc.closed().then((err) => (err instanceof Error ? err : undefined));
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
    assertPayload(data, this.maxPayloadBytes);
    const headers = toNatsHeaders(options.headers);
    this.guard(() => this.nc.publish(subject, data, { headers }));
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const { timeoutMs } = options;
    assertSubject(subject);
    assertTimeout(timeoutMs);
    assertPayload(data, this.maxPayloadBytes);
    const headers = toNatsHeaders(options.headers);
    try {
      const reply = await this.nc.request(subject, data, { timeout: timeoutMs, headers });
      return toBusMessage(reply, (op) => this.guard(op), this.maxPayloadBytes);
    } catch (err) {
      // v3 reports "no responders" as a RequestError whose cause is a NoRespondersError
      if (err instanceof errors.RequestError && err.isNoResponders()) throw new BusNoRespondersError(subject);
      if (err instanceof errors.TimeoutError) throw new BusTimeoutError(subject, timeoutMs);
      throw this.translate(err);
    }
  }

  subscribe(subject: string, handler: BusHandler, options: SubscribeOptions = {}): BusSubscription {
    assertPattern(subject);
    if (options.queue !== undefined) assertQueue(options.queue);
    if (this.closing) throw new BusClosedError();
    const inbox = new DeliveryQueue(handler, this.report);
    // a callback, not `for await`: a stopped iterator drops what it buffered, which breaks drain
    const sub = this.guard(() =>
      this.nc.subscribe(subject, {
        queue: options.queue,
        callback: (err, msg) => {
          if (err) this.report(err, subject);
          else inbox.push(toBusMessage(msg, (op) => this.guard(op), this.maxPayloadBytes));
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
