import type {
  Bus,
  BusHandler,
  BusHeaders,
  BusMessage,
  BusSubscription,
  PublishOptions,
  RequestOptions,
  SubscribeOptions,
} from './bus.port.js';
import { ForwardingBus } from './forwarding-bus.js';

/** The part of tracing a bus needs: run a handler in its message's trace, and name the current one. */
export interface BusTraceContext {
  /** Runs `fn` in the trace `headers` name (none, when they name none). */
  within<T>(headers: BusHeaders | undefined, fn: () => T): T;
  /** The trace this runs in, as message headers; undefined outside any. */
  outgoing(): BusHeaders | undefined;
}

/**
 * A Bus that carries W3C trace context: what is sent in a trace names it in its headers, and each
 * handler runs in the trace of the message it was given. Used only when tracing is on.
 */
export class TracedBus extends ForwardingBus {
  constructor(
    inner: Bus,
    private readonly trace: BusTraceContext,
  ) {
    super(inner);
  }

  override publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    const headers = this.headers(options?.headers);
    this.inner.publish(subject, data, headers ? { ...options, headers } : options);
  }

  override request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const headers = this.headers(options.headers);
    return this.inner.request(subject, data, headers ? { ...options, headers } : options);
  }

  override subscribe(subject: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription {
    return this.inner.subscribe(subject, (msg) => this.trace.within(msg.headers, () => handler(msg)), options);
  }

  /** The message's headers with the current trace's; undefined outside a trace. Headers the caller set win. */
  private headers(own: BusHeaders | undefined): BusHeaders | undefined {
    const trace = this.trace.outgoing();
    return trace && { ...trace, ...own };
  }
}
