import { Envelope } from '#crypto';
import { CookieJar } from '../web/cookies.js';
import { CsrfTokens } from './csrf-tokens.js';
import { SealedBrowserSessions } from './sealed-browser-sessions.js';

const HOUR = 3_600_000;
const key = (fill: string) => ({ id: fill, key: Buffer.alloc(32, fill) });
const person = (sub: string) => ({ sub, email: `${sub}@example.com`, emailVerified: true, groups: ['eng'], orgs: [] });
const cookieOf = (setCookie: string | undefined) => (setCookie ?? '').split(';')[0] ?? '';

function sessions(at: { now: number }, envelope = new Envelope([key('a')]), secure = true) {
  return new SealedBrowserSessions(envelope, new CookieJar(secure), { idleTimeoutMs: 8 * HOUR, maxAgeMs: 24 * HOUR, now: () => at.now });
}

describe('SealedBrowserSessions', () => {
  it('sets a __Host- cookie (Secure, HttpOnly, SameSite=Lax, Path=/) that reads back as the same person', async () => {
    const at = { now: 1_000_000 };
    const jar = sessions(at);
    const { session, renewal } = jar.start(person('alice'));
    expect(renewal).toMatch(/^__Host-gh-session=v1\.[^;]+; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/);
    expect(renewal).not.toContain('alice');
    expect(await jar.read(cookieOf(renewal))).toEqual(session);
    expect(jar.readRenewing(cookieOf(renewal))?.identity).toEqual(person('alice'));
    expect(session).toMatchObject({ sub: 'alice', email: 'alice@example.com', groups: ['eng'], authenticatedAt: 1_000_000 });
  });

  it('drops the prefix and Secure on plain http (dev mode)', () => {
    const { renewal } = sessions({ now: 0 }, undefined, false).start(person('alice'));
    expect(renewal).toMatch(/^gh-session=v1\.[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
  });

  it('reads no session from a tampered, foreign, empty or missing cookie', async () => {
    const at = { now: 0 };
    const jar = sessions(at);
    const cookie = cookieOf(jar.start(person('alice')).renewal);
    const [name, value = ''] = cookie.split('=');
    const flipped = value.slice(0, -3) + (value.at(-3) === 'A' ? 'B' : 'A') + value.slice(-2);
    const foreign = cookieOf(sessions(at, new Envelope([key('b')])).start(person('alice')).renewal);
    const otherPurpose = new Envelope([key('a')]).seal(
      JSON.stringify({ id: 'x', identity: person('alice'), authenticatedAt: 0, seenAt: 0 }),
    );
    for (const header of [`${name}=${flipped}`, foreign, `${name}=${otherPurpose}`, `${name}=`, `${name}=junk`, undefined, 'other=1']) {
      expect(await jar.read(header)).toBeUndefined();
    }
  });

  it('ends when idle, slides its idle expiry on use, and ends at its absolute expiry whatever the use', async () => {
    const at = { now: 0 };
    const jar = sessions(at);
    let cookie = cookieOf(jar.start(person('alice')).renewal);
    at.now = 60_000;
    expect(jar.readRenewing(cookie)?.renewal).toBeUndefined();
    at.now = 8 * HOUR;
    expect(await jar.read(cookie)).toBeUndefined();

    at.now = 0;
    cookie = cookieOf(jar.start(person('alice')).renewal);
    for (const hour of [7, 14, 21]) {
      at.now = hour * HOUR;
      const read = jar.readRenewing(cookie);
      expect(read?.session.sub).toBe('alice');
      cookie = cookieOf(read?.renewal);
    }
    expect(jar.readRenewing(cookie)?.renewal).toBeUndefined();
    at.now = 23 * HOUR;
    expect(jar.readRenewing(`x=1; ${cookie}`)?.renewal).toContain('Max-Age=3600;');
    at.now = 24 * HOUR;
    expect(await jar.read(cookie)).toBeUndefined();
  });

  it('opens a cookie sealed with a previous key, and clears it on sign-out', async () => {
    const at = { now: 0 };
    const old = cookieOf(sessions(at, new Envelope([key('a')])).start(person('alice')).renewal);
    const rotated = sessions(at, new Envelope([key('b'), key('a')]));
    expect((await rotated.read(old))?.sub).toBe('alice');
    expect(rotated.end()).toBe('__Host-gh-session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure');
  });
});

describe('CsrfTokens', () => {
  it('accepts the token of the session only', () => {
    const csrf = new CsrfTokens('k'.repeat(32));
    const alice = { id: 'session-1', sub: 'alice', authenticatedAt: 0 };
    const token = csrf.issue(alice);
    expect(csrf.check(alice, token)).toBe(true);
    expect(csrf.check({ ...alice, id: 'session-2' }, token)).toBe(false);
    expect(csrf.check(alice, '')).toBe(false);
    expect(csrf.check(alice, null)).toBe(false);
    expect(new CsrfTokens('j'.repeat(32)).check(alice, token)).toBe(false);
  });
});
