import { entraIdentity } from './entra-identity.js';
import { createIdentityProvider } from './idp.factory.js';
import { idpErrorThrownBy } from './idp-error.fixture.js';
import type { IdpSettings } from './idp-settings.js';

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';

const claims = (extra: Record<string, unknown>) => ({ sub: 'AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ', ...extra });

describe('Entra ID token claims', () => {
  it('admits an account of the configured tenant, its email verified and its groups kept', () => {
    const identity = entraIdentity(claims({ tid: TENANT.toUpperCase(), email: 'Alice@Contoso.com', groups: ['g-1', 'g-2', 7] }), TENANT);
    expect(identity).toEqual({
      sub: 'azure:AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ',
      email: 'alice@contoso.com',
      emailVerified: true,
      groups: ['g-1', 'g-2'],
      orgs: [],
    });
  });

  it('refuses an account of another tenant, or one without tid', () => {
    expect(idpErrorThrownBy(() => entraIdentity(claims({ tid: OTHER_TENANT, email: 'mallory@fabrikam.com' }), TENANT))).toMatchObject({
      code: 'access_denied',
      message: expect.stringMatching(/different Microsoft Entra directory/),
    });
    expect(idpErrorThrownBy(() => entraIdentity(claims({ email: 'mallory@fabrikam.com' }), TENANT))).toMatchObject({
      code: 'access_denied',
    });
  });

  it('takes the email from preferred_username when there is no email claim, but only if it is an address', () => {
    expect(entraIdentity(claims({ tid: TENANT, preferred_username: 'Bob@Contoso.com' }), TENANT).email).toBe('bob@contoso.com');
    expect(idpErrorThrownBy(() => entraIdentity(claims({ tid: TENANT, preferred_username: '+15555550100' }), TENANT))).toMatchObject({
      code: 'access_denied',
      message: expect.stringMatching(/did not share an email/),
    });
  });

  it.each(['common', 'organizations', 'Common'])(
    'with tenant %s admits any directory but trusts the email only when xms_edov says so',
    (tenant) => {
      const foreign = entraIdentity(claims({ tid: OTHER_TENANT, email: 'carol@fabrikam.com' }), tenant);
      expect(foreign.emailVerified).toBe(false);
      expect(entraIdentity(claims({ tid: OTHER_TENANT, email: 'carol@fabrikam.com', xms_edov: true }), tenant).emailVerified).toBe(true);
    },
  );
});

describe('Azure settings', () => {
  const azure: IdpSettings = {
    provider: 'azure',
    clientId: 'app-id',
    clientSecret: 'app-secret',
    redirectUri: 'https://gw.example.test/oauth/callback',
    scopes: [],
    allowedOrgs: [],
    devMode: false,
  };

  it('needs the tenant as a directory ID, or common / organizations', () => {
    expect(idpErrorThrownBy(() => createIdentityProvider(azure)).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...azure, tenantId: 'contoso.onmicrosoft.com' })).code).toBe('misconfigured');
    expect(idpErrorThrownBy(() => createIdentityProvider({ ...azure, tenantId: 'x/../../evil' })).code).toBe('misconfigured');
    expect(createIdentityProvider({ ...azure, tenantId: TENANT })).toBeDefined();
    expect(createIdentityProvider({ ...azure, tenantId: 'organizations' })).toBeDefined();
  });
});
