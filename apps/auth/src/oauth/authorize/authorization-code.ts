import { randomId, sha256Base64Url } from '#crypto';
import type { AuthStore, Subject } from '../../persistence/auth-store.port.js';
import { clientRedirect } from './authorization-request.js';

/** CODE_TTL: a client exchanges its code at once. */
const CODE_TTL_MS = 60_000;

/** What an authorization code is issued for: one client's request, as checked at /authorize. */
export interface CodeRequest {
  clientId: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scope: string;
}

/**
 * Starts a grant for the person and the servers and returns where the browser takes the code:
 * the client's redirect URI with `code`, `state` and `iss` (RFC 9207). The grant (its refresh
 * tokens) ends at `notAfter` at the latest: the absolute expiry of the browser session it came
 * from, after which the person must sign in at the identity provider again.
 */
export async function issueAuthorizationCode(
  store: AuthStore,
  options: { issuer: string; refreshTokenTtlMs: number },
  request: CodeRequest,
  person: { subject: Subject; notAfter: number; sealIdpRefresh?: (grantId: string) => string },
  resources: string[],
  now: number,
): Promise<string> {
  const { subject } = person;
  // The grant exists from here, so a code replayed even before its first exchange finishes can revoke it.
  const id = randomId();
  const grant = {
    id,
    clientId: request.clientId,
    subject,
    resources,
    scope: request.scope,
    createdAt: now,
    expiresAt: Math.min(now + options.refreshTokenTtlMs, person.notAfter),
    ...(person.sealIdpRefresh && { idpRefreshSealed: person.sealIdpRefresh(id) }),
  };
  await store.grants.insert(grant);
  const code = randomId(32);
  await store.codes.insert({
    codeHash: sha256Base64Url(code),
    clientId: grant.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    resources: grant.resources,
    scope: grant.scope,
    subject: grant.subject,
    grantId: grant.id,
    expiresAt: now + CODE_TTL_MS,
  });
  return clientRedirect(request.redirectUri, { code, state: request.state, iss: options.issuer });
}
