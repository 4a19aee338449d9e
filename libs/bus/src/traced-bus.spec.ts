import { AsyncLocalStorage } from 'node:async_hooks';
import { describeBusContract } from './bus.contract.js';
import type { BusHeaders } from './bus.port.js';
import { LocalBus } from './local-bus.js';
import { TracedBus, type BusTraceContext } from './traced-bus.js';

/** A trace context that is just the traceparent string, carried as the OTel implementation carries it. */
function fakeTrace(): BusTraceContext {
  const current = new AsyncLocalStorage<string | undefined>();
  return {
    within: (headers, fn) => current.run(headers?.traceparent, fn),
    outgoing: () => {
      const traceparent = current.getStore();
      return traceparent === undefined ? undefined : { traceparent };
    },
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

// Tracing changes nothing a caller of the port can see.
describeBusContract('TracedBus over LocalBus', (onError) => Promise.resolve(new TracedBus(new LocalBus({ onError }), fakeTrace())));

describe('TracedBus', () => {
  const trace = fakeTrace();
  const bus = new TracedBus(new LocalBus({ onError: () => undefined }), trace);
  afterAll(() => bus.close());

  it("runs each handler in its message's trace, and what it sends carries that trace on", async () => {
    const second = new Promise<BusHeaders>((resolve) => bus.subscribe('gh.test.second', (msg) => resolve(msg.headers)));
    bus.subscribe('gh.test.first', async (msg) => {
      await Promise.resolve();
      bus.publish('gh.test.second', bytes(''), { headers: { 'x-correlation': 'c1' } });
      msg.respond(bytes(trace.outgoing()?.traceparent ?? 'none'));
    });
    const reply = await trace.within({ traceparent: 't1' }, () => bus.request('gh.test.first', bytes(''), { timeoutMs: 1000 }));
    expect(new TextDecoder().decode(reply.data)).toBe('t1');
    expect(await second).toEqual({ traceparent: 't1', 'x-correlation': 'c1' });
  });

  it('adds nothing outside a trace, and leaves a traceparent the caller set', async () => {
    const seen: BusHeaders[] = [];
    const both = new Promise<void>((resolve) =>
      bus.subscribe('gh.test.third', (msg) => {
        if (seen.push(msg.headers) === 2) resolve();
      }),
    );
    bus.publish('gh.test.third', bytes(''));
    trace.within({ traceparent: 't2' }, () => bus.publish('gh.test.third', bytes(''), { headers: { traceparent: 'own' } }));
    await both;
    expect(seen).toEqual([{}, { traceparent: 'own' }]);
  });
});
