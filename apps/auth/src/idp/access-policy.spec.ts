import { decideAccess, type AccessPolicy } from './access-policy.js';
import type { Identity } from './identity.js';

const alice: Identity = { sub: 'oidc:1', email: 'alice@example.com', emailVerified: true, groups: ['engineering'], orgs: [] };
const googleAlice: Identity = { ...alice, sub: 'google:1', hostedDomain: 'example.com' };
const octo: Identity = { sub: 'github:9', email: 'octo@example.com', emailVerified: true, groups: [], orgs: ['acme'] };

const none: AccessPolicy = { allowedDomains: [], allowedEmails: [], allowedGroups: [], allowedOrgs: [] };
const policy = (rules: Partial<AccessPolicy>): AccessPolicy => ({ ...none, ...rules });

describe('decideAccess', () => {
  it('denies an unverified email, even one that is explicitly allowed', () => {
    const decision = decideAccess({ ...alice, emailVerified: false }, policy({ allowedEmails: ['alice@example.com'] }));
    expect(decision).toEqual({ allowed: false, reason: 'alice@example.com: email not verified by the identity provider' });
  });

  it('denies everyone when no list is configured', () => {
    expect(decideAccess(alice, none)).toEqual({ allowed: false, reason: 'no access policy configured' });
  });

  it('allows a listed email, case-insensitively, whatever the other lists say', () => {
    const rules = policy({
      allowedEmails: ['Alice@Example.COM'],
      allowedDomains: ['other.com'],
      allowedGroups: ['admins'],
      allowedOrgs: ['x'],
    });
    expect(decideAccess({ ...alice, email: 'ALICE@example.com' }, rules)).toEqual({ allowed: true });
  });

  it('denies an unlisted email when emails are the only rule', () => {
    expect(decideAccess(alice, policy({ allowedEmails: ['bob@example.com'] }))).toEqual({
      allowed: false,
      reason: 'alice@example.com is not an allowed user',
    });
  });

  it('allows by email domain, case-insensitively, OR within the list', () => {
    expect(decideAccess(alice, policy({ allowedDomains: ['other.com', 'EXAMPLE.com'] }))).toEqual({ allowed: true });
    expect(decideAccess(alice, policy({ allowedDomains: ['other.com'] }))).toEqual({
      allowed: false,
      reason: 'alice@example.com is not in an allowed domain',
    });
  });

  it('does not take a subdomain or a lookalike for the domain', () => {
    expect(decideAccess({ ...alice, email: 'alice@evil-example.com' }, policy({ allowedDomains: ['example.com'] })).allowed).toBe(false);
    expect(decideAccess({ ...alice, email: 'alice@sub.example.com' }, policy({ allowedDomains: ['example.com'] })).allowed).toBe(false);
  });

  it('requires Google identities to carry an allowed hd as well as an allowed address', () => {
    const rules = policy({ allowedDomains: ['example.com'] });
    expect(decideAccess(googleAlice, rules)).toEqual({ allowed: true });
    expect(decideAccess({ ...googleAlice, hostedDomain: 'Example.com' }, rules)).toEqual({ allowed: true });
    // A consumer Google account registered with a company address has no hd.
    const consumer: Identity = { ...alice, sub: 'google:1' };
    expect(decideAccess(consumer, rules)).toEqual({ allowed: false, reason: 'alice@example.com is not in an allowed domain' });
    expect(decideAccess({ ...googleAlice, hostedDomain: 'other.com' }, rules).allowed).toBe(false);
    // hd counts wherever it appears, e.g. Google through the generic OIDC provider.
    expect(decideAccess({ ...alice, hostedDomain: 'other.com' }, rules).allowed).toBe(false);
  });

  it('allows by group (exact match, OR within the list) and denies outside them', () => {
    expect(decideAccess(alice, policy({ allowedGroups: ['admins', 'engineering'] }))).toEqual({ allowed: true });
    expect(decideAccess(alice, policy({ allowedGroups: ['Engineering'] }))).toEqual({
      allowed: false,
      reason: 'alice@example.com is not in an allowed group',
    });
  });

  it('allows by GitHub org, case-insensitively, and denies outside them', () => {
    expect(decideAccess(octo, policy({ allowedOrgs: ['ACME'] }))).toEqual({ allowed: true });
    expect(decideAccess(octo, policy({ allowedOrgs: ['other'] }))).toEqual({
      allowed: false,
      reason: 'octo@example.com is not a member of an allowed organization',
    });
  });

  it('requires every configured list to be satisfied (AND across lists)', () => {
    const rules = policy({ allowedDomains: ['example.com'], allowedGroups: ['engineering'], allowedOrgs: ['acme'] });
    expect(decideAccess({ ...alice, orgs: ['acme'] }, rules)).toEqual({ allowed: true });
    expect(decideAccess(alice, rules)).toMatchObject({ allowed: false, reason: expect.stringMatching(/organization/) });
    expect(decideAccess({ ...alice, groups: [], orgs: ['acme'] }, rules)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/group/),
    });
    expect(decideAccess({ ...alice, email: 'alice@other.com', orgs: ['acme'] }, rules)).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/domain/),
    });
  });

  it('lets an unlisted email through when another configured list admits it', () => {
    expect(decideAccess(alice, policy({ allowedEmails: ['bob@example.com'], allowedDomains: ['example.com'] }))).toEqual({ allowed: true });
  });
});
