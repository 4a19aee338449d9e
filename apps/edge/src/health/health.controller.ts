import { Controller, Get, HttpCode, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { BUS, BusNoRespondersError, BusTimeoutError, type Bus } from '#bus';
import { decode, encode, RunnerPingReplySchema, RunnerPingRequestSchema, runnerPingSubject } from '#contracts';
import { AccessTokenVerifier } from '../credentials/access-token.verifier.js';
import type { EdgeOptions } from '../edge.module.js';
import { EDGE_OPTIONS } from '../edge.tokens.js';

const PING_TIMEOUT_MS = 1000;

/**
 * /health: the process is up. /ready: it can serve — the bus is connected, every runner group has
 * a runner, and (with OAuth) auth's signing keys are here to check tokens with.
 */
@Controller()
export class HealthController {
  private readonly groups: readonly string[];

  constructor(
    @Inject(BUS) private readonly bus: Bus,
    @Inject(EDGE_OPTIONS) options: EdgeOptions,
    @Inject(AccessTokenVerifier) private readonly verifier: AccessTokenVerifier | null,
  ) {
    this.groups = [...new Set(Object.values(options.config.servers).map((s) => s.runnerGroup))];
  }

  @Get('health')
  @HttpCode(200)
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: string; reason?: string }> {
    const reasons = (await Promise.all(this.groups.map((g) => this.whyNotReady(g)))).filter((r) => r !== undefined);
    if (this.verifier && !this.verifier.ready) reasons.push("auth's signing keys have not been fetched yet");
    if (reasons.length === 0) return { status: 'ready' };
    reply.status(503);
    return { status: 'not ready', reason: reasons.join('; ') };
  }

  private async whyNotReady(group: string): Promise<string | undefined> {
    try {
      const answer = await this.bus.request(runnerPingSubject(group), encode(RunnerPingRequestSchema, {}), { timeoutMs: PING_TIMEOUT_MS });
      return decode(RunnerPingReplySchema, answer.data).ok ? undefined : `a runner of group ${group} sent a malformed answer`;
    } catch (err) {
      if (err instanceof BusNoRespondersError || err instanceof BusTimeoutError) return `no runner of group ${group} is answering`;
      return 'the bus is not connected';
    }
  }
}
