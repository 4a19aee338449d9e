import { randomId, sha256Base64Url } from '#crypto';
import { ScriptedBrowser, type StandInClient } from '#testing';
import { IdpError } from './idp-error.js';
import type { IdpSettings } from './idp-settings.js';
import type { Identity } from './identity.js';
import type { IdentityProvider, LoginRequest } from './identity-provider.port.js';

/** Test support for the identity provider specs: catching IdpErrors, and logins against a stand-in IdP. */

/** Our callback in the specs. */
export const REDIRECT_URI = 'https://gw.example.test/oauth/callback';

/** The IdpError `work` throws; anything else thrown, or nothing, fails the test. */
export function idpErrorThrownBy(work: () => unknown): IdpError {
  try {
    work();
  } catch (err) {
    if (err instanceof IdpError) return err;
    throw new Error(`expected an IdpError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected an IdpError, nothing was thrown');
}

/** The IdpError `work` rejects with; another rejection, or none, fails the test. */
export async function idpErrorOf(work: Promise<unknown>): Promise<IdpError> {
  const err: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof IdpError)) throw new Error(`expected an IdpError, got ${String(err)}`);
  return err;
}

export function newLogin(): LoginRequest {
  return { state: randomId(), nonce: randomId(), codeVerifier: randomId(32) };
}

/** Our client as registered at the stand-in IdP: it authenticates with a secret and redirects to REDIRECT_URI. */
export function ourClient(clientId: string): StandInClient {
  return { client_id: clientId, client_secret: 'stand-in-secret', redirect_uris: [REDIRECT_URI] };
}

/** Settings for `client` at the stand-in IdP, which listens on loopback (hence dev mode); `settings` names the provider and its endpoints, and may override the rest. */
export function settingsFor(client: StandInClient, settings: Pick<IdpSettings, 'provider'> & Partial<IdpSettings>): IdpSettings {
  return {
    clientId: client.client_id,
    clientSecret: client.client_secret ?? '',
    redirectUri: REDIRECT_URI,
    scopes: [],
    allowedOrgs: [],
    devMode: true,
    ...settings,
  };
}

/** The browser's trip to the IdP and back: the callback URL our route would receive. */
export async function callbackFor(provider: IdentityProvider, login: LoginRequest): Promise<URL> {
  return new ScriptedBrowser().follow(await provider.authorizationUrl(login), REDIRECT_URI);
}

/** A whole login at `provider` through the browser: who came back. */
export async function logIn(provider: IdentityProvider): Promise<Identity> {
  const login = newLogin();
  return provider.completeLogin(await callbackFor(provider, login), login);
}

/** The query of an authorization code request by `clientId` for `login`: openid email profile, our state and nonce, PKCE S256. */
export function codeFlowQuery(clientId: string, login: LoginRequest): Record<string, string> {
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    scope: 'openid email profile',
    state: login.state,
    nonce: login.nonce,
    code_challenge: sha256Base64Url(login.codeVerifier),
    code_challenge_method: 'S256',
  };
}
