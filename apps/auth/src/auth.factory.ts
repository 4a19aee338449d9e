import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bus } from '#bus';
import type { AuthConfig, GatehouseConfig, RuntimeEnvironment } from '#config';
import { envelopeOf } from '#crypto';
import type { Logger, Metrics } from '#observability';
import type { AuthServices } from './auth.services.js';
import type { AuditRecorder } from './audit/audit-log.js';
import { CsrfTokens } from './browser/csrf-tokens.js';
import { SealedBrowserSessions } from './browser/sealed-browser-sessions.js';
import { createUserCredentialService } from './credentials/user-credentials.factory.js';
import { createIdentityProvider } from './idp/idp.factory.js';
import { IdpRecheck } from './idp/idp-recheck.js';
import { AuthorizationRequestChecks } from './oauth/authorize/authorization-request.js';
import { LoginFlow } from './oauth/authorize/login-flow.js';
import { ClientRegistry } from './oauth/client-registry.js';
import { ClientMetadataDocuments } from './oauth/clients/client-metadata-document.js';
import { IpRateLimit } from './oauth/ip-rate-limit.js';
import { ClientRegistration } from './oauth/register/client-registration.js';
import { TokenGrants } from './oauth/token/token-grants.js';
import type { AuthStore } from './persistence/auth-store.port.js';
import { openAuthStore } from './persistence/open-auth-store.js';
import { ResourceIndicators } from './resources/resource-indicator.js';
import { Revocations } from './tokens/revocations.js';
import { RefreshTokenRotation } from './tokens/refresh-token-rotation.js';
import { SigningKeys } from './tokens/signing-keys.js';
import { TokenIssuer } from './tokens/token-issuer.js';
import { CookieJar } from './web/cookies.js';
import { PersonPages } from './web/person-pages.js';

/**
 * Opens the database the config and environment name; `memory` is SQLite in a temporary file.
 * Without proxy.auth (`storage` undefined) the audit trail still needs one: PostgreSQL with DATABASE_URL, else SQLite.
 */
export async function openConfiguredStore(
  storage: AuthConfig['storage'] | undefined,
  runtime: RuntimeEnvironment,
  log: Logger,
): Promise<AuthStore> {
  if (storage === 'postgres' || (storage !== 'memory' && runtime.databaseUrl !== undefined)) {
    if (runtime.databaseUrl === undefined) throw new Error('proxy.auth.storage "postgres" needs DATABASE_URL');
    log.info('auth storage: PostgreSQL (DATABASE_URL)');
    return openAuthStore({ type: 'postgres', url: runtime.databaseUrl });
  }
  if (storage === 'memory') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-auth-'));
    log.warn({ dir }, 'auth storage "memory": SQLite in a temporary directory, deleted at shutdown');
    const store = await openAuthStore({ type: 'sqlite', path: join(dir, 'gatehouse.db') });
    return { ...store, close: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
  }
  const path = join(runtime.dataDir, 'gatehouse.db');
  log.info({ path }, 'auth storage: SQLite');
  return openAuthStore({ type: 'sqlite', path });
}

/** Builds auth's services over an open store: keys loaded, the identity provider set up. */
export async function createAuthServices(
  bus: Bus,
  store: AuthStore,
  config: GatehouseConfig & { auth: AuthConfig },
  runtime: RuntimeEnvironment,
  log: Logger,
  metrics: Metrics,
  audit: AuditRecorder,
): Promise<AuthServices> {
  const { auth, proxy } = config;
  const envelope = envelopeOf(auth.encryptionKey, auth.previousEncryptionKeys);
  const keys = new SigningKeys(store.signingKeys, envelope, { tokenTtlMs: auth.tokenTtlMs });
  await keys.load();
  const resources = new ResourceIndicators(proxy.baseURL, Object.keys(config.servers));
  const documents = new ClientMetadataDocuments({ devMode: runtime.devMode, allowedRedirectHosts: auth.allowedRedirectUriHosts });
  const clients = new ClientRegistry(store.clients, documents, runtime.devMode);
  const revocations = new Revocations(store, bus, { tokenTtlMs: auth.tokenTtlMs, log, audit });
  const cookies = new CookieJar(auth.issuer.startsWith('https:'));
  const sessions = new SealedBrowserSessions(envelope, cookies, {
    idleTimeoutMs: auth.browserSessionIdleTimeoutMs,
    maxAgeMs: auth.browserSessionMaxAgeMs,
  });
  const pageOptions = { gatewayName: proxy.name, basePath: proxy.basePath };
  const userCredentials = createUserCredentialService({
    store,
    envelope,
    servers: config.servers,
    issuer: auth.issuer,
    gatewayName: proxy.name,
    devMode: runtime.devMode,
    log,
    audit,
  });
  const idp = createIdentityProvider({ ...auth.idp, allowedOrgs: auth.policy.allowedOrgs, devMode: runtime.devMode });
  const recheck = new IdpRecheck({ idp, policy: auth.policy, envelope, grants: store.grants, log });
  return {
    issuer: auth.issuer,
    store,
    keys,
    clients,
    registration: new ClientRegistration(store.clients, {
      devMode: runtime.devMode,
      allowedRedirectUriHosts: auth.allowedRedirectUriHosts,
    }),
    rateLimits: { register: new IpRateLimit(), authorize: new IpRateLimit({ perMinute: 60, burst: 60 }) },
    authorizationChecks: new AuthorizationRequestChecks(clients, resources, { issuer: auth.issuer, requireResource: auth.requireResource }),
    loginFlow: new LoginFlow({
      store,
      clients,
      idp,
      policy: auth.policy,
      resources,
      cookies,
      sessions,
      recheck,
      options: {
        issuer: auth.issuer,
        gatewayName: proxy.name,
        basePath: proxy.basePath,
        refreshTokenTtlMs: auth.refreshTokenTtlMs,
        browserSessionMaxAgeMs: auth.browserSessionMaxAgeMs,
      },
      log,
      metrics,
      audit,
    }),
    grants: new TokenGrants({
      store,
      issuer: new TokenIssuer(keys, { issuer: auth.issuer, tokenTtlMs: auth.tokenTtlMs }),
      refreshTokens: new RefreshTokenRotation(store.refreshTokens, envelope, { reuseGraceMs: auth.refreshTokenReuseGraceMs }),
      revocations,
      resources,
      log,
      recheck,
    }),
    revocations,
    userCredentials,
    sessions,
    pages: new PersonPages({
      credentials: userCredentials,
      csrf: new CsrfTokens(auth.encryptionKey),
      store,
      clients,
      resources,
      revocations,
      options: pageOptions,
      log,
    }),
    pageOptions,
    log,
  };
}
