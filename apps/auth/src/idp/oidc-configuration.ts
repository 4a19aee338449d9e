import * as oidc from 'openid-client';
import { IDP_TIMEOUT_MS } from './idp-deadline.js';
import { IdpError } from './idp-error.js';
import { idpUrl } from './idp-url.js';

/** Endpoints the settings pin, replacing the discovered ones. */
export type EndpointOverrides = Partial<Record<'authorization_endpoint' | 'token_endpoint' | 'userinfo_endpoint', string>>;

/** Where an OpenID provider's metadata is found, and who we are to it. */
export interface OidcSource {
  /** An issuer (its discovery document is derived and the issuer checked) or a discovery document's own URL. */
  discovery: URL;
  overrides: EndpointOverrides;
  clientId: string;
  clientSecret: string;
  devMode: boolean;
}

const TIMEOUT_SECONDS = IDP_TIMEOUT_MS / 1000;

/**
 * Discovers the provider and returns an openid-client configuration that also verifies ID token signatures
 * against the provider's JWKS (openid-client otherwise trusts TLS for tokens from the token endpoint).
 */
export async function loadOidcConfiguration(source: OidcSource): Promise<oidc.Configuration> {
  // idpUrl has already refused http unless dev mode and loopback.
  const execute = source.discovery.protocol === 'http:' ? [oidc.allowInsecureRequests] : [];
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(source.discovery, source.clientId, source.clientSecret, undefined, { timeout: TIMEOUT_SECONDS, execute });
  } catch (err) {
    throw discoveryFailure(err);
  }
  if (Object.keys(source.overrides).length > 0) config = withOverrides(config, source);
  if (checkedEndpoints(config.serverMetadata(), source.devMode).some((url) => url.protocol === 'http:')) oidc.allowInsecureRequests(config);
  oidc.enableNonRepudiationChecks(config);
  return config;
}

// supportsPKCE is openid-client's helper method, not metadata; the new Configuration adds it back.
function withOverrides(discovered: oidc.Configuration, source: OidcSource): oidc.Configuration {
  const config = new oidc.Configuration(
    { ...discovered.serverMetadata(), supportsPKCE: undefined, ...source.overrides },
    source.clientId,
    source.clientSecret,
  );
  config.timeout = TIMEOUT_SECONDS;
  return config;
}

/** The endpoints openid-client will call, each held to the same https rule as the settings' URLs. */
function checkedEndpoints(metadata: oidc.ServerMetadata, devMode: boolean): URL[] {
  const { authorization_endpoint, token_endpoint, jwks_uri, userinfo_endpoint } = metadata;
  if (!authorization_endpoint || !token_endpoint || !jwks_uri) {
    throw new IdpError('misconfigured', 'The identity provider publishes no authorization, token or JWKS endpoint.');
  }
  const endpoints = [
    idpUrl(authorization_endpoint, devMode, 'authorization endpoint'),
    idpUrl(token_endpoint, devMode, 'token endpoint'),
    idpUrl(jwks_uri, devMode, 'JWKS URI'),
  ];
  if (userinfo_endpoint) endpoints.push(idpUrl(userinfo_endpoint, devMode, 'userinfo endpoint'));
  return endpoints;
}

function discoveryFailure(err: unknown): IdpError {
  if (err instanceof IdpError) return err;
  if (isNetworkFailure(err)) {
    return new IdpError('idp_error', 'The identity provider could not be reached to load its OpenID configuration.');
  }
  return new IdpError('misconfigured', "The identity provider's OpenID configuration could not be used; check its discovery URL.");
}

/**
 * A request that got no answer: refused, unresolvable, or timed out. openid-client passes fetch's TypeError through, or
 * wraps it (and timeouts) in a ClientError, so the cause is looked at too; checks are by name, not class, across realms.
 */
export function isNetworkFailure(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 2) return false;
  const name = 'name' in err ? err.name : undefined;
  const message = 'message' in err ? err.message : undefined;
  const code = 'code' in err ? err.code : undefined;
  if (name === 'TimeoutError' || name === 'AbortError' || (name === 'TypeError' && message === 'fetch failed')) return true;
  if (code === 'OAUTH_TIMEOUT' || code === 'OAUTH_ABORT') return true;
  return 'cause' in err && isNetworkFailure(err.cause, depth + 1);
}
