import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BUS, BusNoRespondersError, BusTimeoutError, type Bus } from '#bus';
import { decode, encode, RunnerPingReplySchema, RunnerPingRequestSchema, runnerPingSubject } from '#contracts';

const PING_TIMEOUT_MS = 1000;

/** /health: the process is up. /ready: the bus is connected and a runner answers. */
@Controller()
export class HealthController {
  constructor(@Inject(BUS) private readonly bus: Bus) {}

  @Get('health')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; reason?: string }> {
    const reason = await this.whyNotReady();
    if (reason === undefined) return { status: 'ready' };
    reply.status(503);
    return { status: 'not ready', reason };
  }

  private async whyNotReady(): Promise<string | undefined> {
    try {
      const answer = await this.bus.request(runnerPingSubject, encode(RunnerPingRequestSchema, {}), { timeoutMs: PING_TIMEOUT_MS });
      return decode(RunnerPingReplySchema, answer.data).ok ? undefined : 'a runner sent a malformed answer';
    } catch (err) {
      if (err instanceof BusNoRespondersError || err instanceof BusTimeoutError) return 'no runner is answering';
      return 'the bus is not connected';
    }
  }
}
