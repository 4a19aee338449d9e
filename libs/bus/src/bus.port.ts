/**
 * Message headers: correlation id, user id and W3C traceparent travel here. Names are printable
 * ASCII without `:`; values carry no CR/LF and arrive trimmed (the NATS wire format trims them).
 */
export type BusHeaders = Record<string, string>;

/** One message as a subscriber sees it. */
export interface BusMessage {
  /** The concrete subject the message was published to. */
  readonly subject: string;
  /** The payload, as published; never written to (in-process it is the publisher's own bytes). */
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

/**
 * Handler for subscribed messages. A subscription's messages arrive in order, one at a time: the
 * returned promise is awaited before the next. A thrown error or rejection goes to the adapter's
 * `onError`, never fatal.
 */
export type BusHandler = (msg: BusMessage) => void | Promise<void>;

/**
 * A key-value bucket whose entries expire `ttlMs` after their last put. Keys are `[-/=_a-zA-Z0-9]`
 * tokens joined by dots; anything else rejects with BusInvalidArgumentError.
 */
export interface KvBucket {
  /** The value, or null when absent or expired. */
  get(key: string): Promise<Uint8Array | null>;
  /** Create or replace; restarts the entry's TTL. */
  put(key: string, value: Uint8Array): Promise<void>;
  /** Remove; absent keys are fine. */
  delete(key: string): Promise<void>;
}

export interface KvOptions {
  /** Entry lifetime after its last put, in milliseconds; at least 100 (JetStream's minimum max_age). */
  ttlMs: number;
}

/**
 * The one port for traffic between services. Subjects are dot-separated tokens; subscriptions
 * may use `*` (one token) and `>` (one or more trailing tokens). Malformed subjects, headers or
 * names throw BusInvalidArgumentError; once `close()` has finished, every call fails with
 * BusClosedError (and `subscribe` already fails while it runs).
 */
export interface Bus {
  /** Fire and forget. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): void;
  /** Send and await one reply; rejects with BusNoRespondersError, BusTimeoutError or BusClosedError. */
  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage>;
  /** Deliver matching messages to `handler` until unsubscribed. */
  subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription;
  /** Open (creating if needed) a bucket; `ttlMs` is fixed when the bucket is first created. */
  kv(bucket: string, options: KvOptions): Promise<KvBucket>;
  /** Resolves once every published message is flushed to the transport. */
  flush(): Promise<void>;
  /** Drain subscriptions (handlers finish what they were given) and disconnect; idempotent. */
  close(): Promise<void>;
  /**
   * Resolves when the connection is gone for good: with the reason if it was lost, with
   * undefined after `close()`.
   */
  readonly closed: Promise<Error | undefined>;
  /** The largest payload publish, request and respond accept; larger throws BusPayloadTooLargeError. */
  readonly maxPayloadBytes: number;
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
