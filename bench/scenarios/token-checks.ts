/**
 * Access-token checks per second at the edge, on one core (one Node thread): the edge's own
 * verifier against keys served over an in-process bus, for a token seen before (the cached path
 * every request after a client's first takes) and for tokens never seen (a full ES256 check); and
 * node:crypto's ES256 verify alone, on the same signature, in turns with the fresh tokens: the
 * most a first sight can be here.
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
/** Fresh tokens checked in one turn, before as many signatures alone. */
const FRESH_CHUNK = 400;

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

  // As the edge reads a token, from a request's header: one flat string. jose joins its tokens'
  // parts, and V8 would flatten each joined string at its first lookup, which no request pays.
  const sign = async (i: number) => Buffer.from(await signed(i), 'latin1').toString('latin1');
  const signed = (i: number) =>
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
  const signature = signatureCheck(repeated, jwk);
  const checkSignatures = (count: number) => {
    for (let i = 0; i < count; i++) if (!signature()) throw new Error('the signature did not verify');
  };
  // Unmeasured: the first checks run the verifier's code unoptimised, as a gateway's first requests do.
  await checkFresh(tokens.slice(0, FRESH_WARMUP_TOKENS));
  checkSignatures(FRESH_WARMUP_TOKENS);
  // In turns, a chunk of fresh tokens and as many signatures alone: this host's verify has moved by
  // a third within minutes, and turns a few milliseconds apart see the same machine.
  let freshMs = 0;
  let signatureMs = 0;
  for (let at = FRESH_WARMUP_TOKENS; at < tokens.length; at += FRESH_CHUNK) {
    const chunk = tokens.slice(at, at + FRESH_CHUNK);
    let started = performance.now();
    await checkFresh(chunk);
    freshMs += performance.now() - started;
    started = performance.now();
    checkSignatures(chunk.length);
    signatureMs += performance.now() - started;
  }

  verifier.stop();
  await bus.close();
  return {
    cachedPerSec: cachedPerSecond,
    firstSightPerSec: FRESH_TOKENS / (freshMs / 1000),
    signatureOnlyPerSec: FRESH_TOKENS / (signatureMs / 1000),
  };
}

/** node:crypto's synchronous ES256 verify of `token`'s signature: no parsing, no claims, no cache. */
function signatureCheck(token: string, jwk: JsonWebKey): () => boolean {
  const [header = '', payload = '', signature = ''] = token.split('.');
  const signed = Buffer.from(`${header}.${payload}`);
  const raw = Buffer.from(signature, 'base64url');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  return () => verify('sha256', signed, { key, dsaEncoding: 'ieee-p1363' }, raw);
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
