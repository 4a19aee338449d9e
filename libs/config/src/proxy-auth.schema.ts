import { z } from 'zod';
import { Str } from './config-value.js';
import { Duration } from './duration.js';

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
  kind: z.literal('oauth'),
  issuer: Str.optional(),
  idp: IdentityProviderSchema,
  allowedDomains: z.array(z.string()).optional(),
  allowedOrigins: z.array(z.string()).optional(),
  tokenTtl: Duration.optional(),
  refreshTokenTtl: Duration.optional(),
  refreshTokenScopes: z.array(z.string()).optional(),
  // "memory" | "firestore" are mcp-front's; "sqlite" | "postgres" are Gatehouse's.
  storage: z.enum(['memory', 'firestore', 'sqlite', 'postgres']).optional(),
  jwtSecret: Str.optional(),
  encryptionKey: Str.optional(),
  dangerouslyAcceptIssuerAudience: z.boolean().optional(),
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
});
