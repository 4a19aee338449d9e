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

export type BusRequestOutcome = 'ok' | 'no_responders' | 'timeout' | 'error';

/** Told of every request's concrete subject, how it ended and how long it took. */
export type BusRequestObserver = (subject: string, outcome: BusRequestOutcome, seconds: number) => void;

/** A Bus that times its requests; everything else passes straight through. */
export class MeteredBus implements Bus {
  constructor(
    private readonly inner: Bus,
    private readonly observe: BusRequestObserver,
  ) {}

  get closed(): Promise<Error | undefined> {
    return this.inner.closed;
  }

  get maxPayloadBytes(): number {
    return this.inner.maxPayloadBytes;
  }

  publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    this.inner.publish(subject, data, options);
  }

  async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const started = performance.now();
    try {
      const reply = await this.inner.request(subject, data, options);
      this.observe(subject, 'ok', (performance.now() - started) / 1000);
      return reply;
    } catch (err) {
      this.observe(subject, outcomeOf(err), (performance.now() - started) / 1000);
      throw err;
    }
  }

  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription {
    return this.inner.subscribe(subject, handler, options);
  }

  kv(bucket: string, options: KvOptions): Promise<KvBucket> {
    return this.inner.kv(bucket, options);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

function outcomeOf(err: unknown): BusRequestOutcome {
  if (err instanceof BusNoRespondersError) return 'no_responders';
  if (err instanceof BusTimeoutError) return 'timeout';
  return 'error';
}
