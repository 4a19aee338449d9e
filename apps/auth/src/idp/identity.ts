/** A person as the identity provider vouched for them. */
export interface Identity {
  /** Stable and provider-scoped, e.g. "oidc:248289761001", "github:1234". */
  sub: string;
  /** Lower-cased. */
  email: string;
  emailVerified: boolean;
  /** Google's hd claim, when present. */
  hostedDomain?: string;
  /** From a `groups` claim (OIDC/Azure), [] otherwise. */
  groups: string[];
  /** GitHub org logins (lower-cased), [] otherwise. */
  orgs: string[];
}
