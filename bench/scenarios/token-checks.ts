/**
 * Access-token checks per second at the edge, on one core (one Node thread): the edge's own
 * verifier against keys served over an in-process bus, for a token seen before (the cached path
 * every request after a client's first takes) and for tokens never seen (a full ES256 check).
 */
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

const BASE = 'https://mcp.example.com';
const SECONDS = Number(process.env.BENCH_TOKEN_SECONDS ?? 2);
const FRESH_TOKENS = Number(process.env.BENCH_FRESH_TOKENS ?? 2000);

/** Verifications per second of one repeated token and of tokens never seen before. */
export async function measureTokenChecks(): Promise<{ cachedPerSec: number; firstSightPerSec: number }> {
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
  let checks = 0;
  const deadline = performance.now() + SECONDS * 1000;
  while (performance.now() < deadline) {
    for (let i = 0; i < 1000; i++) {
      if (!(await verifier.verify(repeated, 'everything')).ok) throw new Error('the repeated token was refused');
      checks += 1;
    }
  }
  const cachedPerSecond = checks / SECONDS;

  const fresh = await Promise.all(Array.from({ length: FRESH_TOKENS }, (_, i) => sign(i + 1)));
  const start = performance.now();
  for (const token of fresh) if (!(await verifier.verify(token, 'everything')).ok) throw new Error('a fresh token was refused');
  const freshPerSecond = FRESH_TOKENS / ((performance.now() - start) / 1000);

  verifier.stop();
  await bus.close();
  return { cachedPerSec: cachedPerSecond, firstSightPerSec: freshPerSecond };
}
