import type { Identity } from './identity.js';

/** Who may log in. An empty list does not restrict; all four empty admits nobody. */
export interface AccessPolicy {
  allowedDomains: string[];
  allowedEmails: string[];
  allowedGroups: string[];
  allowedOrgs: string[];
}

export type PolicyDecision = { allowed: true } | { allowed: false; /** Shown to the user. */ reason: string };

const ALLOWED: PolicyDecision = { allowed: true };

/**
 * A verified email listed in allowedEmails is enough. Otherwise every non-empty list among domains, groups and orgs must be
 * satisfied (AND across lists, OR within one). Emails, domains and orgs compare case-insensitively; groups exactly.
 */
export function decideAccess(identity: Identity, policy: AccessPolicy): PolicyDecision {
  const email = identity.email.toLowerCase();
  if (!identity.emailVerified) return denied(`${email}: email not verified by the identity provider`);
  const { allowedDomains, allowedEmails, allowedGroups, allowedOrgs } = policy;
  if (lowerCased(allowedEmails).includes(email)) return ALLOWED;
  const restrictions = [allowedDomains, allowedGroups, allowedOrgs].filter((list) => list.length > 0);
  if (restrictions.length === 0) {
    return allowedEmails.length > 0 ? denied(`${email} is not an allowed user`) : denied('no access policy configured');
  }
  if (allowedDomains.length > 0 && !inAllowedDomain(identity, email, lowerCased(allowedDomains))) {
    return denied(`${email} is not in an allowed domain`);
  }
  if (allowedGroups.length > 0 && !identity.groups.some((group) => allowedGroups.includes(group))) {
    return denied(`${email} is not in an allowed group`);
  }
  if (allowedOrgs.length > 0 && !identity.orgs.some((org) => lowerCased(allowedOrgs).includes(org.toLowerCase()))) {
    return denied(`${email} is not a member of an allowed organization`);
  }
  return ALLOWED;
}

/** For Google accounts the address alone proves nothing (anyone can make a Google account for any address): `hd` must match too. */
function inAllowedDomain(identity: Identity, email: string, domains: string[]): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1);
  if (!domains.includes(domain)) return false;
  const google = identity.hostedDomain !== undefined || identity.sub.startsWith('google:');
  return !google || domains.includes(identity.hostedDomain?.toLowerCase() ?? '');
}

function lowerCased(list: string[]): string[] {
  return list.map((item) => item.toLowerCase());
}

function denied(reason: string): PolicyDecision {
  return { allowed: false, reason };
}
