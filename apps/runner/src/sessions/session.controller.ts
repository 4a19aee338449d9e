import { Controller, Inject } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { BUS_TRANSPORT, BusContext } from '#bus';
import {
  AckReplySchema,
  decode,
  encode,
  groupOfPingSubject,
  isRequest,
  parseSessionSubject,
  RunnerPingReplySchema,
  runnerPingQueue,
  runnerPingSubject,
  SessionCloseRequestSchema,
  sessionCloseSubject,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  sessionOpenQueue,
  sessionOpenSubject,
} from '#contracts';
import { RunnerPool } from './runner-pool.js';

/** Placeholders the runner's BusTransport fills: every group it serves, and its own id. */
const GROUP = '{group}';
const RUNNER = '{runnerId}';

const NOT_FOUND = encode(AckReplySchema, { ok: false, error: { code: 'SESSION_NOT_FOUND', message: 'no such session' } });
const OK = encode(AckReplySchema, { ok: true });

export const RUNNER_ID = Symbol('RunnerId');

/** The runner's control plane: open and close sessions, answer readiness pings. */
@Controller()
export class SessionController {
  constructor(
    @Inject(RunnerPool) private readonly pool: RunnerPool,
    @Inject(RUNNER_ID) private readonly runnerId: string,
  ) {}

  @MessagePattern(sessionOpenSubject(GROUP), BUS_TRANSPORT, { queue: sessionOpenQueue(GROUP) })
  async open(@Payload() data: Uint8Array): Promise<Uint8Array> {
    const request = decode(SessionOpenRequestSchema, data);
    if (!request.ok) return refuseOpen(request.error);
    const { initialize, ...rest } = request.value;
    const opensWithInitialize = initialize !== undefined && isRequest(initialize) && initialize.method === 'initialize';
    if (!opensWithInitialize && (initialize !== undefined || rest.transport !== 'sse')) {
      return refuseOpen('a session opens with an initialize request');
    }
    const result = await this.pool.open({ ...rest, initialize: opensWithInitialize ? initialize : undefined });
    return encode(SessionOpenReplySchema, result.ok ? { ...result, runnerId: this.runnerId } : result);
  }

  /** Acknowledged once the process tree is gone. */
  @MessagePattern(sessionCloseSubject(RUNNER, '*'), BUS_TRANSPORT, { queue: `gh.runner.${RUNNER}.close` })
  async close(@Payload() data: Uint8Array, @Ctx() ctx: BusContext): Promise<Uint8Array> {
    const sessionId = parseSessionSubject(ctx.getSubject())?.sessionId;
    const session = sessionId === undefined ? undefined : this.pool.get(sessionId);
    if (!session || session.isEnded) return NOT_FOUND;
    const request = decode(SessionCloseRequestSchema, data);
    await session.end(request.ok ? request.value.reason : 'closed');
    return OK;
  }

  @MessagePattern(runnerPingSubject(GROUP), BUS_TRANSPORT, { queue: runnerPingQueue(GROUP) })
  ping(@Ctx() ctx: BusContext): Uint8Array {
    const group = groupOfPingSubject(ctx.getSubject());
    return encode(RunnerPingReplySchema, { runnerId: this.runnerId, group, sessions: this.pool.size });
  }
}

function refuseOpen(message: string): Uint8Array {
  return encode(SessionOpenReplySchema, { ok: false, error: { code: 'BAD_REQUEST', message } });
}
