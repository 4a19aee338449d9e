import { BusNoRespondersError, BusPayloadTooLargeError, BusTimeoutError, type Bus, type KvBucket } from '#bus';
import {
  decode,
  encode,
  parseRequestState,
  PoolCallReplySchema,
  PoolCallRequestSchema,
  poolCallSubject,
  poolRouteKey,
  PoolRouteSchema,
  type PoolCallReply,
  type PoolCallRequest,
} from '#contracts';
import type { Logger } from '#observability';
import { tooLarge } from './session-relay.js';

/**
 * The edge's side of stateless calls: to the runner named by the call's requestState (a call
 * waiting for input), else the runner holding the caller's warm pool (its route, read from the
 * store), else any runner of the server's group. The edge keeps no pool state of its own.
 */
export class PoolRelay {
  constructor(
    private readonly bus: Bus,
    private readonly routes: KvBucket,
    private readonly log: Logger,
  ) {}

  async call(group: string, request: PoolCallRequest, timeoutMs: number): Promise<PoolCallReply> {
    const params = request.message.params;
    const state =
      typeof params === 'object' && params !== null && 'requestState' in params ? parseRequestState(params.requestState) : undefined;
    if (state) {
      const reply = await this.ask(state.runnerId, request, timeoutMs);
      if (reply) return reply;
      return refused(
        'SESSION_NOT_FOUND',
        'the runner holding the call this requestState belongs to is gone; call again without requestState',
      );
    }
    const held = await this.poolRunner(request);
    if (held) {
      const reply = await this.ask(held, request, timeoutMs);
      if (reply) return reply;
    }
    return (await this.ask(group, request, timeoutMs)) ?? refused('BACKEND_FAILED', `no runner is serving group ${group}`);
  }

  /** The runner holding the caller's pool, as it recorded it. */
  private async poolRunner(request: PoolCallRequest): Promise<string | undefined> {
    const { sub } = request.principal;
    const data = await this.routes.get(poolRouteKey(sub, request.server)).catch((err: unknown) => {
      this.log.warn({ err }, 'pool route read failed');
      return null;
    });
    const route = data && decode(PoolRouteSchema, data);
    return route?.ok && route.value.sub === sub && route.value.server === request.server ? route.value.runnerId : undefined;
  }

  /** The reply of `target` (a runner group or id); undefined when nobody there answers. */
  private async ask(target: string, request: PoolCallRequest, timeoutMs: number): Promise<PoolCallReply | undefined> {
    try {
      const answer = await this.bus.request(poolCallSubject(target), encode(PoolCallRequestSchema, request), { timeoutMs });
      const decoded = decode(PoolCallReplySchema, answer.data);
      return decoded.ok ? decoded.value : refused('INTERNAL', 'the runner sent a malformed reply');
    } catch (err) {
      if (err instanceof BusNoRespondersError) return undefined;
      if (err instanceof BusTimeoutError) return refused('BACKEND_FAILED', 'the runner did not take the call in time');
      if (err instanceof BusPayloadTooLargeError) {
        return refused('BAD_REQUEST', tooLarge(err));
      }
      throw err;
    }
  }
}

function refused(code: 'SESSION_NOT_FOUND' | 'BACKEND_FAILED' | 'BAD_REQUEST' | 'INTERNAL', message: string): PoolCallReply {
  return { ok: false, error: { code, message } };
}
