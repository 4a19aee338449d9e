import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { PassThrough } from 'node:stream';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { LocalBus } from '#bus';
import { AuthJwksReplySchema, authJwksQueue, authJwksSubject, encode, GatehouseError } from '#contracts';
import { createLogger } from '#observability';
import { fuzzRun } from '#testing';
import { AccessTokenVerifier } from '../credentials/access-token.verifier.js';
import { Admission, bearerToken, rememberedToken, type AccessTokens, type EdgeServer } from './admission.js';
import type { McpHttpRequest } from './http-io.js';

const server: EdgeServer = { name: 'db', serviceAuths: [{ type: 'bearer', tokens: ['tok'] }], runnerGroup: 'default', timeoutMs: 1000 };

function request(headers: Record<string, string>): McpHttpRequest {
  return {
    method: 'POST',
    headers,
    query: new URLSearchParams(),
    body: undefined,
    receivedAt: 0,
    clientAddress: '192.0.2.7',
    onClose: () => undefined,
  };
}

async function refusal(admission: Admission, headers: Record<string, string>, name = 'db'): Promise<GatehouseError | undefined> {
  try {
    await admission.admit(request(headers), name);
    return undefined;
  } catch (err) {
    if (err instanceof GatehouseError) return err;
    throw err;
  }
}

const own = 'https://mcp.example.com';

describe('Admission', () => {
  const open = new Admission(new Map([['db', server]]), { allowed: [], own });
  const strict = new Admission(new Map([['db', server]]), { allowed: ['https://claude.ai'], own });

  it('admits a caller with a valid credential', async () => {
    expect((await open.admit(request({ authorization: 'Bearer tok' }), 'db')).principal.method).toBe('bearer');
  });

  it('answers an unknown server with 404 naming it', async () => {
    const err = await refusal(open, { authorization: 'Bearer tok' }, 'nope');
    expect(err?.status).toBe(404);
    expect(err?.message).toContain('"nope"');
  });

  it('answers a bad credential with 401 and the challenge', async () => {
    const err = await refusal(open, { authorization: 'Bearer nope' });
    expect(err?.status).toBe(401);
    expect(err?.headers).toEqual({ 'www-authenticate': ['Bearer realm="gatehouse"'] });
  });

  it('checks Origin against allowedOrigins when set, before credentials', async () => {
    expect((await refusal(strict, { authorization: 'Bearer tok', origin: 'https://evil.example' }))?.status).toBe(403);
    expect((await refusal(strict, { origin: 'https://evil.example' }))?.status).toBe(403);
    expect(await refusal(strict, { authorization: 'Bearer tok', origin: 'https://claude.ai' })).toBeUndefined();
    expect(await refusal(strict, { authorization: 'Bearer tok' })).toBeUndefined();
    expect(await refusal(open, { authorization: 'Bearer tok', origin: 'https://anything.example' })).toBeUndefined();
  });

  it('without an allow-list, lets only its own origin reach a server that takes no credentials', async () => {
    const anonymous = new Admission(new Map([['open', { ...server, name: 'open', serviceAuths: [] }]]), { allowed: [], own });
    expect((await refusal(anonymous, { origin: 'http://evil.example' }, 'open'))?.status).toBe(403);
    expect(await refusal(anonymous, { origin: own }, 'open')).toBeUndefined();
    expect(await refusal(anonymous, {}, 'open')).toBeUndefined();
  });
});

describe('Admission with OAuth', () => {
  const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
  const both: EdgeServer = {
    ...server,
    serviceAuths: [
      { type: 'bearer', tokens: ['tok'] },
      { type: 'basic', username: 'svc', password: 'pw' },
    ],
  };
  const tokensOnly: EdgeServer = { ...server, name: 'open', serviceAuths: [] };
  const metadataOf = (name: string) => `resource_metadata="${own}/.well-known/oauth-protected-resource/${name}", scope="mcp"`;
  let bus: LocalBus;
  let verifier: AccessTokenVerifier;
  let privateKey: CryptoKey;
  let admission: Admission;

  const accessToken = (audience: string[]) => {
    const iat = Math.floor(Date.now() / 1000);
    const claims = { iss: own, sub: 'user-1', email: 'ada@example.com', aud: audience, jti: randomUUID(), gid: 'g', iat, exp: iat + 600 };
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'k1' }).sign(privateKey);
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
    bus = new LocalBus();
    bus.subscribe(authJwksSubject, (m) => void m.respond(encode(AuthJwksReplySchema, { keys: [{ ...jwk, kty: 'EC' }] })), {
      queue: authJwksQueue,
    });
    verifier = new AccessTokenVerifier(bus, { issuer: own, baseURL: own, acceptIssuerAudience: false, log });
    await verifier.start();
    const servers = new Map([
      ['db', both],
      ['open', tokensOnly],
    ]);
    admission = new Admission(servers, { allowed: [], own }, { tokens: verifier, baseURL: own, log });
  });

  afterAll(async () => {
    verifier.stop();
    await bus.close();
  });

  it('admits an access token for the server as an oauth principal', async () => {
    const token = await accessToken([`${own}/db`]);
    const { principal } = await admission.admit(request({ authorization: `Bearer ${token}` }), 'db');
    expect(principal).toEqual({ sub: 'user-1', email: 'ada@example.com', method: 'oauth' });
    // Seen before (the static credentials are then not looked at), it is admitted again, and still for its own server only.
    expect(verifier.knows(token)).toBe(true);
    expect((await admission.admit(request({ authorization: `Bearer ${token}` }), 'db')).principal).toEqual(principal);
    expect((await refusal(admission, { authorization: `Bearer ${token}` }, 'open'))?.status).toBe(401);
  });

  it("still admits the server's static bearer and basic credentials", async () => {
    expect((await admission.admit(request({ authorization: 'Bearer tok' }), 'db')).principal.method).toBe('bearer');
    const basic = `Basic ${Buffer.from('svc:pw').toString('base64')}`;
    expect((await admission.admit(request({ authorization: basic }), 'db')).principal.method).toBe('basic');
  });

  it('refuses a bad token with 401, invalid_token and where to find the metadata', async () => {
    for (const credential of [await accessToken([`${own}/open`]), 'garbage']) {
      const err = await refusal(admission, { authorization: `Bearer ${credential}` });
      expect(err?.status).toBe(401);
      expect(err?.message).toBe('Unauthorized: missing or invalid credentials');
      expect(err?.headers).toEqual({
        'www-authenticate': [`Bearer ${metadataOf('db')}, error="invalid_token"`, 'Basic realm="gatehouse", charset="UTF-8"'],
      });
    }
  });

  it('challenges a request without a token, without an error', async () => {
    expect((await refusal(admission, {}))?.headers).toEqual({
      'www-authenticate': [`Bearer ${metadataOf('db')}`, 'Basic realm="gatehouse", charset="UTF-8"'],
    });
    const wrongBasic = `Basic ${Buffer.from('svc:nope').toString('base64')}`;
    expect((await refusal(admission, { authorization: wrongBasic }))?.headers['www-authenticate']).toContain(`Bearer ${metadataOf('db')}`);
  });

  it('answers 503 with Retry-After, not 401, to a token it cannot check while auth is not answering', async () => {
    const downBus = new LocalBus();
    const blind = new AccessTokenVerifier(downBus, { issuer: own, baseURL: own, acceptIssuerAudience: false, log });
    await blind.start();
    try {
      const edge = new Admission(new Map([['db', both]]), { allowed: [], own }, { tokens: blind, baseURL: own, log });
      const err = await refusal(edge, { authorization: `Bearer ${await accessToken([`${own}/db`])}` });
      expect(err?.status).toBe(503);
      expect(err?.headers).toEqual({ 'retry-after': '5' });
      expect(err?.message).toBe('the authorization service is not reachable; retry shortly');
      // Credentials that need no key are still judged: a bad one is refused, a good one admitted.
      expect((await refusal(edge, { authorization: 'Bearer garbage' }))?.status).toBe(401);
      expect((await edge.admit(request({ authorization: 'Bearer tok' }), 'db')).principal.method).toBe('bearer');
    } finally {
      blind.stop();
      await downBus.close();
    }
  });

  it('requires a token on a server without static credentials, from any origin', async () => {
    const err = await refusal(admission, { origin: 'https://claude.ai' }, 'open');
    expect(err?.status).toBe(401);
    expect(err?.headers).toEqual({ 'www-authenticate': [`Bearer ${metadataOf('open')}`] });
    const token = await accessToken([`${own}/open`]);
    expect(await refusal(admission, { authorization: `Bearer ${token}`, origin: 'https://claude.ai' }, 'open')).toBeUndefined();
  });
});

describe('rememberedToken', () => {
  const known = new Set(['eyJ.a.b', 'x.y-z.w_']);
  const tokens: AccessTokens = { knows: (token) => known.has(token), verify: () => Promise.reject(new Error('not called')) };

  it('finds a remembered token in `Bearer <token>`, the scheme in any case', () => {
    expect(rememberedToken('Bearer eyJ.a.b', tokens)).toBe('eyJ.a.b');
    expect(rememberedToken('bEaReR x.y-z.w_', tokens)).toBe('x.y-z.w_');
    expect(rememberedToken('Bearer unknown', tokens)).toBeUndefined();
    expect(rememberedToken('Bearer  eyJ.a.b', tokens)).toBeUndefined();
    expect(rememberedToken(undefined, tokens)).toBeUndefined();
  });

  it('never finds a token the header does not carry as its Bearer credential', () => {
    const piece = fc.constantFrom(
      'Bearer',
      'bearer',
      'BEARER',
      'Basic',
      ' ',
      '  ',
      '\t',
      '\n',
      '\u00a0',
      '\ufeff',
      'eyJ.a.b',
      'x.y-z.w_',
      'x',
      '.',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const header = pieces.join('');
        const remembered = rememberedToken(header, tokens);
        if (remembered !== undefined) expect(remembered).toBe(bearerToken(header));
      }),
      fuzzRun(5_000),
    );
  });
});
