import { describeBusContract } from './bus.contract.js';
import { LocalBus } from './local-bus.js';
import { MeteredBus, type BusRequestOutcome } from './metered-bus.js';

const bytes = (text: string) => new TextEncoder().encode(text);

// Metering changes nothing a caller of the port can see.
describeBusContract('MeteredBus over LocalBus', (onError) => Promise.resolve(new MeteredBus(new LocalBus({ onError }), () => undefined)));

describe('MeteredBus', () => {
  const seen: { subject: string; outcome: BusRequestOutcome; seconds: number }[] = [];
  const bus = new MeteredBus(new LocalBus({ onError: () => undefined }), (subject, outcome, seconds) =>
    seen.push({ subject, outcome, seconds }),
  );

  afterAll(() => bus.close());
  beforeEach(() => (seen.length = 0));

  it('reports an answered request with its time', async () => {
    bus.subscribe('gh.test.echo', (msg) => void msg.respond(msg.data));
    const reply = await bus.request('gh.test.echo', bytes('hi'), { timeoutMs: 1000 });
    expect(new TextDecoder().decode(reply.data)).toBe('hi');
    expect(seen).toEqual([{ subject: 'gh.test.echo', outcome: 'ok', seconds: expect.any(Number) }]);
    expect(seen[0]?.seconds).toBeGreaterThanOrEqual(0);
  });

  it('reports no responders and timeouts, and still rejects', async () => {
    await expect(bus.request('gh.test.nobody', bytes(''), { timeoutMs: 1000 })).rejects.toMatchObject({ code: 'BUS_NO_RESPONDERS' });
    bus.subscribe('gh.test.silent', () => undefined);
    await expect(bus.request('gh.test.silent', bytes(''), { timeoutMs: 50 })).rejects.toMatchObject({ code: 'BUS_TIMEOUT' });
    expect(seen.map((s) => [s.subject, s.outcome])).toEqual([
      ['gh.test.nobody', 'no_responders'],
      ['gh.test.silent', 'timeout'],
    ]);
  });
});
