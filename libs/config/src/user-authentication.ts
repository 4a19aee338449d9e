/** How a person gives Gatehouse their own credential for one server (mcp-front's `userAuthentication`). */
export type UserAuthenticationConfig = ManualUserAuthentication | OAuthUserAuthentication;

interface UserAuthenticationBase {
  /** What the person's pages call the service. */
  displayName: string;
  /** How the stored token becomes the value `{{token}}` stands for in `$userToken` templates; default `{{token}}`. */
  tokenFormat: string;
}

/** The person pastes a token (an API key) on /my/tokens. */
export interface ManualUserAuthentication extends UserAuthenticationBase {
  type: 'manual';
  instructions?: string;
  helpUrl?: string;
  /** A token must match (unanchored, as mcp-front's Go MatchString) to be stored. */
  validation?: RegExp;
}

/** The person connects their account at the service with OAuth (authorization code + PKCE). */
export interface OAuthUserAuthentication extends UserAuthenticationBase {
  type: 'oauth';
  /** Absent for a remote server whose authorization server auth discovers and registers with. */
  clientId?: string;
  clientSecret?: string;
  authorizationUrl?: string;
  tokenUrl?: string;
  scopes: string[];
}

export const DEFAULT_TOKEN_FORMAT = '{{token}}';

/** The stored token as `$userToken` templates see it: put through the server's tokenFormat. */
export function formatUserToken(auth: Pick<UserAuthenticationConfig, 'tokenFormat'>, token: string): string {
  return fillTemplate(auth.tokenFormat, token);
}

/** Every `{{token}}` in `template` replaced by `token`, taken literally (`$&` and the like are not patterns here). */
export function fillTemplate(template: string, token: string): string {
  return template.split('{{token}}').join(token);
}
