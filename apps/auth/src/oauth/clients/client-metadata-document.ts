import { lookup as dnsLookup } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from '#contracts';
import type { ClientRecord } from '../../persistence/auth-store.port.js';
import { ClientMetadataError } from './client-metadata.error.js';
import { clientMetadataUrl } from './client-metadata-url.js';
import { clientFromMetadata, type MetadataRules } from './client-metadata-validation.js';
import { ExpiringCache, freshnessMs } from './metadata-cache.js';
import { fetchMetadataDocument, type FetchLimits } from './metadata-fetch.js';

export { ClientMetadataError } from './client-metadata.error.js';
export { isClientMetadataUrl } from './client-metadata-url.js';

export interface ClientMetadataDocumentsOptions {
  /** Allows http client_ids on loopback hosts, and https ones on any address. */
  devMode: boolean;
  /** For the whole fetch, connect to last byte. Default 5 s. */
  timeoutMs?: number;
  /** Larger documents are refused. Default 64 KiB. */
  maxBytes?: number;
  /** Documents kept; the least recently used go first. Default 1,000. */
  maxCacheEntries?: number;
  /** How long a failure is answered from memory, so a hostile client_id cannot make us fetch on every request. Default 30 s; 0 turns it off. */
  failureCacheMs?: number;
  /** When non-empty, the hosts https redirect URIs may use (mcp-front's allowedRedirectUriHosts). */
  allowedRedirectHosts?: string[];
  now?: () => number;
  /** Name resolution; tests inject one. Default dns.lookup. */
  lookup?: LookupFunction;
}

const DEFAULTS = { timeoutMs: 5_000, maxBytes: 65_536, maxCacheEntries: 1_000, failureCacheMs: 30_000 };

/**
 * Clients identified by a Client ID Metadata Document (draft-ietf-oauth-client-id-metadata-document):
 * the client_id is an https URL whose JSON document says who the client is. Documents are fetched
 * with SSRF protection, validated, and cached as their HTTP headers allow (at most a day); concurrent
 * requests for one client_id share a fetch, and failures are remembered briefly (failureCacheMs).
 */
export class ClientMetadataDocuments {
  private readonly limits: FetchLimits;
  private readonly rules: MetadataRules;
  private readonly now: () => number;
  private readonly failureCacheMs: number;
  private readonly documents: ExpiringCache<ClientRecord>;
  private readonly failures: ExpiringCache<string>;
  private readonly inFlight = new Map<string, Promise<ClientRecord>>();

  constructor(options: ClientMetadataDocumentsOptions) {
    const { devMode } = options;
    const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    const maxBytes = options.maxBytes ?? DEFAULTS.maxBytes;
    this.limits = { devMode, timeoutMs, maxBytes, lookup: options.lookup ?? dnsLookup };
    this.rules = { devMode, allowedRedirectHosts: options.allowedRedirectHosts ?? [] };
    this.now = options.now ?? Date.now;
    this.failureCacheMs = options.failureCacheMs ?? DEFAULTS.failureCacheMs;
    this.documents = new ExpiringCache(options.maxCacheEntries ?? DEFAULTS.maxCacheEntries);
    this.failures = new ExpiringCache(options.maxCacheEntries ?? DEFAULTS.maxCacheEntries);
  }

  /** Fetches (or serves from cache) and validates; returns a public client (tokenEndpointAuthMethod 'none'). */
  async resolve(clientId: string): Promise<ClientRecord> {
    const url = clientMetadataUrl(clientId, this.limits.devMode);
    const now = this.now();
    const cached = this.documents.get(clientId, now);
    if (cached !== undefined) return copyOf(cached);
    const failure = this.failures.get(clientId, now);
    if (failure !== undefined) throw new ClientMetadataError(failure);
    let pending = this.inFlight.get(clientId);
    if (pending === undefined) {
      pending = this.load(clientId, url).finally(() => this.inFlight.delete(clientId));
      this.inFlight.set(clientId, pending);
    }
    return copyOf(await pending);
  }

  private async load(clientId: string, url: URL): Promise<ClientRecord> {
    try {
      const fetched = await fetchMetadataDocument(clientId, url, this.limits);
      const now = this.now();
      const client = clientFromMetadata(clientId, parseJson(clientId, fetched.body), this.rules, now);
      const freshness = freshnessMs(fetched.headers, now);
      if (freshness > 0) this.documents.set(clientId, client, now + freshness);
      return client;
    } catch (err) {
      if (err instanceof ClientMetadataError && this.failureCacheMs > 0) {
        this.failures.set(clientId, err.message, this.now() + this.failureCacheMs);
      }
      throw err;
    }
  }
}

function parseJson(clientId: string, body: Buffer): unknown {
  if (jsonNestedDeeperThan(body)) {
    throw new ClientMetadataError(`client metadata document at ${clientId} is invalid: it nests deeper than ${MAX_JSON_DEPTH} levels`);
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new ClientMetadataError(`client metadata document at ${clientId} is invalid: it is not JSON`);
  }
}

function copyOf(client: ClientRecord): ClientRecord {
  return { ...client, redirectUris: [...client.redirectUris], grantTypes: [...client.grantTypes] };
}
