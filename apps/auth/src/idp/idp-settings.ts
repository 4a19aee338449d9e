import type { AuthConfig } from '#config';

/** How auth reaches the organisation's identity provider. */
export type IdpSettings = AuthConfig['idp'] & {
  /** github: when not empty, the `read:org` scope is asked for so private memberships are visible. */
  allowedOrgs: string[];
  /** Dev mode: plain http allowed for the IdP's URLs, but only on loopback hosts. */
  devMode: boolean;
};
