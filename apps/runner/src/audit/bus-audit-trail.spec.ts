import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { AckReplySchema, auditAppendSubject, AuditAppendRequestSchema, decode, encode, type AuditRecord } from '#contracts';
import { createLogger } from '#observability';
import { eventually } from '#testing';
import { BusAuditTrail } from './bus-audit-trail.js';
import { ArgumentRedaction } from './argument-redaction.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const record = (i: number): AuditRecord => ({ at: i, kind: 'tools/call', outcome: 'ok', sub: 'ada', server: 'db', name: `t${i}` });

describe('BusAuditTrail', () => {
  let bus: LocalBus;
  let trail: BusAuditTrail | undefined;
  beforeEach(() => (bus = new LocalBus()));
  afterEach(async () => {
    await trail?.close();
    await bus.close();
  });

  /** Auth as the bus sees it: stores what it is sent, or answers with `answer`'s error. */
  function auth(answer?: { code: 'BAD_REQUEST' | 'UNAVAILABLE' }) {
    const stored: AuditRecord[] = [];
    const batches: number[] = [];
    const sub = bus.subscribe(auditAppendSubject, (msg) => {
      const request = decode(AuditAppendRequestSchema, msg.data);
      if (!request.ok) throw new Error(request.error);
      batches.push(request.value.records.length);
      if (answer) return void msg.respond(encode(AckReplySchema, { ok: false, error: { ...answer, message: 'no' } }));
      stored.push(...request.value.records);
      msg.respond(encode(AckReplySchema, { ok: true }));
    });
    return { stored, batches, stop: () => sub.unsubscribe() };
  }

  it('sends records in batches of at most 500, in order', async () => {
    const { stored, batches } = auth();
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000 });
    for (let i = 0; i < 1200; i += 1) trail.record(record(i));
    await trail.flush();
    expect(batches).toEqual([500, 500, 200]);
    expect(stored.map((r) => r.at)).toEqual(Array.from({ length: 1200 }, (_, i) => i));
  });

  it('keeps what auth did not take (no responders, or its database down) and sends it once auth answers', async () => {
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 20, timeoutMs: 200 });
    trail.record(record(1));
    trail.record(record(2));
    await trail.flush();
    const down = auth({ code: 'UNAVAILABLE' });
    await trail.flush();
    expect(down.batches).toEqual([2]);
    down.stop();
    const { stored } = auth();
    trail.record(record(3));
    await eventually(() => stored.length === 3, 'the kept records delivered');
    expect(stored.map((r) => r.at)).toEqual([1, 2, 3]);
  });

  it('cuts a value longer than auth takes, so it never costs its batch', async () => {
    const { stored } = auth();
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000 });
    trail.record({ ...record(1), email: `${'a'.repeat(300)}@example.com`, name: 'n'.repeat(3000) });
    trail.record(record(2));
    await trail.flush();
    expect(stored.map((r) => [r.email?.length, r.name?.length])).toEqual([
      [255, 2048],
      [undefined, 2],
    ]);
  });

  it('drops a batch auth refuses as malformed instead of sending it forever', async () => {
    const refusing = auth({ code: 'BAD_REQUEST' });
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000 });
    trail.record(record(1));
    await trail.flush();
    await trail.flush();
    expect(refusing.batches).toEqual([1]);
  });

  it('holds at most maxQueued records while auth is away, dropping the oldest', async () => {
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000, maxQueued: 3, timeoutMs: 100 });
    for (let i = 0; i < 5; i += 1) trail.record(record(i));
    const { stored } = auth();
    await trail.flush();
    expect(stored.map((r) => r.at)).toEqual([2, 3, 4]);
  });
});

describe('ArgumentRedaction', () => {
  it('redacts built-in and configured keys at any depth, whatever their case and separators', () => {
    const redaction = new ArgumentRedaction(['SSN'], 10_000);
    const text = redaction.text({ query: 'q', apiKey: 'k', nested: [{ Client_Secret: 's', ssn: '123', keep: 1 }], 'access-token': 't' });
    expect(JSON.parse(text ?? '')).toEqual({
      query: 'q',
      apiKey: '[redacted]',
      nested: [{ Client_Secret: '[redacted]', ssn: '[redacted]', keep: 1 }],
      'access-token': '[redacted]',
    });
    expect(redaction.text(undefined)).toBeUndefined();
  });

  it('caps the text in UTF-8 bytes on a character boundary and says so', () => {
    const text = new ArgumentRedaction([], 40).text({ note: 'é'.repeat(100) }) ?? '';
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(40);
    expect(text.endsWith('…[truncated]')).toBe(true);
    expect(text).not.toContain('\uFFFD');
  });
});
