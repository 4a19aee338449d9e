import { Controller, Get, Header, Inject } from '@nestjs/common';
import { AUTH_SERVICES, type AuthServices } from '../auth.services.js';
import { SUPPORTED_SCOPES } from './scopes.js';

/** RFC 8414 authorization server metadata (and the OIDC discovery alias), and the public keys. */
@Controller()
export class MetadataController {
  constructor(@Inject(AUTH_SERVICES) private readonly auth: AuthServices) {}

  @Get('.well-known/oauth-authorization-server')
  @Header('cache-control', 'public, max-age=300')
  metadata(): Record<string, unknown> {
    const issuer = this.auth.issuer;
    const authMethods = ['none', 'client_secret_basic', 'client_secret_post'];
    return {
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      registration_endpoint: `${issuer}/register`,
      revocation_endpoint: `${issuer}/revoke`,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_methods_supported: authMethods,
      revocation_endpoint_auth_methods_supported: authMethods,
      code_challenge_methods_supported: ['S256'],
      scopes_supported: SUPPORTED_SCOPES,
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
    };
  }

  /**
   * The same document for clients that look only for OpenID discovery (the MCP SDK does, under a
   * base path), with the two members OpenID requires. Gatehouse issues no ID tokens.
   */
  @Get('.well-known/openid-configuration')
  @Header('cache-control', 'public, max-age=300')
  openidConfiguration(): Record<string, unknown> {
    return { ...this.metadata(), subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['ES256'] };
  }

  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: unknown[] } {
    return this.auth.keys.jwks();
  }
}
