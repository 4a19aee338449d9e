import type { Logger } from '#observability';
import type { SealedBrowserSessions } from './browser/sealed-browser-sessions.js';
import type { UserCredentialService } from './credentials/user-credential.service.js';
import type { ClientRegistry } from './oauth/client-registry.js';
import type { AuthorizationRequestChecks } from './oauth/authorize/authorization-request.js';
import type { LoginFlow } from './oauth/authorize/login-flow.js';
import type { IpRateLimit } from './oauth/ip-rate-limit.js';
import type { ClientRegistration } from './oauth/register/client-registration.js';
import type { TokenGrants } from './oauth/token/token-grants.js';
import type { AuthStore } from './persistence/auth-store.port.js';
import type { Revocations } from './tokens/revocations.js';
import type { SigningKeys } from './tokens/signing-keys.js';
import type { PersonPages } from './web/person-pages.js';

/** What auth's routes use, made once at start (see main.ts). */
export interface AuthServices {
  issuer: string;
  store: AuthStore;
  keys: SigningKeys;
  clients: ClientRegistry;
  registration: ClientRegistration;
  /** Per client address: dynamic registrations, and authorization requests (each stores a pending record). */
  rateLimits: { register: IpRateLimit; authorize: IpRateLimit };
  authorizationChecks: AuthorizationRequestChecks;
  loginFlow: LoginFlow;
  grants: TokenGrants;
  revocations: Revocations;
  /** The browser session cookie (after an identity-provider login). */
  sessions: SealedBrowserSessions;
  /** /my/tokens and the /oauth/* pages. */
  pages: PersonPages;
  pageOptions: { gatewayName: string; basePath: string };
  /** Per-user service credentials: the person's pages (UserCredentials port) and the runner's gh.auth.credentials.get. */
  userCredentials: UserCredentialService;
  log: Logger;
}

export const AUTH_SERVICES = Symbol('AuthServices');
