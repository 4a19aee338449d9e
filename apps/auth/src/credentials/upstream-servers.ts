import * as oidc from 'openid-client';
import type { OAuthUserAuthentication, ServerConfig } from '#config';
import type { UpstreamClientRecord, UpstreamClientRepository } from '../persistence/auth-store.port.js';
import { boundedFetch, type OutboundLimits } from './bounded-fetch.js';
import type { SealedSecrets } from './sealed-secret.js';
import {
  authorizationServerMetadata,
  AuthorizationServerMetadataSchema,
  discoverAuthorization,
  preferredAuthMethod,
  registerClient,
  type AuthorizationServerMetadata,
} from './upstream-discovery.js';
import { CredentialRefused } from './user-credentials.port.js';

/** A server whose credential is an `oauth` one. */
export type OAuthServer = ServerConfig & { userAuthentication: OAuthUserAuthentication };

/** How Gatehouse talks to one server's authorization server. */
export interface UpstreamServer {
  config: oidc.Configuration;
  /** RFC 8707 resource: the URL of a remote MCP server. */
  resource?: string;
  scopes: string[];
  /** False when the endpoints come from the config alone, so the callback's `iss` has nothing to be checked against. */
  issuerKnown: boolean;
}

export interface UpstreamServersOptions {
  /** The gateway's issuer: the redirect URI is `{issuer}/oauth/callback/{server}`. */
  issuer: string;
  gatewayName: string;
  /** Plain http to an authorization server is allowed only in development mode. */
  devMode: boolean;
  limits: OutboundLimits;
  now: () => number;
}

const clientSecretAad = (server: string) => `upstream-client-secret\u0000${server}`;

/** Resolves, per server, the authorization server from the config, or by discovery and registration (kept in the database). */
export class UpstreamServers {
  private readonly fetch: (url: string, init?: RequestInit) => Promise<Response>;
  /** Configured endpoints' metadata, looked up once per process (best effort). */
  private readonly configured = new Map<string, Promise<AuthorizationServerMetadata | undefined>>();

  constructor(
    private readonly clients: UpstreamClientRepository,
    private readonly secrets: SealedSecrets,
    private readonly options: UpstreamServersOptions,
  ) {
    this.fetch = boundedFetch(options.limits);
  }

  redirectUri(server: string): string {
    return `${this.options.issuer}/oauth/callback/${encodeURIComponent(server)}`;
  }

  async resolve(server: OAuthServer): Promise<UpstreamServer> {
    const auth = server.userAuthentication;
    const resource = server.transportType === 'streamable-http' || server.transportType === 'sse' ? server.url : undefined;
    if (auth.authorizationUrl !== undefined && auth.tokenUrl !== undefined && auth.clientId !== undefined) {
      return this.fromConfig(server.name, auth, resource);
    }
    if (resource === undefined) {
      throw new CredentialRefused(
        `${auth.displayName} is not set up for connecting yet; ask the administrator to configure its OAuth endpoints.`,
      );
    }
    const registered = await this.registration(server, resource);
    const metadata = AuthorizationServerMetadataSchema.parse(registered.metadata);
    const sealed = registered.sealedClientSecret;
    const secret = sealed && this.secrets.openValue(sealed, clientSecretAad(server.name));
    if (sealed && secret && !this.secrets.isCurrent(sealed)) {
      // After an encryptionKey change: stored again under the current key, so the previous one can be retired.
      await this.clients.reseal(server.name, sealed, this.secrets.sealValue(secret, clientSecretAad(server.name)));
    }
    const method = auth.clientId !== undefined ? preferredAuthMethod(metadata) : stringOf(registered.metadata['x-gatehouse-auth-method']);
    return {
      config: this.configuration(metadata, registered.clientId, clientAuth(method, secret || undefined)),
      resource,
      scopes: auth.scopes.length > 0 ? auth.scopes : stringsOf(registered.metadata['x-gatehouse-scopes']),
      issuerKnown: true,
    };
  }

  /** The authorization server no longer knows the client Gatehouse registered: the next connection registers again. */
  async forgetRegistration(server: OAuthServer): Promise<void> {
    if (server.userAuthentication.clientId === undefined) await this.clients.delete(server.name);
  }

  private async fromConfig(name: string, auth: OAuthUserAuthentication, resource: string | undefined): Promise<UpstreamServer> {
    const { authorizationUrl = '', tokenUrl = '', clientId = '', clientSecret } = auth;
    let lookup = this.configured.get(name);
    if (lookup === undefined) {
      // Only to learn the revocation endpoint and client authentication methods: the configured endpoints win.
      lookup = authorizationServerMetadata(new URL(tokenUrl).origin, this.fetch)
        .then((found) => (found?.token_endpoint === tokenUrl ? found : undefined))
        .catch(() => undefined);
      this.configured.set(name, lookup);
    }
    const found = await lookup;
    const metadata: AuthorizationServerMetadata = {
      ...(found ?? { issuer: new URL(tokenUrl).origin }),
      authorization_endpoint: authorizationUrl,
      token_endpoint: tokenUrl,
    };
    const method = clientSecret === undefined ? 'none' : preferredAuthMethod(metadata);
    return {
      config: this.configuration(metadata, clientId, clientAuth(method, clientSecret)),
      resource,
      scopes: auth.scopes,
      issuerKnown: found !== undefined,
    };
  }

  /** The stored registration for this server's current URL, else a fresh discovery (and registration unless a clientId is configured). */
  private async registration(server: OAuthServer, resource: string): Promise<UpstreamClientRecord> {
    const stored = await this.clients.find(server.name);
    const auth = server.userAuthentication;
    const expiresAt = stored?.metadata['x-gatehouse-secret-expires-at'];
    const expired = typeof expiresAt === 'number' && expiresAt <= this.options.now();
    const sameClient = auth.clientId === undefined || stored?.clientId === auth.clientId;
    if (stored !== undefined && stored.resource === resource && sameClient && !expired) return stored;
    const { metadata, scopes } = await discoverAuthorization(resource, auth.displayName, this.fetch, { httpsOnly: !this.options.devMode });
    const endpoints = [metadata.issuer, metadata.authorization_endpoint, metadata.token_endpoint, metadata.registration_endpoint];
    if (!this.options.devMode && endpoints.some((url) => url !== undefined && new URL(url).protocol !== 'https:')) {
      throw new CredentialRefused(
        `${auth.displayName}'s authorization server does not use https; Gatehouse will not send credentials to it.`,
      );
    }
    const wanted = auth.scopes.length > 0 ? auth.scopes : scopes;
    const client =
      auth.clientId !== undefined
        ? { clientId: auth.clientId, clientSecret: auth.clientSecret, authMethod: preferredAuthMethod(metadata) }
        : await registerClient(
            metadata,
            { clientName: this.options.gatewayName, redirectUri: this.redirectUri(server.name) },
            auth.displayName,
            this.fetch,
          );
    const record: UpstreamClientRecord = {
      server: server.name,
      resource,
      issuer: metadata.issuer,
      clientId: client.clientId,
      ...(client.clientSecret !== undefined && {
        sealedClientSecret: this.secrets.sealValue(client.clientSecret, clientSecretAad(server.name)),
      }),
      metadata: {
        ...metadata,
        'x-gatehouse-auth-method': client.authMethod,
        'x-gatehouse-scopes': wanted,
        ...('secretExpiresAt' in client &&
          client.secretExpiresAt !== undefined && { 'x-gatehouse-secret-expires-at': client.secretExpiresAt }),
      },
      createdAt: this.options.now(),
    };
    await this.clients.save(record);
    return record;
  }

  private configuration(metadata: oidc.ServerMetadata, clientId: string, auth: oidc.ClientAuth): oidc.Configuration {
    const config = new oidc.Configuration(metadata, clientId, undefined, auth);
    config[oidc.customFetch] = (url, init) => this.fetch(url, init);
    config.timeout = this.options.limits.timeoutMs / 1000;
    if (this.options.devMode) oidc.allowInsecureRequests(config);
    return config;
  }
}

function clientAuth(method: string, secret: string | undefined): oidc.ClientAuth {
  if (secret === undefined || method === 'none') return oidc.None();
  return method === 'client_secret_post' ? oidc.ClientSecretPost(secret) : oidc.ClientSecretBasic(secret);
}

const stringOf = (value: unknown): string => (typeof value === 'string' ? value : 'none');
const stringsOf = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
