import type { ClientRecord } from '../../persistence/auth-store.port.js';
import type { ResourceIndicators } from '../../resources/resource-indicator.js';
import { ClientMetadataError } from '../clients/client-metadata-document.js';
import { redirectUriMatches, staysOnDevice } from '../clients/redirect-uri.js';
import type { ClientRegistry } from '../client-registry.js';
import { OAuthError, PageError } from '../oauth-error.js';
import { single } from '../params.js';
import { SUPPORTED_SCOPES } from '../scopes.js';

/** A checked /authorize request. */
export interface AuthorizationRequest {
  client: ClientRecord;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  /** Canonical resource URIs asked for; empty when the client named none. */
  resources: string[];
  scope: string;
}

/**
 * An error for the client, sent to its (validated) redirect URI with `state` and `iss` (RFC 9207):
 * at once when the URI stays on the user's device, else on a page with a link, so Gatehouse
 * never forwards a browser unasked to a page that anyone could have registered.
 */
export class AuthorizationRedirect extends Error {
  readonly location: string;
  readonly immediate: boolean;

  constructor(location: string, description: string) {
    super(description);
    this.location = location;
    this.immediate = staysOnDevice(location);
  }
}

/** The client's redirect URI with `params` added, keeping any query it has. */
export function clientRedirect(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value);
  return url.href;
}

const CODE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** Kept until the login ends, so bounded; clients use 16–64 characters. */
const MAX_STATE = 1024;

/**
 * Checks an /authorize request in the order that keeps Gatehouse from being an open redirector:
 * until the client and its redirect URI are known good, problems are shown on a page; after
 * that, they go back to the client as OAuth errors.
 */
export class AuthorizationRequestChecks {
  constructor(
    private readonly clients: ClientRegistry,
    private readonly resources: ResourceIndicators,
    private readonly options: { issuer: string; requireResource: boolean },
  ) {}

  async check(params: URLSearchParams): Promise<AuthorizationRequest> {
    const { client, redirectUri } = await this.trustedClient(params);
    const fail = (code: string, description: string) =>
      new AuthorizationRedirect(
        clientRedirect(redirectUri, {
          error: code,
          error_description: description,
          state: params.get('state') ?? undefined,
          iss: this.options.issuer,
        }),
        description,
      );
    try {
      if (single(params, 'response_type') !== 'code') throw fail('unsupported_response_type', 'response_type must be "code"');
      const state = single(params, 'state');
      if (state === undefined) throw fail('invalid_request', 'state is required');
      if (state.length > MAX_STATE) throw fail('invalid_request', `state is longer than ${MAX_STATE} characters`);
      const codeChallenge = this.codeChallenge(params, fail);
      const resources = this.requestedResources(params, fail);
      return { client, redirectUri, state, codeChallenge, resources, scope: grantedScope(single(params, 'scope')) };
    } catch (err) {
      // A repeated parameter is found by `single` as an OAuthError: it too goes to the client.
      if (err instanceof OAuthError) throw fail(err.code, err.message);
      throw err;
    }
  }

  private async trustedClient(params: URLSearchParams): Promise<{ client: ClientRecord; redirectUri: string }> {
    const pageError = (message: string) => new PageError('This sign-in request cannot continue', message);
    const clientId = params.getAll('client_id');
    if (clientId.length !== 1 || !clientId[0]) throw pageError('The application sent no client_id (or more than one).');
    let client: ClientRecord | undefined;
    try {
      client = await this.clients.find(clientId[0]);
    } catch (err) {
      if (err instanceof ClientMetadataError) throw pageError(err.message);
      throw err;
    }
    if (!client) throw pageError('The application is not registered with this gateway. Remove it and connect again.');
    const requested = params.getAll('redirect_uri');
    if (requested.length > 1) throw pageError('The application sent more than one redirect_uri.');
    const redirectUri = requested[0] ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (redirectUri === undefined) throw pageError('The application sent no redirect_uri.');
    if (!redirectUriMatches(client.redirectUris, redirectUri)) {
      throw pageError('The redirect_uri is not one the application registered, so Gatehouse will not send you there.');
    }
    return { client, redirectUri };
  }

  private codeChallenge(params: URLSearchParams, fail: (code: string, description: string) => Error): string {
    const method = single(params, 'code_challenge_method');
    const challenge = single(params, 'code_challenge');
    if (challenge === undefined) throw fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256');
    if (method !== 'S256') throw fail('invalid_request', 'code_challenge_method must be S256 ("plain" is not accepted)');
    if (!CODE_CHALLENGE.test(challenge)) throw fail('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)');
    return challenge;
  }

  private requestedResources(params: URLSearchParams, fail: (code: string, description: string) => Error): string[] {
    const requested = params.getAll('resource');
    if (requested.length === 0 && this.options.requireResource) {
      throw fail('invalid_target', 'resource is required: name the MCP server (RFC 8707)');
    }
    const resources = new Set<string>();
    for (const uri of requested) {
      const canonical = this.resources.resolve(uri);
      if (canonical === undefined) throw fail('invalid_target', `${uri} is not an MCP server of this gateway`);
      resources.add(canonical);
    }
    return [...resources];
  }
}

/** Scopes granted: the supported ones asked for, or all of them when none are. */
export function grantedScope(requested: string | undefined): string {
  const asked = (requested ?? '').split(' ').filter((s) => SUPPORTED_SCOPES.includes(s));
  return (asked.length > 0 ? asked : SUPPORTED_SCOPES).join(' ');
}
