import { BaseRpcContext, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import type { Bus, BusHeaders, BusMessage, BusSubscription } from './bus.port.js';
import { decodeJson, encodeJson } from './codec.js';

/** Transport id: `@MessagePattern(subject, BUS_TRANSPORT)` pins a handler to this transport. */
export const BUS_TRANSPORT = Symbol('BusTransport');

export interface BusTransportOptions {
  bus: Bus;
  /**
   * Queue group for every @MessagePattern handler; defaults to the handler's subject, so each
   * request is served by one replica. A handler's own `{ queue }` extra wins, and gives an
   * @EventPattern handler a group too (events otherwise reach every replica).
   */
  queue?: string;
}

/** The JSON body of a failed request: a stable code and a message safe to show. */
export interface BusReplyError {
  error: { code: string; message: string };
}

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
 * subscriptions, with JSON payloads, so the same controllers run over LocalBus and NatsBus.
 * The Bus belongs to the caller: `close` unsubscribes and waits for handlers, it does not close it.
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
      for (const [pattern, handler] of this.messageHandlers) this.subscriptions.push(this.serve(pattern, handler));
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

  private serve(pattern: string, handler: MessageHandler): BusSubscription {
    const own: unknown = handler.extras?.queue;
    const queue = typeof own === 'string' ? own : handler.isEventHandler ? undefined : (this.options.queue ?? pattern);
    const work = handler.isEventHandler ? (msg: BusMessage) => this.dispatch(pattern, msg) : (msg: BusMessage) => this.answer(handler, msg);
    // not awaited: requests run concurrently, as with Nest's NATS transport
    return this.options.bus.subscribe(pattern, (msg) => this.track(work(msg)), { queue });
  }

  /** Replies with the handler's (last) value as JSON, or a BusReplyError. */
  private async answer(handler: MessageHandler, msg: BusMessage): Promise<void> {
    let reply: Uint8Array;
    try {
      const result: unknown = await handler(decodeJson(msg.data), new BusContext([msg]));
      reply = encodeJson(isObservable(result) ? await lastValueFrom(result, { defaultValue: null }) : result);
    } catch (err) {
      const body: BusReplyError = { error: replyError(err) };
      reply = encodeJson(body);
    }
    msg.respond(reply);
  }

  private async dispatch(pattern: string, msg: BusMessage): Promise<void> {
    await this.handleEvent(pattern, { pattern, data: decodeJson(msg.data) }, new BusContext([msg]));
  }

  private track(work: Promise<void>): void {
    const tracked = work
      .catch((err: unknown) => {
        this.logger.error(err);
      })
      .finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private unsubscribeAll(): void {
    for (const sub of this.subscriptions.splice(0)) sub.unsubscribe();
  }
}

/**
 * Nest's exception filter has already turned the exception into `RpcException.getError()` or
 * `{ status, message: 'Internal server error' }`; a string `code` on it survives, else INTERNAL_ERROR.
 */
function replyError(err: unknown): BusReplyError['error'] {
  const fields = typeof err === 'object' && err !== null ? err : {};
  const code = 'code' in fields && typeof fields.code === 'string' ? fields.code : 'INTERNAL_ERROR';
  const message = 'message' in fields && typeof fields.message === 'string' ? fields.message : 'Internal server error';
  return { code, message };
}
