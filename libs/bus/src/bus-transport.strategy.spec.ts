import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { of } from 'rxjs';
import type { Bus } from './bus.port.js';
import { BusContext, BusTransport, FAILED_REPLY } from './bus-transport.strategy.js';
import { LocalBus } from './local-bus.js';

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data));

const recorded: { data: unknown; subject: string; traceparent: string | undefined }[] = [];
const servedBy: string[] = [];
const failures: string[] = [];

@Controller()
class SumController {
  @MessagePattern('gh.test.sum.compute')
  compute(@Payload() data: Uint8Array, @Ctx() ctx: BusContext): Uint8Array {
    const { values } = parse(data) as { values: number[] };
    servedBy.push(ctx.getSubject());
    return bytes({ total: values.reduce((a, b) => a + b, 0), traceparent: ctx.getHeaders().traceparent });
  }

  @MessagePattern('gh.test.{group}.work', undefined, { queue: 'gh.test.{group}' })
  work(@Ctx() ctx: BusContext): Uint8Array {
    servedBy.push(ctx.getSubject());
    return bytes({ subject: ctx.getSubject() });
  }

  @MessagePattern('gh.test.sum.later')
  async later(): Promise<Uint8Array> {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return bytes('later');
  }

  @MessagePattern('gh.test.sum.counted')
  counted(): unknown {
    return of(bytes(1), bytes(2), bytes(3));
  }

  @MessagePattern('gh.test.sum.crashed')
  crashed(): never {
    throw new Error('secret internals');
  }

  @MessagePattern('gh.test.sum.wrong')
  wrong(): unknown {
    return { not: 'bytes' };
  }

  // Nest 12's typed EventPattern overload wants `...args: unknown[]`; the metadata overload takes @Ctx()
  @EventPattern<string>('gh.test.sum.recorded')
  record(@Payload() data: Uint8Array, @Ctx() ctx: BusContext): void {
    recorded.push({ data: parse(data), subject: ctx.getSubject(), traceparent: ctx.getHeaders().traceparent });
  }
}

@Module({ controllers: [SumController] })
class SumModule {}

async function start(bus: Bus, groups = ['a']): Promise<INestMicroservice> {
  const strategy = new BusTransport({ bus, params: { group: groups }, onError: (_err, subject) => failures.push(subject) });
  const app = await NestFactory.createMicroservice(SumModule, { strategy, logger: false });
  await app.listen();
  return app;
}

describe('BusTransport', () => {
  let bus: LocalBus;
  let apps: INestMicroservice[];
  const ask = async (subject: string, body: unknown, headers?: Record<string, string>): Promise<unknown> =>
    parse((await bus.request(subject, bytes(body), { timeoutMs: 2000, headers })).data);

  beforeEach(async () => {
    bus = new LocalBus();
    apps = [await start(bus)];
    recorded.length = 0;
    servedBy.length = 0;
    failures.length = 0;
  });
  afterEach(async () => {
    for (const app of apps) await app.close();
    await bus.close();
  });

  it('answers a @MessagePattern request with the bytes the handler returns, headers in the context', async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    await expect(ask('gh.test.sum.compute', { values: [1, 2, 3] }, { traceparent })).resolves.toEqual({ total: 6, traceparent });
    await expect(ask('gh.test.sum.later', null)).resolves.toBe('later');
    await expect(ask('gh.test.sum.counted', null)).resolves.toBe(3);
  });

  it('answers a handler that throws or returns no bytes with FAILED_REPLY, and reports it', async () => {
    const crashed = await bus.request('gh.test.sum.crashed', bytes({}), { timeoutMs: 2000 });
    expect(crashed.data).toEqual(FAILED_REPLY);
    expect(new TextDecoder().decode(crashed.data)).not.toContain('secret');
    expect((await bus.request('gh.test.sum.wrong', bytes({}), { timeoutMs: 2000 })).data).toEqual(FAILED_REPLY);
    expect(failures).toEqual(['gh.test.sum.crashed', 'gh.test.sum.wrong']);
  });

  it('serves a pattern once per value of its placeholders, each with its own queue group', async () => {
    apps.push(await start(bus, ['a', 'b']));
    await expect(ask('gh.test.a.work', null)).resolves.toEqual({ subject: 'gh.test.a.work' });
    await expect(ask('gh.test.b.work', null)).resolves.toEqual({ subject: 'gh.test.b.work' });
    for (let i = 0; i < 10; i++) await ask('gh.test.a.work', null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // two replicas serve group a, but each request is answered once
    expect(servedBy.filter((s) => s === 'gh.test.a.work')).toHaveLength(11);
    await expect(bus.request('gh.test.c.work', bytes(null), { timeoutMs: 200 })).rejects.toMatchObject({ code: 'BUS_NO_RESPONDERS' });
  });

  it('refuses to start a pattern whose placeholder has no values', async () => {
    const strategy = new BusTransport({ bus });
    await expect(NestFactory.createMicroservice(SumModule, { strategy, logger: false }).then((app) => app.listen())).rejects.toThrow(
      'no values for {group}',
    );
  });

  it('delivers an @EventPattern message to its handler', async () => {
    bus.publish('gh.test.sum.recorded', bytes({ total: 6 }), { headers: { traceparent: 't-1' } });
    const deadline = Date.now() + 2000;
    while (recorded.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(recorded).toEqual([{ data: { total: 6 }, subject: 'gh.test.sum.recorded', traceparent: 't-1' }]);
  });

  it('serves each request from one replica, through a queue group per subject', async () => {
    apps.push(await start(bus));
    for (let i = 0; i < 10; i++) await ask('gh.test.sum.compute', { values: [i] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(servedBy).toHaveLength(10);
  });

  it('stops serving once the microservice closes', async () => {
    for (const app of apps.splice(0)) await app.close();
    await expect(bus.request('gh.test.sum.compute', bytes({ values: [] }), { timeoutMs: 500 })).rejects.toMatchObject({
      code: 'BUS_NO_RESPONDERS',
    });
  });
});
