import { BusNoRespondersError, BusTimeoutError, type Bus, type BusMessage } from './bus.port.js';
import { BusClosedError, BusInvalidArgumentError, BusPayloadTooLargeError, type BusErrorListener } from './bus-errors.js';

/** Builds a fresh, connected bus; handler errors must reach `onError`. */
export type MakeBus = (onError?: BusErrorListener) => Promise<Bus>;

export interface BusContractOptions {
  /** Starts every subject and bucket name, so parallel runs never meet; random by default. */
  prefix?: string;
}

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `done` until it holds; the buses deliver asynchronously. */
async function until(done: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

/** Subscribes and records the payloads (as text) that reach the handler. */
function record(bus: Bus, subject: string, queue?: string): string[] {
  const seen: string[] = [];
  bus.subscribe(subject, (msg) => void seen.push(text(msg.data)), { queue });
  return seen;
}

/** The behaviour the services rely on; every adapter must pass all of it. */
export function describeBusContract(name: string, makeBus: MakeBus, options: BusContractOptions = {}): void {
  const prefix = options.prefix ?? `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  let counter = 0;
  const unique = (): string => `${prefix}_${++counter}`;

  describe(`Bus contract: ${name}`, () => {
    let bus: Bus;
    let failures: [unknown, string][];

    beforeEach(async () => {
      failures = [];
      bus = await makeBus((err, subject) => failures.push([err, subject]));
    });
    afterEach(async () => {
      await bus.close();
    });

    describe('publish and subscribe', () => {
      it('delivers the payload and subject, never inside publish', async () => {
        const s = unique();
        const got: BusMessage[] = [];
        bus.subscribe(`${s}.a`, (msg) => void got.push(msg));
        bus.publish(`${s}.a`, bytes('hello'));
        expect(got).toHaveLength(0);
        await until(() => got.length === 1);
        expect(got[0].subject).toBe(`${s}.a`);
        expect(text(got[0].data)).toBe('hello');
        expect(got[0].headers).toEqual({});
        expect(got[0].respond(bytes('x'))).toBe(false);
      });

      it('matches `*` to exactly one token and `>` to one or more trailing tokens', async () => {
        const s = unique();
        const star = record(bus, `${s}.*.c`);
        const tail = record(bus, `${s}.>`);
        for (const subject of [`${s}.b.c`, `${s}.b.b.c`, `${s}.c`, `${s}.b`, s, `${s}.end.c`]) bus.publish(subject, bytes(subject));
        await until(() => star.includes(`${s}.end.c`) && tail.includes(`${s}.end.c`));
        expect(star).toEqual([`${s}.b.c`, `${s}.end.c`]);
        expect(tail).toEqual([`${s}.b.c`, `${s}.b.b.c`, `${s}.c`, `${s}.b`, `${s}.end.c`]);
      });

      it('gives each plain subscriber a copy and each queue group one delivery', async () => {
        const s = unique();
        const plain = [record(bus, s), record(bus, s)];
        const workers = [record(bus, s, 'workers'), record(bus, s, 'workers'), record(bus, s, 'workers')];
        const audit = [record(bus, s, 'audit'), record(bus, s, 'audit')];
        const sent = Array.from({ length: 30 }, (_, i) => String(i));
        for (const n of sent) bus.publish(s, bytes(n));
        const total = (group: string[][]): number => group.reduce((sum, seen) => sum + seen.length, 0);
        await until(() => plain.every((seen) => seen.length === 30) && total(workers) === 30 && total(audit) === 30);
        await bus.flush();
        await sleep(50);
        expect(plain).toEqual([sent, sent]);
        expect(workers.flat().sort()).toEqual([...sent].sort());
        expect(audit.flat().sort()).toEqual([...sent].sort());
        expect(workers.filter((seen) => seen.length > 0).length).toBeGreaterThan(1);
      });

      it('hands a subscription its messages in order, one at a time', async () => {
        const s = unique();
        const seen: string[] = [];
        let active = 0;
        let most = 0;
        bus.subscribe(s, async (msg) => {
          most = Math.max(most, ++active);
          await sleep(1);
          seen.push(text(msg.data));
          active--;
        });
        const sent = Array.from({ length: 20 }, (_, i) => String(i));
        for (const n of sent) bus.publish(s, bytes(n));
        await until(() => seen.length === 20);
        expect(seen).toEqual(sent);
        expect(most).toBe(1);
      });

      it('stops delivering after unsubscribe, which is idempotent', async () => {
        const s = unique();
        const seen: string[] = [];
        const sub = bus.subscribe(s, (msg) => void seen.push(text(msg.data)));
        const probe = record(bus, s);
        bus.publish(s, bytes('1'));
        await until(() => seen.length === 1);
        sub.unsubscribe();
        sub.unsubscribe();
        bus.publish(s, bytes('2'));
        await until(() => probe.length === 2);
        await sleep(20);
        expect(seen).toEqual(['1']);
      });

      it('reports a throwing or rejecting handler to onError and keeps the subscription', async () => {
        const s = unique();
        const seen: string[] = [];
        bus.subscribe(s, async (msg) => {
          const body = text(msg.data);
          if (body === 'throw') throw new Error('sync');
          await sleep(1);
          if (body === 'reject') throw new Error('async');
          seen.push(body);
        });
        for (const body of ['throw', 'reject', 'ok']) bus.publish(s, bytes(body));
        await until(() => seen.length === 1);
        expect(seen).toEqual(['ok']);
        expect(failures.map(([err, subject]) => [err instanceof Error ? err.message : err, subject])).toEqual([
          ['sync', s],
          ['async', s],
        ]);
      });

      it('rejects malformed subjects, patterns and headers', () => {
        const s = unique();
        for (const subject of ['', `${s}..a`, `${s}.*`, `${s}.>`, `${s} a`]) {
          expect(() => bus.publish(subject, bytes(''))).toThrow(BusInvalidArgumentError);
        }
        for (const pattern of ['', `${s}.>.a`, `${s}.a*`, `${s}.`]) {
          expect(() => bus.subscribe(pattern, () => undefined)).toThrow(BusInvalidArgumentError);
        }
        expect(() => bus.publish(s, bytes(''), { headers: { 'a:b': 'v' } })).toThrow(BusInvalidArgumentError);
        expect(() => bus.publish(s, bytes(''), { headers: { a: 'v\r\nx: y' } })).toThrow(BusInvalidArgumentError);
      });
    });

    describe('request and reply', () => {
      it('returns the reply, with headers both ways', async () => {
        const s = unique();
        let seen: BusMessage | undefined;
        bus.subscribe(
          s,
          (msg) => {
            seen = msg;
            msg.respond(bytes(`re:${text(msg.data)}`), { 'x-echo': msg.headers.traceparent ?? '' });
          },
          { queue: s },
        );
        const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'X-Corr': ' id-1 ' };
        const reply = await bus.request(s, bytes('ping'), { timeoutMs: 2000, headers });
        expect(text(reply.data)).toBe('re:ping');
        expect(reply.headers).toEqual({ 'x-echo': headers.traceparent });
        expect(seen?.headers).toEqual({ traceparent: headers.traceparent, 'X-Corr': 'id-1' });
      });

      it('gives each of many requests in flight its own reply, answered out of order', async () => {
        const s = unique();
        const held: BusMessage[] = [];
        bus.subscribe(s, (msg) => {
          held.push(msg);
          // All in hand: answered last first.
          if (held.length === 50) for (const m of held.reverse()) m.respond(bytes(`re:${text(m.data)}`));
        });
        const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => bus.request(s, bytes(String(i)), { timeoutMs: 5000 })));
        expect(replies.map((r) => text(r.data))).toEqual(Array.from({ length: 50 }, (_, i) => `re:${i}`));
      });

      it('fails at once with BusNoRespondersError when nobody listens', async () => {
        const started = Date.now();
        await expect(bus.request(unique(), bytes(''), { timeoutMs: 5000 })).rejects.toBeInstanceOf(BusNoRespondersError);
        expect(Date.now() - started).toBeLessThan(1000);
      });

      it('fails with BusTimeoutError when a subscriber does not answer in time', async () => {
        const s = unique();
        bus.subscribe(s, () => undefined);
        const started = Date.now();
        const failure = bus.request(s, bytes(''), { timeoutMs: 200 });
        await expect(failure).rejects.toBeInstanceOf(BusTimeoutError);
        await expect(failure).rejects.toMatchObject({ subject: s, timeoutMs: 200 });
        expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      });

      it('has no responders again once the only responder unsubscribes', async () => {
        const s = unique();
        const sub = bus.subscribe(s, (msg) => void msg.respond(bytes('ok')));
        await expect(bus.request(s, bytes(''), { timeoutMs: 2000 })).resolves.toBeDefined();
        sub.unsubscribe();
        await expect(bus.request(s, bytes(''), { timeoutMs: 2000 })).rejects.toBeInstanceOf(BusNoRespondersError);
      });

      it('rejects a request without a usable timeout', async () => {
        await expect(bus.request(unique(), bytes(''), { timeoutMs: 0 })).rejects.toBeInstanceOf(BusInvalidArgumentError);
      });
    });

    describe('payload limit', () => {
      it('carries a payload of exactly maxPayloadBytes less framing, and refuses a larger one at once', async () => {
        const s = unique();
        expect(bus.maxPayloadBytes).toBeGreaterThanOrEqual(1024 * 1024);
        const tooLarge = new Uint8Array(bus.maxPayloadBytes + 1);
        const sizes: number[] = [];
        bus.subscribe(`${s}.big`, (msg) => {
          sizes.push(msg.data.byteLength);
          expect(() => msg.respond(tooLarge)).toThrow(BusPayloadTooLargeError);
          msg.respond(bytes('ok'));
        });
        expect(() => bus.publish(`${s}.big`, tooLarge)).toThrow(BusPayloadTooLargeError);
        await expect(bus.request(`${s}.big`, tooLarge, { timeoutMs: 1000 })).rejects.toBeInstanceOf(BusPayloadTooLargeError);
        const fits = new Uint8Array(bus.maxPayloadBytes - 1024);
        expect(text((await bus.request(`${s}.big`, fits, { timeoutMs: 3000 })).data)).toBe('ok');
        expect(sizes).toEqual([fits.byteLength]);
      });
    });

    describe('key-value buckets', () => {
      it('puts, gets, overwrites and deletes', async () => {
        const kv = await bus.kv(unique(), { ttlMs: 60_000 });
        expect(await kv.get('absent')).toBeNull();
        await kv.put('session.a-1', bytes('one'));
        expect(text((await kv.get('session.a-1')) ?? bytes('missing'))).toBe('one');
        await kv.put('session.a-1', bytes('two'));
        expect(text((await kv.get('session.a-1')) ?? bytes('missing'))).toBe('two');
        await kv.put('empty', new Uint8Array());
        expect((await kv.get('empty'))?.length).toBe(0);
        await kv.delete('session.a-1');
        await kv.delete('never-there');
        expect(await kv.get('session.a-1')).toBeNull();
      });

      it('expires an entry ttlMs after its last put', async () => {
        const kv = await bus.kv(unique(), { ttlMs: 1000 });
        await kv.put('k', bytes('v'));
        await sleep(600);
        await kv.put('k', bytes('v2'));
        await sleep(700);
        expect(await kv.get('k')).not.toBeNull();
        const deadline = Date.now() + 1500;
        while ((await kv.get('k')) !== null && Date.now() < deadline) await sleep(25);
        expect(await kv.get('k')).toBeNull();
      });

      it('rejects bad keys, bucket names and TTLs', async () => {
        const kv = await bus.kv(unique(), { ttlMs: 60_000 });
        for (const key of ['', 'a b', 'a:b', '.a', 'a.', 'a..b', 'a*']) {
          await expect(kv.get(key)).rejects.toBeInstanceOf(BusInvalidArgumentError);
        }
        await expect(bus.kv('bad.name', { ttlMs: 60_000 })).rejects.toBeInstanceOf(BusInvalidArgumentError);
        await expect(bus.kv(unique(), { ttlMs: 50 })).rejects.toBeInstanceOf(BusInvalidArgumentError);
      });
    });

    describe('close', () => {
      it('is idempotent, resolves `closed`, and refuses work afterwards', async () => {
        const s = unique();
        const kv = await bus.kv(unique(), { ttlMs: 60_000 });
        await bus.flush();
        await Promise.all([bus.close(), bus.close()]);
        await bus.close();
        await expect(bus.closed).resolves.toBeUndefined();
        expect(() => bus.publish(s, bytes(''))).toThrow(BusClosedError);
        expect(() => bus.subscribe(s, () => undefined)).toThrow(BusClosedError);
        await expect(bus.request(s, bytes(''), { timeoutMs: 100 })).rejects.toBeInstanceOf(BusClosedError);
        await expect(bus.kv(unique(), { ttlMs: 60_000 })).rejects.toBeInstanceOf(BusClosedError);
        await expect(kv.get('k')).rejects.toBeInstanceOf(BusClosedError);
        await expect(bus.flush()).rejects.toBeInstanceOf(BusClosedError);
      });

      it('lets handlers finish what they were given, and fails requests left unanswered', async () => {
        const s = unique();
        let finished = false;
        let started = false;
        bus.subscribe(`${s}.slow`, async () => {
          started = true;
          await sleep(100);
          finished = true;
        });
        bus.subscribe(`${s}.mute`, () => undefined);
        const unanswered = expect(bus.request(`${s}.mute`, bytes(''), { timeoutMs: 5000 })).rejects.toBeInstanceOf(BusClosedError);
        bus.publish(`${s}.slow`, bytes(''));
        await until(() => started);
        await bus.close();
        expect(finished).toBe(true);
        await unanswered;
      });
    });
  });
}
