/** Message headers: correlation id, user id and W3C traceparent travel here. */
export type BusHeaders = Record<string, string>;

/** One message as a subscriber sees it. */
export interface BusMessage {
  /** The concrete subject the message was published to. */
  readonly subject: string;
  /** The payload, as published. */
  readonly data: Uint8Array;
  /** Headers set by the publisher; empty when none. */
  readonly headers: BusHeaders;
  /** Answer a request; returns false when the message was not a request. */
  respond(data: Uint8Array, headers?: BusHeaders): boolean;
}

export interface PublishOptions {
  headers?: BusHeaders;
}

export interface RequestOptions {
  /** Milliseconds to wait for a reply; every request has one. */
  timeoutMs: number;
  headers?: BusHeaders;
}

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group. */
  queue?: string;
}

/** A live subscription; `unsubscribe` is idempotent. */
export interface BusSubscription {
  unsubscribe(): void;
}

/** Handler for subscribed messages; a thrown error or rejection is logged, never fatal. */
export type BusHandler = (msg: BusMessage) => void | Promise<void>;

/** A key-value bucket whose entries expire `ttlMs` after their last put. */
export interface KvBucket {
  /** The value, or null when absent or expired. */
  get(key: string): Promise<Uint8Array | null>;
  /** Create or replace; restarts the entry's TTL. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Remove; absent keys are fine. */
  delete(key: string): Promise<void>;
}

export interface KvOptions {
  /** Entry lifetime after its last put, in milliseconds. */
  ttlMs: number;
}

/**
 * The one port for traffic between services. Subjects are dot-separated tokens; subscriptions
 * may use `*` (one token) and `>` (one or more trailing tokens).
 */
export interface Bus {
  /** Fire and forget. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  /** Send and await one reply; rejects with BusNoRespondersError or BusTimeoutError. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage>;
  /** Deliver matching messages to `handler` until unsubscribed. */
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  /** Open (creating if needed) a bucket; `ttlMs` is fixed when the bucket is first created. */
  kv(bucket: string, options: KvOptions): Promise<KvBucket>;
  /** Resolves once every published message is flushed to the transport. */
  flush(): Promise<void>;
  /** Drain subscriptions and disconnect; idempotent. */
  close(): Promise<void>;
  /** Resolves (with the reason) when the connection is lost for good and will not come back. */
  readonly closed: Promise<Error | undefined>;
}

/** Nobody is subscribed to the request's subject. */
export class BusNoRespondersError extends Error {
  readonly code = 'BUS_NO_RESPONDERS';
  constructor(readonly subject: string) {
    super(`no responders on ${subject}`);
  }
}

/** A responder exists but did not answer in time. */
export class BusTimeoutError extends Error {
  readonly code = 'BUS_TIMEOUT';
  constructor(
    readonly subject: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply on ${subject} within ${timeoutMs} ms`);
  }
}

/** Injection token for the Bus port. */
export const BUS = Symbol('Bus');
