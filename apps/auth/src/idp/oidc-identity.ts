import { stringClaim, stringListClaim, trueClaim } from './claim-values.js';
import { IdpError } from './idp-error.js';
import type { IdentityFromClaims } from './oidc.provider.js';

/** Claims many IdPs leave out of the ID token and put in userinfo only. */
const USERINFO_FALLBACK = ['email', 'email_verified', 'groups'] as const;

/** A generic OpenID provider's person: ID token claims first, userinfo for the ones it lacks. An absent email_verified is false. */
export const oidcIdentity: IdentityFromClaims = async (idToken, userInfo) => {
  const lacking = USERINFO_FALLBACK.some((name) => idToken[name] === undefined);
  const extra = lacking ? await userInfo() : undefined;
  const claim = (name: string): unknown => idToken[name] ?? extra?.[name];
  const email = stringClaim(claim('email'));
  if (email === undefined) throw new IdpError('access_denied', 'The identity provider did not share an email address for this account.');
  const hostedDomain = stringClaim(claim('hd'));
  return {
    sub: `oidc:${idToken.sub}`,
    email: email.toLowerCase(),
    emailVerified: trueClaim(claim('email_verified')),
    ...(hostedDomain === undefined ? {} : { hostedDomain }),
    groups: stringListClaim(claim('groups')),
    orgs: [],
  };
};
