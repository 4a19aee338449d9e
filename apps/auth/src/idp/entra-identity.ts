import { stringClaim, stringListClaim, trueClaim } from './claim-values.js';
import { IdpError } from './idp-error.js';
import type { Identity } from './identity.js';

/** Tenant values that admit work accounts from any directory. */
const ANY_TENANT = new Set(['common', 'organizations']);

export function isMultiTenant(tenantId: string): boolean {
  return ANY_TENANT.has(tenantId.toLowerCase());
}

/**
 * An Entra ID token's person. With a specific tenant, `tid` must be that tenant and the email counts as verified:
 * that directory's admins (us) control it. With common/organizations any directory's admin could set any address,
 * so it counts as verified only when Entra says the domain is verified (the optional `xms_edov` claim).
 */
export function entraIdentity(claims: { readonly sub: string; readonly [claim: string]: unknown }, tenantId: string): Identity {
  const anyTenant = isMultiTenant(tenantId);
  const tid = stringClaim(claims['tid']);
  if (!anyTenant && tid?.toLowerCase() !== tenantId.toLowerCase()) {
    throw new IdpError('access_denied', 'This account belongs to a different Microsoft Entra directory.');
  }
  const email = stringClaim(claims['email']) ?? emailShaped(stringClaim(claims['preferred_username']));
  if (email === undefined) throw new IdpError('access_denied', 'Microsoft Entra did not share an email address for this account.');
  return {
    sub: `azure:${claims.sub}`,
    email: email.toLowerCase(),
    emailVerified: !anyTenant || trueClaim(claims['xms_edov']),
    groups: stringListClaim(claims['groups']),
    orgs: [],
  };
}

/** preferred_username is usually the UPN (an address) but may be a phone number or a bare name. */
function emailShaped(value: string | undefined): string | undefined {
  return value !== undefined && /^[^@\s]+@[^@\s]+$/.test(value) ? value : undefined;
}
