import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { of } from 'rxjs';
import type { Bus } from './bus.port.js';
import { BusContext, BusTransport } from './bus-transport.strategy.js';
import { decodeJson, encodeJson } from './codec.js';
import { LocalBus } from './local-bus.js';

const recorded: { data: unknown; subject: string; traceparent: string | undefined }[] = [];
let served = 0;

@Controller()
class SumController {
  @MessagePattern('gh.test.sum.compute')
  compute(@Payload() data: { values: number[] }, @Ctx() ctx: BusContext): { total: number; traceparent?: string } {
    served++;
    return { total: data.values.reduce((a, b) => a + b, 0), traceparent: ctx.getHeaders().traceparent };
  }

  @MessagePattern('gh.test.sum.later')
  async later(): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return 'later';
  }

  @MessagePattern('gh.test.sum.counted')
  counted(): unknown {
    return of(1, 2, 3);
  }

  @MessagePattern('gh.test.sum.refused')
  refused(): never {
    throw new RpcException({ code: 'SUM_REFUSED', message: 'values are not numbers' });
  }

  @MessagePattern('gh.test.sum.crashed')
  crashed(): never {
    throw new Error('secret internals');
  }

  // Nest 12's typed EventPattern overload wants `...args: unknown[]`; the metadata overload takes @Ctx()
  @EventPattern<string>('gh.test.sum.recorded')
  record(@Payload() data: unknown, @Ctx() ctx: BusContext): void {
    recorded.push({ data, subject: ctx.getSubject(), traceparent: ctx.getHeaders().traceparent });
  }
}

@Module({ controllers: [SumController] })
class SumModule {}

async function start(bus: Bus): Promise<INestMicroservice> {
  const app = await NestFactory.createMicroservice(SumModule, { strategy: new BusTransport({ bus }), logger: false });
  await app.listen();
  return app;
}

describe('BusTransport', () => {
  let bus: LocalBus;
  let apps: INestMicroservice[];
  const ask = async (subject: string, body: unknown, headers?: Record<string, string>): Promise<unknown> =>
    decodeJson((await bus.request(subject, encodeJson(body), { timeoutMs: 2000, headers })).data);

  beforeEach(async () => {
    bus = new LocalBus();
    apps = [await start(bus)];
    recorded.length = 0;
    served = 0;
  });
  afterEach(async () => {
    for (const app of apps) await app.close();
    await bus.close();
  });

  it('answers a @MessagePattern request with the JSON return value, headers in the context', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await expect(ask('gh.test.sum.compute', { values: [1, 2, 3] }, { traceparent })).resolves.toEqual({ total: 6, traceparent });
    await expect(ask('gh.test.sum.later', null)).resolves.toBe('later');
    await expect(ask('gh.test.sum.counted', null)).resolves.toBe(3);
  });

  it('turns exceptions into { error: { code, message } } replies, hiding unknown errors', async () => {
    await expect(ask('gh.test.sum.refused', {})).resolves.toEqual({
      error: { code: 'SUM_REFUSED', message: 'values are not numbers' },
    });
    await expect(ask('gh.test.sum.crashed', {})).resolves.toEqual({
      error: { code: 'INTERNAL_ERROR', message: 'Internal server error' },
    });
    const garbled = await bus.request('gh.test.sum.compute', new TextEncoder().encode('{'), { timeoutMs: 2000 });
    expect(decodeJson(garbled.data)).toEqual({ error: { code: 'BUS_BAD_JSON', message: 'payload is not valid JSON' } });
  });

  it('delivers an @EventPattern message to its handler', async () => {
    bus.publish('gh.test.sum.recorded', encodeJson({ total: 6 }), { headers: { traceparent: 't-1' } });
    const deadline = Date.now() + 2000;
    while (recorded.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(recorded).toEqual([{ data: { total: 6 }, subject: 'gh.test.sum.recorded', traceparent: 't-1' }]);
  });

  it('serves each request from one replica, through a queue group per subject', async () => {
    apps.push(await start(bus));
    for (let i = 0; i < 10; i++) await ask('gh.test.sum.compute', { values: [i] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(served).toBe(10);
  });

  it('stops serving once the microservice closes', async () => {
    for (const app of apps.splice(0)) await app.close();
    await expect(bus.request('gh.test.sum.compute', encodeJson({ values: [] }), { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'BUS_NO_RESPONDERS',
    });
  });
});
