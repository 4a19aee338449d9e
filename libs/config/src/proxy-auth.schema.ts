import { z } from 'zod';
import { messageOf } from './config-problem.js';
import { Str } from './config-value.js';
import { Duration, parseDuration } from './duration.js';

/** A longer window would let a stolen refresh token's replay pass for a retry. */
const MAX_REFRESH_REUSE_GRACE_MS = 60_000;

/** `refreshTokenReuseGrace`: a duration from "0s" (off) to one minute, milliseconds in the parsed output. */
const RefreshReuseGrace = z.string().transform((text, ctx) => {
  try {
    const ms = parseDuration(text);
    if (ms <= MAX_REFRESH_REUSE_GRACE_MS) return ms;
    ctx.addIssue({ code: 'custom', message: `expected at most "1m" (0s turns it off), got ${JSON.stringify(text)}` });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: messageOf(error) });
  }
  return z.NEVER;
});

/** `proxy.auth.idp`: the organisation's identity provider (mcp-front's keys, all of them). */
const IdentityProviderSchema = z.strictObject({
  provider: z.enum(['google', 'azure', 'github', 'oidc']),
  clientId: Str.optional(),
  clientSecret: Str.optional(),
  redirectUri: Str.optional(),
  discoveryUrl: Str.optional(),
  authorizationUrl: Str.optional(),
  tokenUrl: Str.optional(),
  userInfoUrl: Str.optional(),
  scopes: z.array(z.string()).optional(),
  tenantId: Str.optional(),
  allowedOrgs: z.array(z.string()).optional(),
});

/**
 * `proxy.auth`: accepted whole so mcp-front files parse; requiredness beyond `kind` and
 * `idp.provider` is left to the milestone that implements it.
 */
export const ProxyAuthSchema = z.strictObject({
  kind: z.literal('oauth', {
    error: 'expected "oauth" (for mcp-front\'s earlier "bearerToken", give each server serviceAuths [{"type": "bearer", "tokens": [...]}])',
  }),
  issuer: Str.optional(),
  /** Required, unless the file uses mcp-front's earlier Google keys below. */
  idp: IdentityProviderSchema.optional(),
  allowedDomains: z.array(z.string()).optional(),
  allowedOrigins: z.array(z.string()).optional(),
  tokenTtl: Duration.optional(),
  refreshTokenTtl: Duration.optional(),
  refreshTokenScopes: z.array(z.string()).optional(),
  // "memory" | "firestore" are mcp-front's; "sqlite" | "postgres" are Gatehouse's.
  storage: z.enum(['memory', 'firestore', 'sqlite', 'postgres']).optional(),
  jwtSecret: Str.optional(),
  encryptionKey: Str.optional(),
  /** Gatehouse's: keys that sealed stored values before encryptionKey replaced them; they still open, and values are re-sealed on use. */
  previousEncryptionKeys: z.array(Str).optional(),
  dangerouslyAcceptIssuerAudience: z.boolean().optional(),
  // mcp-front's Google login before `idp` (until February 2026): read as idp {provider: "google"}.
  googleClientId: Str.optional(),
  googleClientSecret: Str.optional(),
  googleRedirectUri: Str.optional(),
  // Keys that current mcp-front releases read, beyond the reference outline.
  gcpProject: Str.optional(),
  firestoreDatabase: z.string().optional(),
  firestoreCollection: z.string().optional(),
  allowedRedirectUriHosts: z.array(z.string()).optional(),
  allowAnyRedirectUriHost: z.boolean().optional(),
  // Gatehouse additions.
  allowedEmails: z.array(z.string()).optional(),
  allowedGroups: z.array(z.string()).optional(),
  requireResource: z.boolean().optional(),
  refreshTokenReuseGrace: RefreshReuseGrace.optional(),
  /** The browser session after a login at the identity provider: ends when unused this long (default "8h")... */
  browserSessionIdleTimeout: Duration.optional(),
  /** ...and this long after the login at the latest (default "168h", seven days). */
  browserSessionMaxAge: Duration.optional(),
});
