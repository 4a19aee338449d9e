/**
 * Access-token checks per second at the edge, on one core (one Node thread): the edge's own
 * verifier against keys served over an in-process bus, for a token seen before (the cached path
 * every request after a client's first takes) and for tokens never seen (a full ES256 check); and
 * node:crypto's ES256 verify alone, on the same signature: the most a first sight can be here.
 */
import { createPublicKey, verify, type JsonWebKey } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { LocalBus } from '#bus';
import {
  AuthJwksReplySchema,
  authJwksQueue,
  authJwksSubject,
  encode,
  RevocationsListReplySchema,
  revocationsListQueue,
  revocationsListSubject,
} from '#contracts';
import { createLogger } from '#observability';
import { AccessTokenVerifier } from '../../apps/edge/src/credentials/access-token.verifier.js';
import type { TokenChecks } from '../lib/results.js';

const BASE = 'https://mcp.example.com';
const SECONDS = Number(process.env.BENCH_TOKEN_SECONDS ?? 2);
const FRESH_TOKENS = Number(process.env.BENCH_FRESH_TOKENS ?? 4000);
const FRESH_WARMUP_TOKENS = 1000;

/** Verifications per second of one repeated token and of tokens never seen before. */
export async function measureTokenChecks(): Promise<TokenChecks> {
  const bus = new LocalBus();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'ES256', use: 'sig' };
  bus.subscribe(authJwksSubject, (m) => void m.respond(encode(AuthJwksReplySchema, { keys: [{ ...jwk, kty: 'EC' }] })), {
    queue: authJwksQueue,
  });
  bus.subscribe(revocationsListSubject, (m) => void m.respond(encode(RevocationsListReplySchema, { revocations: [] })), {
    queue: revocationsListQueue,
  });
  const log = createLogger({ service: 'bench', level: 'silent', destination: new PassThrough() });
  const verifier = new AccessTokenVerifier(bus, { issuer: BASE, baseURL: BASE, acceptIssuerAudience: false, log });
  await verifier.start();

  const sign = (i: number) =>
    new SignJWT({ email: 'alice@example.com', client_id: 'bench', scope: 'mcp', gid: 'grant' })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench', typ: 'at+jwt' })
      .setIssuer(BASE)
      .setSubject('oidc:alice')
      .setAudience([`${BASE}/everything`])
      .setIssuedAt()
      .setExpirationTime('1h')
      .setJti(`jti-${i}`)
      .sign(privateKey);

  const repeated = await sign(0);
  const cachedPerSecond = await checksPerSecond(
    async () => (await verifier.verify(repeated, 'everything')).ok,
    'the repeated token was refused',
  );

  const tokens = await Promise.all(Array.from({ length: FRESH_WARMUP_TOKENS + FRESH_TOKENS }, (_, i) => sign(i + 1)));
  const checkFresh = async (batch: string[]) => {
    for (const token of batch) if (!(await verifier.verify(token, 'everything')).ok) throw new Error('a fresh token was refused');
  };
  // Unmeasured: the first checks run the verifier's code unoptimised, as a gateway's first requests do.
  await checkFresh(tokens.slice(0, FRESH_WARMUP_TOKENS));
  const start = performance.now();
  await checkFresh(tokens.slice(FRESH_WARMUP_TOKENS));
  const freshPerSecond = FRESH_TOKENS / ((performance.now() - start) / 1000);

  verifier.stop();
  await bus.close();
  return {
    cachedPerSec: cachedPerSecond,
    firstSightPerSec: freshPerSecond,
    signatureOnlyPerSec: await signatureChecksPerSec(repeated, jwk),
  };
}

/** node:crypto's synchronous ES256 verify of `token`'s signature, over and over: no parsing, no claims, no cache. */
function signatureChecksPerSec(token: string, jwk: JsonWebKey): Promise<number> {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const signed = Buffer.from(`${header}.${payload}`);
  const raw = Buffer.from(signature, 'base64url');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return checksPerSecond(() => verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, raw), 'the signature did not verify');
}

/** `check` over and over for SECONDS, its clock read every 100 checks: checks per second; a check that fails throws `refusal`. */
async function checksPerSecond(check: () => boolean | Promise<boolean>, refusal: string): Promise<number> {
  let checks = 0;
  const started = performance.now();
  const deadline = started + SECONDS * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 100; i++) {
      if (!(await check())) throw new Error(refusal);
      checks += 1;
    }
  }
  return checks / ((performance.now() - started) / 1000);
}
