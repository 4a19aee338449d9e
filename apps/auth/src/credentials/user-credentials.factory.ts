import type { ServerConfig } from '#config';
import type { Envelope } from '#crypto';
import type { Logger } from '#observability';
import type { AuditRecorder } from '../audit/audit-log.js';
import type { AuthStore } from '../persistence/auth-store.port.js';
import { DEFAULT_OUTBOUND_LIMITS, type OutboundLimits } from './bounded-fetch.js';
import { DEFAULT_LOCKED_REFRESH, LockedRefresh, type LockedRefreshOptions } from './locked-refresh.js';
import { OAuthConnections } from './oauth-connection.js';
import { SealedSecrets } from './sealed-secret.js';
import { UpstreamServers } from './upstream-servers.js';
import { UserCredentialService } from './user-credential.service.js';

export interface UserCredentialSettings {
  store: AuthStore;
  /** envelopeOf(auth.encryptionKey, auth.previousEncryptionKeys) */
  envelope: Envelope;
  servers: Record<string, ServerConfig>;
  /** auth.issuer */
  issuer: string;
  /** proxy.name: what Gatehouse registers as at a service's authorization server. */
  gatewayName: string;
  devMode: boolean;
  log: Logger;
  audit?: AuditRecorder;
  now?: () => number;
  limits?: OutboundLimits;
  refresh?: Partial<Omit<LockedRefreshOptions, 'now'>>;
}

/** The per-user credential service over auth's store and envelope. */
export function createUserCredentialService(settings: UserCredentialSettings): UserCredentialService {
  const now = settings.now ?? Date.now;
  const { store, envelope } = settings;
  const secrets = new SealedSecrets(envelope, store.userCredentials);
  const upstream = new UpstreamServers(store.upstreamClients, secrets, {
    issuer: settings.issuer,
    gatewayName: settings.gatewayName,
    devMode: settings.devMode,
    limits: settings.limits ?? DEFAULT_OUTBOUND_LIMITS,
    now,
  });
  const connections = new OAuthConnections(store, upstream, secrets, now);
  const refresher = new LockedRefresh(store.userCredentials, secrets, { ...DEFAULT_LOCKED_REFRESH, ...settings.refresh, now });
  return new UserCredentialService(store, envelope, secrets, connections, refresher, {
    issuer: settings.issuer,
    servers: settings.servers,
    now,
    log: settings.log,
    ...(settings.audit && { audit: settings.audit }),
  });
}
