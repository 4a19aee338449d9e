import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { Account, Check, ClientMetadata, Configuration, InteractionPolicy } from 'oidc-provider';

/** A person the stand-in IdP can log in as; every field but `sub` is released as a claim. */
export interface StandInUser {
  sub: string;
  email: string;
  email_verified: boolean;
  hd?: string;
  groups?: string[];
  name?: string;
}

/** A relying party registered with the stand-in; by default it authenticates with client_secret_post, as passport and openid-client do. */
export interface StandInClient {
  client_id: string;
  /** Absent for a public client (token_endpoint_auth_method 'none'). */
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic' | 'none';
  /** Default ['authorization_code']; add 'refresh_token' for a client that is given refresh tokens. */
  grant_types?: string[];
}

export interface StandInIdpOptions {
  users: Record<string, StandInUser>;
  clients: StandInClient[];
  /** Standing in for a service's authorization server (an upstream of per-user credentials) rather than an IdP. */
  upstream?: StandInUpstreamOptions;
}

export interface StandInUpstreamOptions {
  /** Every code and refresh grant of a client allowed `refresh_token` gets a refresh token (no `offline_access` dance). */
  refreshTokens?: boolean;
  /** Each refresh returns a new refresh token and spends the old one. */
  rotateRefreshTokens?: boolean;
  accessTokenTtlSeconds?: number;
  /** RFC 7009 revocation endpoint. */
  revocation?: boolean;
  /** RFC 7591 dynamic client registration, open to anyone. */
  registration?: boolean;
  /** RFC 8707: any `resource` is a resource server taking this scope, with opaque access tokens. */
  resourceScope?: string;
}

/** What oidc-provider needs from outside: its policy classes and in-memory storage, loaded lazily by the caller. */
export interface ProviderParts {
  Check: typeof Check;
  basePolicy: () => InteractionPolicy;
  adapter: unknown;
}

const TEN_MINUTES = 600;

/** oidc-provider settings for a loopback test IdP: real keys and cookie keys (so it has nothing to warn about), PKCE always, auto interactions. */
export async function standInConfiguration(options: StandInIdpOptions, parts: ProviderParts): Promise<Configuration> {
  return {
    adapter: parts.adapter,
    clients: options.clients.map(registeredClient),
    jwks: { keys: [await signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    // `hd` rides with `email` as Google's userinfo carries it; groups with `profile`, where Okta/Entra-style IdPs put them.
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name', 'groups'] },
    // Like Google and Entra, the ID token carries the scope's claims too, not only userinfo.
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: false },
      revocation: { enabled: options.upstream?.revocation === true },
      registration: { enabled: options.upstream?.registration === true },
      ...(options.upstream?.resourceScope !== undefined && { resourceIndicators: resourceServers(options.upstream.resourceScope) }),
    },
    ...(options.upstream?.refreshTokens && { issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token') }),
    ...(options.upstream && { rotateRefreshToken: () => options.upstream?.rotateRefreshTokens === true }),
    pkce: { required: () => true },
    findAccount: (_ctx, sub) => accountOf(options.users, sub),
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}`, policy: alwaysInteractive(parts) },
    ttl: {
      AccessToken: options.upstream?.accessTokenTtlSeconds ?? TEN_MINUTES,
      RefreshToken: TEN_MINUTES,
      AuthorizationCode: 60,
      IdToken: TEN_MINUTES,
      Interaction: TEN_MINUTES,
      Session: TEN_MINUTES,
      Grant: TEN_MINUTES,
    },
    // Test clients are servers, not browsers: no origin needs refusing.
    clientBasedCORS: () => true,
    renderError: (ctx, out) => {
      ctx.type = 'json';
      ctx.body = out;
    },
  };
}

function resourceServers(scope: string) {
  return {
    enabled: true,
    useGrantedResource: () => true,
    getResourceServerInfo: () => ({ scope, accessTokenFormat: 'opaque' }),
  };
}

function registeredClient(client: StandInClient): ClientMetadata {
  return {
    ...client,
    grant_types: client.grant_types ?? ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_post',
  };
}

async function signingKey(): Promise<object> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: randomBytes(8).toString('hex'), alg: 'RS256', use: 'sig' };
}

function accountOf(users: Record<string, StandInUser>, sub: string): Account | undefined {
  const user = Object.values(users).find((candidate) => candidate.sub === sub);
  if (user === undefined) return undefined;
  return { accountId: user.sub, claims: () => ({ ...user }) };
}

/** Every authorization request gets an interaction, even with a live IdP session, so `loginAs` always decides who logs in. */
function alwaysInteractive(parts: ProviderParts): InteractionPolicy {
  const policy = parts.basePolicy();
  policy
    .get('login')
    ?.checks.push(
      new parts.Check('stand_in_login', 'the stand-in IdP asks on every request', (ctx) =>
        ctx.oidc.result?.login === undefined ? parts.Check.REQUEST_PROMPT : parts.Check.NO_NEED_TO_PROMPT,
      ),
    );
  return policy;
}
