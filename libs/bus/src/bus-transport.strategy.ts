import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Bus, BusHeaders, BusMessage, BusSubscription } from './bus.port.js';

/** Transport id: `@MessagePattern(subject, BUS_TRANSPORT)` pins a handler to this transport. */
export const BUS_TRANSPORT = Symbol('BusTransport');

export interface BusTransportOptions {
  bus: Bus;
  /**
   * Values for `{name}` placeholders in patterns and queues: a handler whose pattern names
   * `{group}` is subscribed once per value of `group`, its queue filled in the same way.
   */
  params?: Readonly<Record<string, readonly string[]>>;
  /** Told of a handler that threw or returned something other than bytes (a bug: it answers with FAILED_REPLY). */
  onError?: (err: unknown, subject: string) => void;
}

/**
 * What a request gets when its handler failed: the `{ ok: false, error }` shape of every
 * control-plane reply. Handlers answer their own refusals; this is for bugs only.
 */
export const FAILED_REPLY = new TextEncoder().encode(
  JSON.stringify({ ok: false, error: { code: 'INTERNAL', message: 'the service failed to handle the request' } }),
);

/** What `@Ctx()` gives a handler: the message's concrete subject and its headers. */
export class BusContext extends BaseRpcContext<[BusMessage]> {
  getSubject(): string {
    return this.args[0].subject;
  }

  getHeaders(): BusHeaders {
    return this.args[0].headers;
  }
}

/**
 * Serves Nest `@MessagePattern` handlers as Bus request/reply and `@EventPattern` handlers as Bus
 * subscriptions, so the same controllers run over LocalBus and NatsBus. Payloads stay bytes: a
 * handler decodes with its contract's schema (`@Payload() data: Uint8Array`) and a request
 * handler returns the encoded reply. A @MessagePattern handler gets a queue group (its own
 * `{ queue }` extra, else its subject), so each request is served once; an @EventPattern handler
 * reaches every replica unless it names a queue. The Bus belongs to the caller: `close`
 * unsubscribes and waits for handlers, it does not close the Bus.
 */
export class BusTransport extends Server implements CustomTransportStrategy {
  override transportId = BUS_TRANSPORT;
  private readonly subscriptions: BusSubscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly options: BusTransportOptions) {
    super();
  }

  override listen(callback: (...optionalParams: unknown[]) => void): void {
    try {
      for (const [pattern, handler] of this.messageHandlers) this.subscriptions.push(...this.serve(pattern, handler));
    } catch (err) {
      this.unsubscribeAll();
      callback(err);
      return;
    }
    this._status$.next('connected');
    callback();
  }

  override async close(): Promise<void> {
    this.unsubscribeAll();
    await Promise.all(this.inFlight);
    this._status$.next('disconnected');
  }

  /** The Bus has no transport events; its `closed` promise is the one thing to watch. */
  override on(): never {
    throw new Error('BusTransport emits no events; watch Bus.closed instead');
  }

  override unwrap<T>(): T {
    // Nest declares unwrap generic; the caller names what it expects, which here is a Bus
    return this.options.bus as T;
  }

  private serve(pattern: string, handler: MessageHandler): BusSubscription[] {
    const own: unknown = handler.extras?.queue;
    const queue = typeof own === 'string' ? own : handler.isEventHandler ? undefined : pattern;
    return bindings(pattern, this.options.params ?? {}).map((binding) => {
      const subject = fill(pattern, binding);
      const group = queue === undefined ? undefined : fill(queue, binding);
      const work = handler.isEventHandler
        ? (msg: BusMessage) => this.dispatch(pattern, msg)
        : (msg: BusMessage) => this.answer(handler, msg);
      // not awaited: requests run concurrently, as with Nest's NATS transport
      return this.options.bus.subscribe(subject, (msg) => this.track(work(msg), msg.subject), { queue: group });
    });
  }

  private async answer(handler: MessageHandler, msg: BusMessage): Promise<void> {
    let reply: Uint8Array = FAILED_REPLY;
    try {
      const result: unknown = await handler(msg.data, new BusContext([msg]));
      const value: unknown = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
      if (value instanceof Uint8Array) reply = value;
      else this.failed(new Error('a @MessagePattern handler must return the encoded reply'), msg.subject);
    } catch (err) {
      this.failed(err, msg.subject);
    }
    msg.respond(reply);
  }

  private async dispatch(pattern: string, msg: BusMessage): Promise<void> {
    await this.handleEvent(pattern, { pattern, data: msg.data }, new BusContext([msg]));
  }

  private track(work: Promise<void>, subject: string): void {
    const tracked = work.catch((err: unknown) => this.failed(err, subject)).finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private failed(err: unknown, subject: string): void {
    if (this.options.onError) this.options.onError(err, subject);
    else this.logger.error(err);
  }

  private unsubscribeAll(): void {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
  }
}

type Binding = Readonly<Record<string, string>>;
const PLACEHOLDER = /\{(\w+)\}/g;

/** Every assignment of values to the placeholders `pattern` names; one empty binding when it names none. */
function bindings(pattern: string, params: Readonly<Record<string, readonly string[]>>): Binding[] {
  const names = [...new Set([...pattern.matchAll(PLACEHOLDER)].map((m) => m[1] ?? ''))];
  return names.reduce<Binding[]>(
    (partial, name) => {
      const values = params[name];
      if (values === undefined) throw new Error(`no values for {${name}} in ${pattern}`);
      return partial.flatMap((binding) => values.map((value) => ({ ...binding, [name]: value })));
    },
    [{}],
  );
}

function fill(template: string, binding: Binding): string {
  return template.replace(PLACEHOLDER, (_, name: string) => binding[name] ?? '');
}
