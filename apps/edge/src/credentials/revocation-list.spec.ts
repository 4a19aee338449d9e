import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { createLogger } from '#observability';
import { RevocationList } from './revocation-list.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

describe('RevocationList', () => {
  let bus: LocalBus;
  let clock: number;
  let list: RevocationList;

  beforeEach(() => {
    bus = new LocalBus();
    clock = 1_000_000;
    list = new RevocationList(bus, { log, now: () => clock, graceMs: 5000 });
  });

  afterEach(async () => {
    list.stop();
    await bus.close();
  });

  it('denies a jti or a grant until its until plus the grace', () => {
    list.add({ kind: 'jti', value: 'a', until: clock + 1000 });
    list.add({ kind: 'grant', value: 'g', until: clock + 1000 });
    expect(list.isRevoked('a', undefined)).toBe(true);
    expect(list.isRevoked('b', 'g')).toBe(true);
    expect(list.isRevoked('g', 'a')).toBe(false);
    clock += 5999;
    expect(list.isRevoked('a', 'g')).toBe(true);
    clock += 2;
    expect(list.isRevoked('a', 'g')).toBe(false);
  });

  it('keeps the latest until of a value revoked twice, and prunes what has expired', () => {
    list.add({ kind: 'jti', value: 'a', until: clock + 1000 });
    list.add({ kind: 'jti', value: 'a', until: clock + 500 });
    list.add({ kind: 'grant', value: 'g', until: clock + 60_000 });
    clock += 5800;
    list.prune();
    expect(list.size).toBe(2);
    expect(list.isRevoked('a', undefined)).toBe(true);
    clock += 300;
    list.prune();
    expect(list.size).toBe(1);
    expect(list.isRevoked('a', 'g')).toBe(true);
    expect(list.isRevoked('a', undefined)).toBe(false);
  });

  it('survives auth not answering the list request at start', async () => {
    await expect(list.start()).resolves.toBeUndefined();
    expect(list.size).toBe(0);
  });
});
