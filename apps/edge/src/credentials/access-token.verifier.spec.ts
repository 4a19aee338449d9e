import { KeyObject, randomUUID, sign as signData } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { LocalBus } from '#bus';
import {
  authJwksQueue,
  authJwksSubject,
  encode,
  RevocationsListReplySchema,
  revocationsListQueue,
  revocationsListSubject,
  type Revocation,
} from '#contracts';
import { createLogger, PrometheusMetrics } from '#observability';
import { AccessTokenVerifier } from './access-token.verifier.js';

const BASE = 'https://mcp.example.com/gh';
const UNAVAILABLE = 'signing keys unavailable: the JWKS could not be fetched from auth';
const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

let bus: LocalBus;
let now: number;
let k1: SigningKey;
let k2: SigningKey;
/** What the stand-in auth serves: the JWKS (or something malformed) and the active revocations. */
let served: { jwks: unknown; revocations: Revocation[]; jwksRequests: number };
let verifier: AccessTokenVerifier;
let stopServing: () => void;

/** Starts answering as auth; the returned function stops it (requests then find no responders). */
function serveAuth(): () => void {
  const jwks = bus.subscribe(
    authJwksSubject,
    (m) => {
      served.jwksRequests += 1;
      m.respond(new TextEncoder().encode(JSON.stringify(served.jwks)));
    },
    { queue: authJwksQueue },
  );
  const revocations = bus.subscribe(
    revocationsListSubject,
    (m) => void m.respond(encode(RevocationsListReplySchema, { revocations: served.revocations })),
    {
      queue: revocationsListQueue,
    },
  );
  return () => {
    jwks.unsubscribe();
    revocations.unsubscribe();
  };
}

async function startVerifier(
  options: { acceptIssuerAudience?: boolean; cacheSize?: number; metrics?: PrometheusMetrics } = {},
): Promise<AccessTokenVerifier> {
  const started = new AccessTokenVerifier(bus, {
    issuer: BASE,
    baseURL: BASE,
    acceptIssuerAudience: options.acceptIssuerAudience ?? false,
    log,
    now: () => now,
    ...(options.metrics && { metrics: options.metrics }),
    ...(options.cacheSize !== undefined && { cacheSize: options.cacheSize }),
  });
  await started.start();
  return started;
}

/** An access token as auth issues it, with any claim or header member replaced. */
function sign(claims: JWTPayload = {}, header: Record<string, string> = {}, key: SigningKey = k1): Promise<string> {
  const iat = Math.floor(now / 1000);
  const payload = {
    iss: BASE,
    sub: 'user-1',
    email: 'ada@example.com',
    groups: ['eng'],
    aud: [`${BASE}/db`],
    client_id: 'client-1',
    scope: 'mcp',
    jti: randomUUID(),
    gid: 'grant-1',
    iat,
    exp: iat + 3600,
    ...claims,
  };
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: key.kid, ...header }).sign(key.privateKey);
}

function signWith(signed: string, key: KeyObject): Buffer {
  return signData('sha256', Buffer.from(signed), { key, dsaEncoding: 'ieee-p1363' });
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function payloadOf(token: string): JWTPayload & { jti: string; gid: string } {
  const parsed: unknown = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
  if (typeof parsed !== 'object' || parsed === null || !('jti' in parsed) || !('gid' in parsed)) throw new Error('no jti/gid');
  return { jti: String(parsed.jti), gid: String(parsed.gid) };
}

/** Polls until the verification's outcome is `ok` (bus deliveries are asynchronous). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const reasonOf = async (token: string, server = 'db') => {
  const result = await verifier.verify(token, server);
  return result.ok ? 'ok' : result.reason;
};

beforeAll(async () => {
  [k1, k2] = await Promise.all([signingKey('k1'), signingKey('k2')]);
});

beforeEach(async () => {
  bus = new LocalBus();
  now = Date.now();
  served = { jwks: { keys: [k1.jwk] }, revocations: [], jwksRequests: 0 };
  stopServing = serveAuth();
  verifier = await startVerifier();
});

afterEach(async () => {
  verifier.stop();
  await bus.close();
});

describe('AccessTokenVerifier: what a token must be', () => {
  it('turns a valid token into an oauth principal', async () => {
    const result = await verifier.verify(await sign(), 'db');
    expect(result).toEqual({
      ok: true,
      principal: { sub: 'user-1', email: 'ada@example.com', groups: ['eng'], method: 'oauth', clientId: 'client-1' },
    });
  });

  it('refuses a token for server A on server B, on the first and on the cached path', async () => {
    const forA = await sign({ aud: [`${BASE}/a`] });
    expect(await reasonOf(forA, 'b')).toBe(`audience lacks ${BASE}/b`);
    expect(await reasonOf(forA, 'a')).toBe('ok');
    expect(await reasonOf(forA, 'b')).toBe(`audience lacks ${BASE}/b`);
  });

  it('accepts the issuer as audience only when configured to', async () => {
    const forIssuer = await sign({ aud: [BASE] });
    expect(await reasonOf(forIssuer)).toBe(`audience lacks ${BASE}/db`);
    const lenient = await startVerifier({ acceptIssuerAudience: true });
    try {
      expect(await lenient.verify(forIssuer, 'db')).toMatchObject({ ok: true });
      expect(await lenient.verify(forIssuer, 'other')).toMatchObject({ ok: true });
    } finally {
      lenient.stop();
    }
  });

  it('refuses a token expired beyond the clock tolerance, not within it', async () => {
    const nowSec = Math.floor(now / 1000);
    expect(await reasonOf(await sign({ exp: nowSec - 10 }))).toBe('expired');
    expect(await reasonOf(await sign({ exp: nowSec - 3 }))).toBe('ok');
  });

  it('refuses a token that is not yet valid (nbf)', async () => {
    expect(await reasonOf(await sign({ nbf: Math.floor(now / 1000) + 60 }))).toBe('claim nbf: check_failed');
  });

  it('refuses a token without exp', async () => {
    expect(await reasonOf(await sign({ exp: undefined }))).toBe('claim exp: missing');
  });

  it('refuses a tampered payload and a tampered signature', async () => {
    const [header, , signature] = (await sign()).split('.');
    const forged = `${header}.${b64url({ ...payloadOf(await sign()), iss: BASE, sub: 'admin', aud: [`${BASE}/db`], exp: 9e9 })}.${signature}`;
    expect(await reasonOf(forged)).toBe('bad signature');
    const token = await sign();
    const [h, p, s] = token.split('.');
    const flipped = `${s.slice(0, 20)}${s[20] === 'A' ? 'B' : 'A'}${s.slice(21)}`;
    expect(await reasonOf(`${h}.${p}.${flipped}`)).toBe('bad signature');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const iat = Math.floor(now / 1000);
    const claims = { iss: BASE, sub: 'admin', aud: [`${BASE}/db`], jti: 'j', iat, exp: iat + 60 };
    const unsigned = `${b64url({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64url(claims)}.`;
    expect(await reasonOf(unsigned)).toBe('algorithm not allowed');
  });

  it('refuses HS256 signed with the public key as the secret (algorithm confusion)', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    for (const secret of [pem, JSON.stringify(k1.jwk)]) {
      const token = await new SignJWT({ iss: BASE, sub: 'admin', aud: [`${BASE}/db`], jti: 'j', exp: Math.floor(now / 1000) + 60 })
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: 'k1' })
        .sign(new TextEncoder().encode(secret));
      expect(await reasonOf(token)).toBe('algorithm not allowed');
    }
  });

  it('refuses the wrong issuer and the wrong typ', async () => {
    expect(await reasonOf(await sign({ iss: 'https://evil.example' }))).toBe('claim iss: check_failed');
    expect(await reasonOf(await sign({}, { typ: 'JWT' }))).toBe('claim typ: check_failed');
    expect(await reasonOf(await sign({}, { typ: 'application/at+jwt' }))).toBe('ok');
  });

  it('refuses what only a hand-made token can hold: critical headers, odd claim types, odd signatures', async () => {
    /** Signed by k1 as auth would, with the header and claims exactly as given. */
    const handMade = (header: Record<string, unknown>, claims: unknown) => {
      const signed = `${b64url({ alg: 'ES256', typ: 'at+jwt', kid: 'k1', ...header })}.${b64url(claims)}`;
      const signature = signWith(signed, KeyObject.from(k1.privateKey));
      return `${signed}.${signature.toString('base64url')}`;
    };
    const iat = Math.floor(now / 1000);
    const claims = { iss: BASE, sub: 'user-1', aud: [`${BASE}/db`], jti: 'j', iat, exp: iat + 60 };
    expect(await reasonOf(handMade({}, claims))).toBe('ok');
    expect(await reasonOf(handMade({ typ: 'Application/AT+JWT' }, claims))).toBe('ok');
    expect(await reasonOf(handMade({ crit: ['exp'] }, claims))).toMatch(/^ERR_JWS_INVALID/);
    expect(await reasonOf(handMade({ b64: false }, claims))).toMatch(/^ERR_JWS_INVALID/);
    expect(await reasonOf(handMade({ kid: 7 }, claims))).toBe('token names no key (kid)');
    expect(await reasonOf(handMade({}, [claims]))).toMatch(/^ERR_JWT_INVALID/);
    expect(await reasonOf(handMade({}, { ...claims, exp: String(iat + 60) }))).toBe('claim exp: invalid');
    expect(await reasonOf(handMade({}, { ...claims, iat: 'now' }))).toBe('claim iat: invalid');
    expect(await reasonOf(handMade({}, { ...claims, nbf: null }))).toBe('claim nbf: invalid');
    expect(await reasonOf(handMade({}, { ...claims, aud: 42 }))).toBe('malformed claims');
    expect(await reasonOf(handMade({}, { ...claims, jti: undefined }))).toBe('claim jti: missing');
    const withoutJti = handMade({}, { ...claims, jti: undefined });
    Object.defineProperty(Object.prototype, 'jti', { value: 'polluted', configurable: true });
    try {
      expect(await reasonOf(withoutJti)).toBe('claim jti: missing');
    } finally {
      Reflect.deleteProperty(Object.prototype, 'jti');
    }
    const [h, p, sig] = handMade({}, claims).split('.');
    expect(await reasonOf(`${h}.${p}.${sig.slice(0, -4)}`)).toBe('bad signature');
    expect(await reasonOf(`${h}.${p}.${Buffer.from(signWith(`${h}.${p}`, KeyObject.from(k2.privateKey))).toString('base64url')}`)).toBe(
      'bad signature',
    );
    expect(await reasonOf(`${h}.${p}.${sig}.x`)).toMatch(/^ERR_JWS_INVALID/);
    const invalidUtf8 = Buffer.concat([Buffer.from('{"iss":"'), Buffer.from([0xff]), Buffer.from('"}')]).toString('base64url');
    const badText = `${h}.${invalidUtf8}`;
    expect(await reasonOf(`${badText}.${signWith(badText, KeyObject.from(k1.privateKey)).toString('base64url')}`)).toMatch(
      /^ERR_JWT_INVALID/,
    );
    // A byte-order mark is kept, so JSON refuses it, in the claims as in the header.
    const withBom = (json: unknown) =>
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(JSON.stringify(json))]).toString('base64url');
    const bomText = `${h}.${withBom(claims)}`;
    expect(await reasonOf(`${bomText}.${signWith(bomText, KeyObject.from(k1.privateKey)).toString('base64url')}`)).toMatch(
      /^ERR_JWT_INVALID/,
    );
    expect(await reasonOf(`${withBom({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' })}.${p}.${sig}`)).toMatch(/^ERR_JWS_INVALID/);
    const badHeader = Buffer.concat([Buffer.from('{"alg":"ES256","kid":"k1","x":"'), Buffer.from([0xff]), Buffer.from('"}')]);
    expect(await reasonOf(`${badHeader.toString('base64url')}.${p}.${sig}`)).toMatch(/^ERR_JWS_INVALID/);
    expect(await reasonOf(`${h}.${p}!.${sig}`)).toMatch(/^ERR_JWS_INVALID/);
  });

  it('refuses malformed claims and text that is no token', async () => {
    expect(await reasonOf(await sign({ groups: 'eng' }))).toBe('malformed claims');
    expect(await reasonOf('not.a.token')).toMatch(/^ERR_JWS_INVALID/);
    expect(await reasonOf('garbage')).toMatch(/^ERR_JWS_INVALID/);
  });
});

describe('AccessTokenVerifier: keys', () => {
  it('refetches on an unknown kid, at most once per 2 s, and finds a rotated-in key', async () => {
    const rotated = await sign({}, {}, k2);
    expect(served.jwksRequests).toBe(1);
    now += 2001;
    expect(await reasonOf(rotated)).toBe('token names an unknown key (kid)');
    expect(served.jwksRequests).toBe(2);
    served.jwks = { keys: [k1.jwk, k2.jwk] };
    // Garbage kids within the window cost auth nothing; concurrent misses after it share one fetch.
    await Promise.all([1, 2, 3].map(async (i) => expect(await reasonOf(await sign({}, { kid: `junk-${i}` }))).not.toBe('ok')));
    expect(await reasonOf(rotated)).toBe('token names an unknown key (kid)');
    expect(served.jwksRequests).toBe(2);
    now += 2001;
    const outcomes = await Promise.all([rotated, rotated, await sign({}, {}, k2)].map((t) => reasonOf(t)));
    expect(outcomes).toEqual(['ok', 'ok', 'ok']);
    expect(served.jwksRequests).toBe(3);
  });

  it('stops trusting tokens, cached ones too, once their key leaves the JWKS', async () => {
    const old = await sign();
    expect(await reasonOf(old)).toBe('ok');
    served.jwks = { keys: [k2.jwk] };
    now += 2001;
    expect(await reasonOf(await sign({}, {}, k2))).toBe('ok');
    expect(await reasonOf(old)).toBe('token names an unknown key (kid)');
  });

  it('ignores a malformed JWKS reply, keeps the keys it had, and cannot judge an unknown kid meanwhile', async () => {
    served.jwks = { keys: 'none' };
    now += 2001;
    expect(await reasonOf(await sign({}, {}, k2))).toBe(UNAVAILABLE);
    expect(served.jwksRequests).toBe(2);
    expect(await reasonOf(await sign())).toBe('ok');
  });

  it('starts while auth is not answering, reports tokens unavailable (not invalid), and verifies once auth answers', async () => {
    verifier.stop();
    await bus.close();
    bus = new LocalBus();
    verifier = await startVerifier();
    const token = await sign();
    expect(await verifier.verify(token, 'db')).toEqual({ ok: false, reason: UNAVAILABLE, unavailable: true });
    // What is wrong before any key is looked at stays a verdict.
    expect(await verifier.verify('garbage', 'db')).not.toHaveProperty('unavailable');
    const unsigned = `${b64url({ alg: 'none', typ: 'at+jwt', kid: 'k1' })}.${b64url({ sub: 'admin' })}.`;
    expect(await verifier.verify(unsigned, 'db')).toEqual({ ok: false, reason: 'algorithm not allowed' });
    serveAuth();
    now += 2001;
    expect(await reasonOf(token)).toBe('ok');
  });

  it('while auth is down, judges tokens of the keys it has and reports only unknown kids unavailable', async () => {
    const good = await sign();
    stopServing();
    now += 2001;
    expect(await verifier.verify(await sign({}, {}, k2), 'db')).toEqual({ ok: false, reason: UNAVAILABLE, unavailable: true });
    expect(await reasonOf(good)).toBe('ok');
    const [h, p] = (await sign()).split('.');
    expect(await reasonOf(`${h}.${p}.${(await sign()).split('.')[2]}`)).toBe('bad signature');
    expect(await reasonOf(await sign({ exp: Math.floor(now / 1000) - 60 }))).toBe('expired');
    expect(await reasonOf(await sign({ aud: [`${BASE}/other`] }))).toBe(`audience lacks ${BASE}/db`);
    stopServing = serveAuth();
    now += 2001;
    expect(await reasonOf(await sign({}, {}, k2))).toBe('token names an unknown key (kid)');
  });
});

describe('AccessTokenVerifier: revocations', () => {
  const revoke = (revocation: Revocation) => verifier.revoked(revocation);

  it('refuses a token whose jti is revoked, on the cached path too', async () => {
    const token = await sign();
    const other = await sign();
    expect(await reasonOf(token)).toBe('ok');
    revoke({ kind: 'jti', value: payloadOf(token).jti, until: now + 3_600_000 });
    await eventually(async () => (await reasonOf(token)) === 'revoked');
    expect(await reasonOf(other)).toBe('ok');
  });

  it('counts each check by outcome', async () => {
    const metrics = new PrometheusMetrics([]);
    const counted = await startVerifier({ metrics });
    try {
      const nowSec = Math.floor(now / 1000);
      const token = await sign();
      for (const [text, server] of [
        [token, 'db'],
        [token, 'db'],
        [token, 'elsewhere'],
        [await sign({ exp: nowSec - 10 }), 'db'],
        ['not a token', 'db'],
      ] as const) {
        await counted.verify(text, server);
      }
      counted.revoked({ kind: 'jti', value: payloadOf(token).jti, until: now + 3_600_000 });
      expect(await counted.verify(token, 'db')).toMatchObject({ ok: false, reason: 'revoked' });
      const values = (await metrics.registry.getSingleMetric('gatehouse_token_checks_total')?.get())?.values ?? [];
      const count = (outcome: string) => values.find((v) => v.labels.outcome === outcome)?.value;
      expect([count('valid'), count('wrong_audience'), count('expired'), count('invalid'), count('revoked')]).toEqual([2, 1, 1, 1, 1]);
    } finally {
      counted.stop();
    }
  });

  it('refuses every token of a revoked grant', async () => {
    const [first, second, elsewhere] = await Promise.all([sign(), sign(), sign({ gid: 'grant-2' })]);
    revoke({ kind: 'grant', value: 'grant-1', until: now + 3_600_000 });
    await eventually(async () => (await reasonOf(first)) === 'revoked');
    expect(await reasonOf(second)).toBe('revoked');
    expect(await reasonOf(elsewhere)).toBe('ok');
  });

  it('learns revocations it missed from the list request', async () => {
    const token = await sign();
    served.revocations = [{ kind: 'jti', value: payloadOf(token).jti, until: now + 3_600_000 }];
    const late = await startVerifier();
    try {
      expect(await late.verify(token, 'db')).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      late.stop();
    }
  });

  it('drops a revocation once its until (plus the clock tolerance) has passed', async () => {
    const token = await sign({ exp: Math.floor(now / 1000) + 7200 });
    revoke({ kind: 'grant', value: 'grant-1', until: now + 1000 });
    await eventually(async () => (await reasonOf(token)) === 'revoked');
    now += 1000 + 5000 - 1;
    expect(await reasonOf(token)).toBe('revoked');
    now += 2;
    expect(await reasonOf(token)).toBe('ok');
  });

  it('refuses a cached token once it expires', async () => {
    const token = await sign({ exp: Math.floor(now / 1000) + 60 });
    expect(await reasonOf(token)).toBe('ok');
    now += 64_000;
    expect(await reasonOf(token)).toBe('ok');
    now += 2_000;
    expect(await reasonOf(token)).toBe('expired');
  });
});

describe('AccessTokenVerifier: cache', () => {
  it('remembers at most cacheSize tokens, evicting the oldest, and only verified ones', async () => {
    const small = await startVerifier({ cacheSize: 2 });
    try {
      const [a, b, c] = await Promise.all([sign(), sign(), sign()]);
      const evil = await sign({ iss: 'https://evil.example' });
      expect(await small.verify(evil, 'db')).toMatchObject({ ok: false });
      expect(small.remembered).toBe(0);
      expect(small.knows(evil)).toBe(false);
      for (const token of [a, b, c]) expect(await small.verify(token, 'db')).toMatchObject({ ok: true });
      expect(small.remembered).toBe(2);
      expect([a, b, c].map((token) => small.knows(token))).toEqual([false, true, true]);
      expect(await small.verify(a, 'db')).toMatchObject({ ok: true });
      expect(small.remembered).toBe(2);
    } finally {
      small.stop();
    }
  });

  it('knows a remembered token only whole: another payload under its signature, or the signature alone, is checked afresh', async () => {
    const token = await sign();
    expect(await reasonOf(token)).toBe('ok');
    const [header, , signature] = token.split('.');
    const forged = `${header}.${b64url({ ...payloadOf(token), iss: BASE, sub: 'admin', aud: [`${BASE}/db`], exp: 9e9 })}.${signature}`;
    for (const other of [forged, `.${signature}`, signature]) {
      expect(verifier.knows(other)).toBe(false);
      expect(await reasonOf(other)).not.toBe('ok');
    }
    expect(verifier.knows(token)).toBe(true);
    expect(await reasonOf(token)).toBe('ok');
  });
});
