import { jest } from '@jest/globals';
import type { ServerConfig } from '#config';
import type { Principal } from '#contracts';
import { sha256Base64Url } from '#crypto';
import type { CredentialAnswer, CredentialLookup } from '../../credentials/credential-lookup.js';
import { capturedLogger } from '../remote/scripted-upstream.fixture.js';
import { HeldCredential, RENEW_BEFORE_EXPIRY_MS } from './held-credential.js';

const server: ServerConfig = {
  name: 'linear',
  timeoutMs: 1000,
  serviceAuths: [],
  runnerGroup: 'default',
  transportType: 'streamable-http',
  url: 'https://mcp.linear.test/mcp',
  headers: { Authorization: '' },
};
const alice: Principal = { sub: 'alice', method: 'oauth' };
const context = { sessionId: 's1', sub: 'alice', server: 'linear' };

/** A lookup (our own port) that answers from a list and records what it was asked. */
function scriptedLookup(answers: CredentialAnswer[]) {
  const asked: (string | undefined)[] = [];
  const lookup: CredentialLookup = {
    get: (_server, _principal, rejected) => {
      asked.push(rejected);
      const next = answers.shift();
      return next ? Promise.resolve(next) : Promise.reject(new Error('no more answers'));
    },
  };
  return { lookup, asked };
}

afterEach(() => {
  jest.useRealTimers();
});

describe('HeldCredential', () => {
  it('asks auth again a minute before expiry and hands the next token on', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const next = { status: 'ok' as const, token: 'second', expiresAt: 1_000_000 + 3_600_000 };
    const { lookup, asked } = scriptedLookup([next]);
    const renewed: string[] = [];
    const held = new HeldCredential(server, alice, 'first', 1_000_000 + 600_000, {
      lookup,
      log: capturedLogger().log,
      context,
      renewed: (token) => renewed.push(token),
    });
    await jest.advanceTimersByTimeAsync(600_000 - RENEW_BEFORE_EXPIRY_MS - 1);
    expect(asked).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(asked).toStrictEqual([undefined]);
    expect(renewed).toEqual(['second']);
    expect(held.current).toBe('second');
    held.close();
  });

  it('waits out a token that lives longer than a timer can (about 24.8 days) instead of asking at once', async () => {
    // Real timers: Node fires a longer setTimeout after 1 ms, which fake timers do not reproduce.
    const year = 365 * 24 * 3_600_000;
    const { lookup, asked } = scriptedLookup([{ status: 'ok', token: 'next', expiresAt: Date.now() + 2 * year }]);
    const held = new HeldCredential(server, alice, 'first', Date.now() + year, {
      lookup,
      log: capturedLogger().log,
      context,
      renewed: () => undefined,
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(asked).toHaveLength(0);
    held.close();
  });

  it('names the refused token by its hash, and takes only a different one', async () => {
    const { lookup, asked } = scriptedLookup([
      { status: 'ok', token: 'second' },
      { status: 'ok', token: 'second' },
      { status: 'missing', connectUrl: 'https://g.test/oauth/connect?service=linear', message: 'Connect Linear.' },
    ]);
    const held = new HeldCredential(server, alice, 'first', undefined, {
      lookup,
      log: capturedLogger().log,
      context,
      renewed: () => undefined,
    });
    expect(await held.refused()).toEqual({ ok: true, token: 'second' });
    expect(await held.refused()).toEqual({ ok: false, reason: 'linear refused your credential' });
    expect(await held.refused()).toEqual({
      ok: false,
      reason: 'linear refused your credential; connect it again at https://g.test/oauth/connect?service=linear',
    });
    expect(asked).toEqual([sha256Base64Url('first'), sha256Base64Url('second'), sha256Base64Url('second')]);
    held.close();
  });
});
