/** How auth reaches the organisation's identity provider. */
export interface IdpSettings {
  provider: 'google' | 'azure' | 'github' | 'oidc';
  clientId: string;
  clientSecret: string;
  /** Our callback, e.g. https://gw.example.com/oauth/callback */
  redirectUri: string;
  /** oidc: the issuer or its discovery document; azure: replaces login.microsoftonline.com's (other clouds, tests). */
  discoveryUrl?: string;
  /** oidc: replaces the discovered endpoint; google/github: replaces the provider's own (tests, GitHub Enterprise). */
  authorizationUrl?: string;
  tokenUrl?: string;
  /** github: the API's `/user`; `/user/emails` and `/user/orgs` are found under it. */
  userInfoUrl?: string;
  /** oidc only; default ['openid', 'email', 'profile']. */
  scopes: string[];
  /** azure: the directory (tenant) ID, or `common` / `organizations` for any work account. */
  tenantId?: string;
  /** github: when not empty, the `read:org` scope is asked for so private memberships are visible. */
  allowedOrgs: string[];
  /** Dev mode: plain http allowed for the IdP's URLs, but only on loopback hosts. */
  devMode: boolean;
}
