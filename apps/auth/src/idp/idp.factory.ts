import { entraIdentity, isMultiTenant } from './entra-identity.js';
import { GitHubIdentityProvider } from './github.provider.js';
import { GoogleIdentityProvider } from './google.provider.js';
import { IdpError } from './idp-error.js';
import type { IdpSettings } from './idp-settings.js';
import { idpUrl } from './idp-url.js';
import type { IdentityProvider } from './identity-provider.port.js';
import type { EndpointOverrides, OidcSource } from './oidc-configuration.js';
import { oidcIdentity } from './oidc-identity.js';
import { OidcIdentityProvider } from './oidc.provider.js';

const DEFAULT_SCOPES = ['openid', 'email', 'profile'];
const ENTRA_ORIGIN = 'https://login.microsoftonline.com';
const TENANT_GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The identity provider the settings describe. Settings it cannot use fail here, at startup, as IdpError `misconfigured`. */
export function createIdentityProvider(settings: IdpSettings): IdentityProvider {
  checkClient(settings);
  switch (settings.provider) {
    case 'google':
      return new GoogleIdentityProvider(settings);
    case 'github':
      return new GitHubIdentityProvider(settings);
    case 'oidc':
      return new OidcIdentityProvider(
        oidcSource(settings),
        { redirectUri: settings.redirectUri, scopes: oidcScopes(settings.scopes) },
        oidcIdentity,
      );
    case 'azure':
      return entraProvider(settings);
  }
}

function checkClient(settings: IdpSettings): void {
  if (!settings.clientId || !settings.clientSecret) {
    throw new IdpError('misconfigured', 'The identity provider needs a client id and a client secret.');
  }
  if (!URL.canParse(settings.redirectUri)) {
    throw new IdpError('misconfigured', 'The redirect URI for the identity provider is not a valid URL.');
  }
}

/**
 * Generic OIDC: discovery from `discoveryUrl` (an issuer, or its discovery document's URL). Explicit endpoints replace the
 * discovered ones; given without `discoveryUrl`, the issuer is taken to be the authorization URL's origin and discovered
 * there, because the ID token's issuer and signing keys still have to come from somewhere.
 */
function oidcSource(settings: IdpSettings): OidcSource {
  const url = (value: string | undefined, name: string) => (value === undefined ? undefined : idpUrl(value, settings.devMode, name));
  const authorization = url(settings.authorizationUrl, 'authorization URL');
  const overrides: EndpointOverrides = {};
  if (authorization) overrides.authorization_endpoint = authorization.href;
  const token = url(settings.tokenUrl, 'token URL');
  if (token) overrides.token_endpoint = token.href;
  const userInfo = url(settings.userInfoUrl, 'userinfo URL');
  if (userInfo) overrides.userinfo_endpoint = userInfo.href;
  const discovery = url(settings.discoveryUrl, 'discovery URL') ?? (authorization && new URL(authorization.origin));
  if (discovery === undefined) {
    throw new IdpError('misconfigured', 'An OIDC identity provider needs a discovery URL (or at least an authorization URL).');
  }
  return { discovery, overrides, clientId: settings.clientId, clientSecret: settings.clientSecret, devMode: settings.devMode };
}

function oidcScopes(scopes: string[]): string[] {
  if (scopes.length === 0) return DEFAULT_SCOPES;
  return scopes.includes('openid') ? scopes : ['openid', ...scopes];
}

/** Azure/Entra: OIDC against the tenant's v2.0 issuer; `discoveryUrl` may replace it (national clouds, tests). */
function entraProvider(settings: IdpSettings): IdentityProvider {
  const tenantId = settings.tenantId ?? '';
  if (!isMultiTenant(tenantId) && !TENANT_GUID.test(tenantId)) {
    throw new IdpError('misconfigured', 'Azure needs tenantId: the directory (tenant) ID, or "common" / "organizations".');
  }
  const discovery =
    settings.discoveryUrl === undefined
      ? new URL(`${ENTRA_ORIGIN}/${tenantId}/v2.0`)
      : idpUrl(settings.discoveryUrl, settings.devMode, 'discovery URL');
  const source = { discovery, overrides: {}, clientId: settings.clientId, clientSecret: settings.clientSecret, devMode: settings.devMode };
  return new OidcIdentityProvider(source, { redirectUri: settings.redirectUri, scopes: DEFAULT_SCOPES }, (idToken) =>
    Promise.resolve(entraIdentity(idToken, tenantId)),
  );
}
