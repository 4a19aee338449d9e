import type {
  Bus,
  BusHandler,
  BusMessage,
  BusSubscription,
  KvBucket,
  KvOptions,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './bus.port.js';

/** A Bus that hands everything to another: decorators (metered, traced) override only what they add to. */
export abstract class ForwardingBus implements Bus {
  constructor(protected readonly inner: Bus) {}

  get closed(): Promise<Error | undefined> {
    return this.inner.closed;
  }

  get maxPayloadBytes(): number {
    return this.inner.maxPayloadBytes;
  }

  publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    this.inner.publish(subject, data, options);
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    return this.inner.request(subject, data, options);
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
