import type { DataSource } from 'typeorm';
import type { AuthStore } from './auth-store.port.js';
import { SqlAuditEventRepository } from './audit-event.repository.js';
import { auditEventSchema } from './audit-event.schema.js';
import { SqlAuthorizationCodeRepository } from './authorization-code.repository.js';
import { SqlClientRepository } from './client.repository.js';
import { SqlConsentRepository } from './consent.repository.js';
import {
  authorizationCodeSchema,
  consentSchema,
  clientSchema,
  grantSchema,
  pendingAuthorizationSchema,
  refreshTokenSchema,
  revocationSchema,
  signingKeySchema,
  upstreamAuthorizationSchema,
  upstreamClientSchema,
  userCredentialSchema,
} from './entities.js';
import { SqlGrantRepository } from './grant.repository.js';
import { SqlPendingAuthorizationRepository } from './pending-authorization.repository.js';
import { SqlRefreshTokenRepository } from './refresh-token.repository.js';
import { SqlRevocationRepository } from './revocation.repository.js';
import { SqlSigningKeyRepository } from './signing-key.repository.js';
import { SqlUpstreamAuthorizationRepository } from './upstream-authorization.repository.js';
import { SqlUpstreamClientRepository } from './upstream-client.repository.js';
import { SqlUserCredentialRepository } from './user-credential.repository.js';

/** The AuthStore over one initialized, migrated TypeORM DataSource (SQLite or PostgreSQL). */
export class SqlAuthStore implements AuthStore {
  readonly clients: SqlClientRepository;
  readonly pendingAuthorizations: SqlPendingAuthorizationRepository;
  readonly codes: SqlAuthorizationCodeRepository;
  readonly grants: SqlGrantRepository;
  readonly refreshTokens: SqlRefreshTokenRepository;
  readonly signingKeys: SqlSigningKeyRepository;
  readonly revocations: SqlRevocationRepository;
  readonly consents: SqlConsentRepository;
  readonly userCredentials: SqlUserCredentialRepository;
  readonly upstreamAuthorizations: SqlUpstreamAuthorizationRepository;
  readonly upstreamClients: SqlUpstreamClientRepository;
  readonly auditEvents: SqlAuditEventRepository;

  constructor(private readonly dataSource: DataSource) {
    this.clients = new SqlClientRepository(dataSource.getRepository(clientSchema));
    this.pendingAuthorizations = new SqlPendingAuthorizationRepository(dataSource.getRepository(pendingAuthorizationSchema));
    this.codes = new SqlAuthorizationCodeRepository(dataSource.getRepository(authorizationCodeSchema));
    this.grants = new SqlGrantRepository(dataSource.getRepository(grantSchema));
    this.refreshTokens = new SqlRefreshTokenRepository(dataSource.getRepository(refreshTokenSchema));
    this.signingKeys = new SqlSigningKeyRepository(dataSource.getRepository(signingKeySchema));
    this.revocations = new SqlRevocationRepository(dataSource.getRepository(revocationSchema));
    this.consents = new SqlConsentRepository(dataSource.getRepository(consentSchema));
    this.userCredentials = new SqlUserCredentialRepository(dataSource.getRepository(userCredentialSchema));
    this.upstreamAuthorizations = new SqlUpstreamAuthorizationRepository(dataSource.getRepository(upstreamAuthorizationSchema));
    this.upstreamClients = new SqlUpstreamClientRepository(dataSource.getRepository(upstreamClientSchema));
    this.auditEvents = new SqlAuditEventRepository(dataSource.getRepository(auditEventSchema));
  }

  /** Grants, consents, clients, signing keys and user credentials are kept: they end by revocation or retirement, not by time. */
  async purgeExpired(now: number): Promise<void> {
    await this.codes.deleteExpired(now);
    await this.pendingAuthorizations.deleteExpired(now);
    await this.refreshTokens.deleteExpired(now);
    await this.revocations.deleteExpired(now);
    await this.upstreamAuthorizations.deleteExpired(now);
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}
