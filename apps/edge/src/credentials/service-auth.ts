import type { Principal } from '#contracts';
import { constantTimeEqual, constantTimeIncludes, sha256Base64Url } from '#crypto';

export type ServiceAuth = { type: 'bearer'; tokens: readonly string[] } | { type: 'basic'; username: string; password: string };

export type Authentication = { ok: true; principal: Principal } | { ok: false; challenges: string[] };

const REALM = 'realm="gatehouse"';

/**
 * Checks a request's Authorization header against a server's static credentials, in constant
 * time. The principal's sub is derived from the credential, so each credential's sessions are
 * isolated like a user's. No configured credentials means the server is open.
 */
export function authenticate(authorization: string | undefined, auths: readonly ServiceAuth[]): Authentication {
  if (auths.length === 0) return { ok: true, principal: { sub: 'anonymous', method: 'anonymous' } };
  const [scheme = '', ...rest] = (authorization ?? '').trim().split(/\s+/);
  const credential = rest.join(' ');
  const kind = scheme.toLowerCase();
  for (const auth of auths) {
    if (auth.type === 'bearer' && kind === 'bearer' && constantTimeIncludes(auth.tokens, credential)) {
      return { ok: true, principal: { sub: `bearer:${sha256Base64Url(credential).slice(0, 32)}`, method: 'bearer' } };
    }
    if (auth.type === 'basic' && kind === 'basic') {
      const decoded = decodeBasic(credential);
      const userOk = constantTimeEqual(auth.username, decoded?.username ?? '');
      const passwordOk = constantTimeEqual(auth.password, decoded?.password ?? '');
      if (decoded && userOk && passwordOk) {
        const sub = `basic:${sha256Base64Url(`${auth.username}:${auth.password}`).slice(0, 32)}`;
        return { ok: true, principal: { sub, method: 'basic' } };
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
