import type { Bus, BusMessage, BusSubscription } from '#bus';
import { decode, encode, PoolCallReplySchema, PoolCallRequestSchema, poolCallQueue, poolCallSubject, type PoolCallReply } from '#contracts';
import type { Logger } from '#observability';
import type { WarmPools } from './warm-pools.js';

/**
 * Stateless calls, on the queue of each runner group this runner serves (a caller's first call)
 * and on this runner's own subject (the caller's pool is here, or a call waiting for input is).
 * A call may have to start a backend: it is never awaited here, so calls never wait on each other.
 */
export class PoolCallHandler {
  private readonly subscriptions: BusSubscription[] = [];

  constructor(
    private readonly bus: Bus,
    private readonly pools: WarmPools,
    private readonly log: Logger,
  ) {}

  start(groups: readonly string[], runnerId: string): void {
    for (const target of [...groups, runnerId]) {
      this.subscriptions.push(this.bus.subscribe(poolCallSubject(target), (m) => void this.call(m), { queue: poolCallQueue(target) }));
    }
  }

  stop(): void {
    for (const s of this.subscriptions.splice(0)) s.unsubscribe();
  }

  private async call(msg: BusMessage): Promise<void> {
    const request = decode(PoolCallRequestSchema, msg.data);
    let reply: PoolCallReply;
    if (!request.ok) reply = { ok: false, error: { code: 'BAD_REQUEST', message: request.error } };
    else {
      reply = await this.pools.call(request.value).catch((err: unknown) => {
        this.log.error({ err, server: request.value.server }, 'stateless call failed');
        return { ok: false, error: { code: 'INTERNAL', message: 'the runner could not take the call' } } as const;
      });
    }
    msg.respond(encode(PoolCallReplySchema, reply));
  }
}
