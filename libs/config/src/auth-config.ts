import type { ConfigProblem } from './config-problem.js';
import type { ConfigFile } from './config-file.schema.js';
import type { EnvResolver } from './config-value.js';

const HOUR_MS = 3_600_000;
/** Long enough for a client's retry after a timeout, or a second copy of it racing the first. */
const REFRESH_REUSE_GRACE_MS = 10_000;
const ENCRYPTION_KEY_BYTES = 32;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** The hosts dev mode (GATEHOUSE_DEV=1) allows plain http to: this machine, by the names people write for it. */
export function isLoopbackHostname(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/** `proxy.auth` resolved: Gatehouse is the OAuth authorization server and logs people in at `idp`. */
export interface AuthConfig {
  /** Equal to baseURL: tokens' `iss` and the metadata's `issuer`. */
  issuer: string;
  idp: {
    provider: 'google' | 'azure' | 'github' | 'oidc';
    clientId: string;
    clientSecret: string;
    /** `${baseURL}/oauth/callback`: register it at the identity provider. */
    redirectUri: string;
    /** oidc: the issuer or its discovery document; azure: replaces login.microsoftonline.com's (other clouds, tests). */
    discoveryUrl?: string;
    /** oidc: replaces the discovered endpoint; google/github: replaces the provider's own (tests, GitHub Enterprise). */
    authorizationUrl?: string;
    /** Likewise, for the token endpoint. */
    tokenUrl?: string;
    /** github: the API's `/user`; `/user/emails` and `/user/orgs` are found under it. */
    userInfoUrl?: string;
    /** oidc only; default ['openid', 'email', 'profile']. */
    scopes: string[];
    /** azure: the directory (tenant) ID, or `common` / `organizations` for any work account. */
    tenantId?: string;
  };
  /** Who may log in; lower-cased. */
  policy: { allowedDomains: string[]; allowedEmails: string[]; allowedGroups: string[]; allowedOrgs: string[] };
  tokenTtlMs: number;
  refreshTokenTtlMs: number;
  /** A spent refresh token presented again by its client this soon gets the same successor; later, its grant is revoked. 0: always revoked. */
  refreshTokenReuseGraceMs: number;
  /** The browser session (cookie) after an identity-provider login: idle expiry, sliding on use... */
  browserSessionIdleTimeoutMs: number;
  /** ...and absolute expiry from the login; idle never exceeds it. */
  browserSessionMaxAgeMs: number;
  /** `memory` (mcp-front's) is kept so auth can say it means SQLite in a temporary file. */
  storage: 'sqlite' | 'postgres' | 'memory';
  /** 32 bytes: seals signing keys and users' service credentials with AES-256-GCM. */
  encryptionKey: string;
  /** Keys replaced by encryptionKey (newest first): they open what they sealed; nothing new is sealed with them. */
  previousEncryptionKeys: string[];
  /** Reject /authorize without `resource` instead of letting the user pick servers. */
  requireResource: boolean;
  /** mcp-front's escape hatch: accept a token whose `aud` is the issuer on every server. */
  acceptIssuerAudience: boolean;
  /**
   * When non-empty, where https redirect URIs may point (mcp-front's allowedRedirectUriHosts), lower-cased:
   * a host (`claude.ai`, any port) or an origin (`https://claude.ai`, and its port when it names one).
   */
  allowedRedirectUriHosts: string[];
}

type ProxyAuth = NonNullable<ConfigFile['proxy']['auth']>;

interface AuthFindings {
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  readonly resolver: EnvResolver;
}

const lower = (list: readonly string[] | undefined) => (list ?? []).map((item) => item.toLowerCase());

/** Resolves `proxy.auth` against a resolved baseURL; problems and warnings are recorded in `found`. */
export function buildAuthConfig(auth: ProxyAuth, baseURL: string, devMode: boolean, found: AuthFindings): AuthConfig {
  const { resolver, problems, warnings } = found;
  const optional = (value: ProxyAuth['issuer'], path: string) => (value === undefined ? undefined : resolver.str(value, path));
  const required = (value: ProxyAuth['issuer'], path: string) => {
    if (value === undefined) problems.push({ path, message: 'required when proxy.auth is set' });
    return optional(value, path) ?? '';
  };

  checkBaseUrlScheme(baseURL, devMode, problems);
  const issuer = optional(auth.issuer, 'proxy.auth.issuer')?.replace(/\/+$/, '') ?? baseURL;
  if (baseURL !== '' && issuer !== baseURL) {
    problems.push({ path: 'proxy.auth.issuer', message: `must equal proxy.baseURL (${baseURL}): clients find the metadata there` });
  }
  const callback = `${baseURL}/oauth/callback`;
  const idp = identityProvider(auth, found);
  const redirectUri = optional(idp.redirectUri, 'proxy.auth.idp.redirectUri')?.replace(/\/+$/, '') ?? callback;
  if (baseURL !== '' && redirectUri !== callback) {
    problems.push({ path: 'proxy.auth.idp.redirectUri', message: `must be ${callback}, where Gatehouse receives the login` });
  }

  const discoveryUrl = optional(idp.discoveryUrl, 'proxy.auth.idp.discoveryUrl');
  const authorizationUrl = optional(idp.authorizationUrl, 'proxy.auth.idp.authorizationUrl');
  const tokenUrl = optional(idp.tokenUrl, 'proxy.auth.idp.tokenUrl');
  const userInfoUrl = optional(idp.userInfoUrl, 'proxy.auth.idp.userInfoUrl');
  const tenantId = optional(idp.tenantId, 'proxy.auth.idp.tenantId');
  if (idp.provider === 'oidc' && discoveryUrl === undefined && (authorizationUrl === undefined || tokenUrl === undefined)) {
    problems.push({ path: 'proxy.auth.idp', message: 'an oidc provider needs discoveryUrl, or authorizationUrl and tokenUrl' });
  }
  if (idp.provider === 'azure' && tenantId === undefined) {
    problems.push({ path: 'proxy.auth.idp.tenantId', message: 'required for the azure provider' });
  }

  const policy = {
    allowedDomains: lower(auth.allowedDomains),
    allowedEmails: lower(auth.allowedEmails),
    allowedGroups: auth.allowedGroups ?? [],
    allowedOrgs: lower(idp.allowedOrgs),
  };
  if (Object.values(policy).every((list) => list.length === 0)) {
    problems.push({
      path: 'proxy.auth',
      message:
        'say who may log in: allowedDomains, allowedEmails, allowedGroups or idp.allowedOrgs (none would let anyone with an account in)',
    });
  }

  const encryptionKey = required(auth.encryptionKey, 'proxy.auth.encryptionKey');
  if (encryptionKey !== '' && Buffer.byteLength(encryptionKey) !== ENCRYPTION_KEY_BYTES) {
    problems.push({ path: 'proxy.auth.encryptionKey', message: `expected exactly ${ENCRYPTION_KEY_BYTES} bytes` });
  }

  const previousEncryptionKeys = (auth.previousEncryptionKeys ?? []).flatMap((value, i) => {
    const path = `proxy.auth.previousEncryptionKeys[${i}]`;
    const key = resolver.str(value, path);
    if (key !== undefined && Buffer.byteLength(key) !== ENCRYPTION_KEY_BYTES) {
      problems.push({ path, message: `expected exactly ${ENCRYPTION_KEY_BYTES} bytes` });
      return [];
    }
    return key === undefined ? [] : [key];
  });

  return {
    issuer,
    idp: {
      provider: idp.provider,
      clientId: required(idp.clientId, 'proxy.auth.idp.clientId'),
      clientSecret: required(idp.clientSecret, 'proxy.auth.idp.clientSecret'),
      redirectUri,
      ...(discoveryUrl !== undefined && { discoveryUrl }),
      ...(authorizationUrl !== undefined && { authorizationUrl }),
      ...(tokenUrl !== undefined && { tokenUrl }),
      ...(userInfoUrl !== undefined && { userInfoUrl }),
      scopes: idp.scopes ?? ['openid', 'email', 'profile'],
      ...(tenantId !== undefined && { tenantId }),
    },
    policy,
    tokenTtlMs: auth.tokenTtl ?? HOUR_MS,
    refreshTokenTtlMs: auth.refreshTokenTtl ?? 720 * HOUR_MS,
    refreshTokenReuseGraceMs: auth.refreshTokenReuseGrace ?? REFRESH_REUSE_GRACE_MS,
    ...browserSessionOf(auth, problems),
    storage: storageOf(auth, problems, warnings),
    encryptionKey,
    previousEncryptionKeys,
    requireResource: auth.requireResource ?? false,
    acceptIssuerAudience: auth.dangerouslyAcceptIssuerAudience ?? false,
    allowedRedirectUriHosts: redirectUriHosts(auth, problems),
  };
}

type IdentityProvider = NonNullable<ProxyAuth['idp']>;

/** `idp`, or the one mcp-front's earlier googleClientId / googleClientSecret / googleRedirectUri describe. */
function identityProvider(auth: ProxyAuth, { problems, warnings }: AuthFindings): IdentityProvider {
  const legacy = (['googleClientId', 'googleClientSecret', 'googleRedirectUri'] as const).filter((key) => auth[key] !== undefined);
  if (auth.idp !== undefined) {
    for (const key of legacy) problems.push({ path: `proxy.auth.${key}`, message: 'cannot be combined with idp; move it into idp' });
    return auth.idp;
  }
  if (legacy.length === 0) {
    problems.push({ path: 'proxy.auth.idp', message: 'required when proxy.auth is set' });
    return { provider: 'google' };
  }
  warnings.push(
    `proxy.auth: ${legacy.join(', ')} (mcp-front's earlier form) read as idp {"provider": "google", "clientId", "clientSecret", "redirectUri"}`,
  );
  const { googleClientId: clientId, googleClientSecret: clientSecret, googleRedirectUri: redirectUri } = auth;
  return {
    provider: 'google',
    ...(clientId !== undefined && { clientId }),
    ...(clientSecret !== undefined && { clientSecret }),
    ...(redirectUri !== undefined && { redirectUri }),
  };
}

const REDIRECT_HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)$/;

/** Each entry as a lower-case host or origin; anything else is a problem, so no entry silently never matches. */
function redirectUriHosts(auth: ProxyAuth, problems: ConfigProblem[]): string[] {
  const entries = auth.allowedRedirectUriHosts ?? [];
  if (auth.allowAnyRedirectUriHost === true && entries.length > 0) {
    problems.push({ path: 'proxy.auth.allowAnyRedirectUriHost', message: 'cannot be combined with a non-empty allowedRedirectUriHosts' });
  }
  return entries.map((entry, i) => {
    const text = entry.trim().toLowerCase();
    if (REDIRECT_HOST.test(text)) return text;
    const url = URL.canParse(text) ? new URL(text) : undefined;
    const bare = url && url.host !== '' && url.pathname === '/' && url.search === '' && url.hash === '' && url.username === '';
    if (url && bare && text.startsWith(`${url.protocol}//`)) return `${url.protocol}//${url.host}`;
    problems.push({
      path: `proxy.auth.allowedRedirectUriHosts[${i}]`,
      message: 'expected a host ("claude.ai") or an origin ("https://claude.ai", "https://app.example.com:8443"), without a path',
    });
    return text;
  });
}

/** Tokens and login cookies need https; dev mode allows plain http on this machine only. */
function checkBaseUrlScheme(baseURL: string, devMode: boolean, problems: ConfigProblem[]): void {
  if (baseURL === '') return;
  const url = new URL(baseURL);
  if (url.protocol === 'https:') return;
  if (devMode && isLoopbackHostname(url.hostname)) return;
  problems.push({
    path: 'proxy.baseURL',
    message: 'OAuth needs an https baseURL (GATEHOUSE_DEV=1 allows http on 127.0.0.1, [::1] or localhost)',
  });
}

/** Both positive, and an idle timeout longer than the maximum age would never apply. */
function browserSessionOf(
  auth: ProxyAuth,
  problems: ConfigProblem[],
): Pick<AuthConfig, 'browserSessionIdleTimeoutMs' | 'browserSessionMaxAgeMs'> {
  const idle = auth.browserSessionIdleTimeout ?? 8 * HOUR_MS;
  const max = auth.browserSessionMaxAge ?? 7 * 24 * HOUR_MS;
  for (const [key, ms] of [
    ['browserSessionIdleTimeout', idle],
    ['browserSessionMaxAge', max],
  ] as const) {
    if (ms < 60_000) problems.push({ path: `proxy.auth.${key}`, message: 'expected at least "1m"' });
  }
  if (idle > max) {
    problems.push({ path: 'proxy.auth.browserSessionIdleTimeout', message: 'must not be longer than browserSessionMaxAge' });
  }
  return { browserSessionIdleTimeoutMs: idle, browserSessionMaxAgeMs: max };
}

function storageOf(auth: ProxyAuth, problems: ConfigProblem[], warnings: string[]): AuthConfig['storage'] {
  switch (auth.storage) {
    case 'firestore':
      problems.push({ path: 'proxy.auth.storage', message: 'Gatehouse has no Firestore: use "sqlite" or "postgres" (DATABASE_URL)' });
      return 'sqlite';
    case 'memory':
      warnings.push('proxy.auth.storage: "memory" means SQLite in a temporary file here, lost on restart; use "sqlite" or "postgres"');
      return 'memory';
    case undefined:
      return 'sqlite';
    default:
      return auth.storage;
  }
}
