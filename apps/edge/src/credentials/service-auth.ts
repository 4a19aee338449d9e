import type { Principal } from '#contracts';
import { constantTimeEqual, indexOfSecret } from '#crypto';

export type ServiceAuth = { type: 'bearer'; tokens: readonly string[] } | { type: 'basic'; username: string; password: string };

export type Authentication = { ok: true; principal: Principal } | { ok: false; challenges: string[] };

const REALM = 'realm="gatehouse"';

/**
 * Checks a request's Authorization header against a server's static credentials without
 * comparing them byte by byte (bearer tokens by digest, see indexOfSecret; basic credentials
 * hashed and compared in constant time). Each configured credential is its own identity, so its
 * sessions are isolated like a user's; the sub names the credential by its place in `scope` (the
 * server), which every edge derives alike and which, unlike a hash of it, gives nothing to guess a
 * weak token from. No configured credentials means the server is open.
 */
export function authenticate(authorization: string | undefined, auths: readonly ServiceAuth[], scope = 'service'): Authentication {
  if (auths.length === 0) return { ok: true, principal: { sub: 'anonymous', method: 'anonymous' } };
  const [scheme = '', ...rest] = (authorization ?? '').trim().split(/\s+/);
  const credential = rest.join(' ');
  const kind = scheme.toLowerCase();
  for (const [i, auth] of auths.entries()) {
    const token = auth.type === 'bearer' && kind === 'bearer' ? indexOfSecret(auth.tokens, credential) : -1;
    const serviceAuth = { server: scope, index: i };
    if (token >= 0) return { ok: true, principal: { sub: `bearer:${scope}/${i}.${token}`, method: 'bearer', serviceAuth } };
    if (auth.type === 'basic' && kind === 'basic') {
      const decoded = decodeBasic(credential);
      const userOk = constantTimeEqual(auth.username, decoded?.username ?? '');
      const passwordOk = constantTimeEqual(auth.password, decoded?.password ?? '');
      if (decoded && userOk && passwordOk) {
        return { ok: true, principal: { sub: `basic:${scope}/${i}`, method: 'basic', serviceAuth } };
      }
    }
  }
  return { ok: false, challenges: challengesFor(auths) };
}

function challengesFor(auths: readonly ServiceAuth[]): string[] {
  const types = new Set(auths.map((a) => a.type));
  const challenges: string[] = [];
  if (types.has('bearer')) challenges.push(`Bearer ${REALM}`);
  if (types.has('basic')) challenges.push(`Basic ${REALM}, charset="UTF-8"`);
  return challenges;
}

function decodeBasic(credential: string): { username: string; password: string } | undefined {
  const text = Buffer.from(credential, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon < 0 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) };
}
