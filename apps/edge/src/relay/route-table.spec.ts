import { LocalBus, type KvBucket } from '#bus';
import { SessionRouteSchema, encode, type SessionRoute } from '#contracts';
import { randomId } from '#crypto';
import { RouteTable, isSessionId } from './route-table.js';

const TTL_MS = 60_000;

/** The real LocalBus bucket, with every call it receives written down. */
class RecordingBucket implements KvBucket {
  readonly calls: string[] = [];
  constructor(private readonly inner: KvBucket) {}
  get(key: string) {
    this.calls.push(`get ${key}`);
    return this.inner.get(key);
  }
  put(key: string, value: Uint8Array) {
    this.calls.push(`put ${key}`);
    return this.inner.put(key, value);
  }
  delete(key: string) {
    this.calls.push(`delete ${key}`);
    return this.inner.delete(key);
  }
}

let bus: LocalBus;
let kv: KvBucket;
let recorded: RecordingBucket;
let clock: number;
let table: RouteTable;

beforeEach(async () => {
  bus = new LocalBus();
  kv = await bus.kv('gh-sessions', { ttlMs: TTL_MS });
  recorded = new RecordingBucket(kv);
  clock = 1_000_000;
  table = new RouteTable(recorded, TTL_MS, () => clock);
});

afterEach(() => bus.close());

const route: SessionRoute = { runnerId: 'runner-1', sub: 'alice', server: 'files', transport: 'streamable-http' };
const storeDirectly = (sessionId: string, value: SessionRoute) => kv.put(sessionId, encode(SessionRouteSchema, value));

describe('isSessionId', () => {
  it('accepts a 128-bit base64url id', () => {
    expect(isSessionId(randomId())).toBe(true);
    expect(isSessionId('AAAAAAAAAAAAAAAAAAAA-_')).toBe(true);
  });

  it.each([
    ['too short', 'A'.repeat(21)],
    ['too long', 'A'.repeat(23)],
    ['a dot', `${'A'.repeat(21)}.`],
    ['a wildcard', `${'A'.repeat(21)}*`],
    ['padding', `${'A'.repeat(21)}=`],
    ['a newline', `${'A'.repeat(22)}\n`],
  ])('refuses an id with %s', (_, id) => {
    expect(isSessionId(id)).toBe(false);
  });

  it('refuses non-strings', () => {
    expect(isSessionId(undefined)).toBe(false);
    expect(isSessionId(12345)).toBe(false);
  });
});

describe('RouteTable', () => {
  it('finds the route of a session owned by the caller', async () => {
    const id = randomId();
    await storeDirectly(id, route);
    await expect(table.find(id, { sub: 'alice', server: 'files', transport: 'streamable-http' })).resolves.toEqual(route);
  });

  it.each([
    ['another user', { sub: 'mallory', server: 'files', transport: 'streamable-http' as const }],
    ['another server', { sub: 'alice', server: 'git', transport: 'streamable-http' as const }],
    ['another transport', { sub: 'alice', server: 'files', transport: 'sse' as const }],
  ])('hides the route from %s', async (_, owner) => {
    const id = randomId();
    await storeDirectly(id, route);
    await expect(table.find(id, owner)).resolves.toBeUndefined();
  });

  it('answers undefined for an unknown session', async () => {
    await expect(table.find(randomId(), route)).resolves.toBeUndefined();
  });

  it('never touches the bucket for an invalid id', async () => {
    for (const id of ['*', 'gh.>', 'short', `${'A'.repeat(21)}.`, '']) {
      await expect(table.find(id, route)).resolves.toBeUndefined();
    }
    expect(recorded.calls).toEqual([]);
  });

  it('reads a route from the bucket once, then from its cache', async () => {
    const id = randomId();
    await storeDirectly(id, route);
    await table.get(id);
    await kv.delete(id);
    await expect(table.get(id)).resolves.toEqual(route);
    expect(recorded.calls).toEqual([`get ${id}`]);
  });

  it('remembers the route a runner reported without writing the bucket, and forgets it on request', async () => {
    const id = randomId();
    table.remember(id, route);
    await expect(table.get(id)).resolves.toEqual(route);
    table.forget(id);
    await expect(table.get(id)).resolves.toBeUndefined();
    expect(recorded.calls).toEqual([`get ${id}`]);
  });

  it('never writes to the bucket: the owning runner does', async () => {
    const id = randomId();
    await storeDirectly(id, route);
    await table.find(id, route);
    clock += TTL_MS / 2;
    await table.find(id, route);
    expect(recorded.calls.every((call) => call.startsWith('get '))).toBe(true);
  });

  it('reads a local copy older than the TTL again, and forgets a route that expired', async () => {
    const id = randomId();
    await storeDirectly(id, route);
    await table.get(id);
    await kv.delete(id);
    await expect(table.get(id)).resolves.toEqual(route);
    clock += TTL_MS;
    await expect(table.get(id)).resolves.toBeUndefined();
  });
});
