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
    const ids: (string | undefined)[] = [];
    const sub = bus.subscribe(auditAppendSubject, (msg) => {
      const request = decode(AuditAppendRequestSchema, msg.data);
      if (!request.ok) throw new Error(request.error);
      batches.push(request.value.records.length);
      ids.push(...request.value.records.map((r) => r.id));
      if (answer) return void msg.respond(encode(AckReplySchema, { ok: false, error: { ...answer, message: 'no' } }));
      stored.push(...request.value.records);
      msg.respond(encode(AckReplySchema, { ok: true }));
    });
    return { stored, batches, ids, stop: () => sub.unsubscribe() };
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

  it('fits each batch in one bus message, and leaves out arguments too large for any', async () => {
    await bus.close();
    bus = new LocalBus({ maxPayloadBytes: 64 * 1024 });
    const { stored, batches } = auth();
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000 });
    for (let i = 0; i < 40; i += 1) trail.record({ ...record(i), arguments: 'a'.repeat(8000) });
    trail.record({ ...record(40), arguments: 'b'.repeat(65_000) });
    await trail.flush();
    expect(stored).toHaveLength(41);
    expect(batches.length).toBeGreaterThan(4);
    expect(stored[40]).toMatchObject({ name: 't40', detail: 'arguments left out: too large for one message' });
    expect(stored[40]?.arguments).toBeUndefined();
  });

  it('stores NUL-free text, and sends a batch again under the same record ids', async () => {
    trail = new BusAuditTrail(bus, log, { flushEveryMs: 60_000 });
    trail.record({ ...record(1), name: 'a\u0000b' });
    const down = auth({ code: 'UNAVAILABLE' });
    await trail.flush();
    down.stop();
    const { stored } = auth();
    await trail.flush();
    expect(stored).toEqual([{ ...record(1), name: 'a\uFFFDb', id: expect.stringMatching(/^[A-Za-z0-9_-]{16,32}$/) }]);
    expect(down.ids).toEqual([stored[0]?.id]);
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
  it('redacts keys that contain a secret-like part or a configured one, at any depth, whatever their case and separators', () => {
    const redaction = new ArgumentRedaction(['SSN'], 10_000);
    const text = redaction.text({
      query: 'q',
      apiKey: 'k',
      github_token: 'ghp',
      'X-Api-Key': 'x',
      db_password: 'p',
      nested: [{ Client_Secret: 's', ssn: '123', keep: 1, env: { AWS_SECRET_ACCESS_KEY: 'aws' } }],
      headers: [
        { name: 'Authorization', value: 'Bearer t9' },
        { name: 'Accept', value: 'text/plain' },
        { key: 'x-session', value: 'abc' },
      ],
    });
    expect(JSON.parse(text ?? '')).toEqual({
      query: 'q',
      apiKey: '[redacted]',
      github_token: '[redacted]',
      'X-Api-Key': '[redacted]',
      db_password: '[redacted]',
      nested: [{ Client_Secret: '[redacted]', ssn: '[redacted]', keep: 1, env: { AWS_SECRET_ACCESS_KEY: '[redacted]' } }],
      headers: [
        { name: 'Authorization', value: '[redacted]' },
        { name: 'Accept', value: 'text/plain' },
        { key: 'x-session', value: '[redacted]' },
      ],
    });
    expect(redaction.text(undefined)).toBeUndefined();
  });

  it('drops the credentials, query and fragment of URL-shaped strings', () => {
    const text = new ArgumentRedaction([], 10_000).text({
      db: 'postgres://u:pw12@db.internal:5432/app',
      link: 'https://files.example/doc?access_token=SECRET123',
      plain: 'https://example.com/page',
      prose: 'see https://x.example/?t=1 for details',
    });
    expect(JSON.parse(text ?? '')).toEqual({
      db: 'postgres://db.internal:5432/app#[redacted]',
      link: 'https://files.example/doc#[redacted]',
      plain: 'https://example.com/page',
      prose: 'see https://x.example/?t=1 for details',
    });
  });

  it('caps the text in UTF-8 bytes on a character boundary and says so', () => {
    const text = new ArgumentRedaction([], 40).text({ note: 'é'.repeat(100) }) ?? '';
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(40);
    expect(text.endsWith('…[truncated]')).toBe(true);
    expect(text).not.toContain('\uFFFD');
  });
});
