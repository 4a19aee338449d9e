import { ClientMetadataError } from './client-metadata.error.js';
import { clientFromMetadata } from './client-metadata-validation.js';

const CLIENT_ID = 'https://app.example.com/oauth/client.json';
const NOW = 1_700_000_000_000;
const rules = { devMode: false };

function documentWith(fields: Record<string, unknown>): Record<string, unknown> {
  return { client_id: CLIENT_ID, redirect_uris: ['https://app.example.com/callback'], ...fields };
}

function refusal(document: unknown, options = rules): string {
  try {
    clientFromMetadata(CLIENT_ID, document, options, NOW);
  } catch (err) {
    if (err instanceof ClientMetadataError) return err.message;
    throw err;
  }
  throw new Error('the document was accepted');
}

describe('clientFromMetadata', () => {
  it('makes a public client of a valid document', () => {
    const document = documentWith({
      client_name: 'Example App',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: ' mcp ',
      logo_uri: 'https://app.example.com/logo.png',
    });
    expect(clientFromMetadata(CLIENT_ID, document, rules, NOW)).toEqual({
      clientId: CLIENT_ID,
      clientName: 'Example App',
      redirectUris: ['https://app.example.com/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      scope: 'mcp',
      createdAt: NOW,
    });
  });

  it('defaults grant_types to authorization_code and refresh_token and leaves out absent names', () => {
    const client = clientFromMetadata(CLIENT_ID, documentWith({}), rules, NOW);
    expect(client.grantTypes).toEqual(['authorization_code', 'refresh_token']);
    expect(client).not.toHaveProperty('clientName');
    expect(client).not.toHaveProperty('scope');
  });

  it('cleans the client name for the consent page', () => {
    const name = (client_name: string) => clientFromMetadata(CLIENT_ID, documentWith({ client_name }), rules, NOW).clientName;
    expect(name('  Example\u0000 \nApp\u202e  ')).toBe('Example App');
    expect(name('\u0007 \t')).toBeUndefined();
    const long = name('x'.repeat(300)) ?? '';
    expect(Array.from(long)).toHaveLength(100);
    expect(long.endsWith('…')).toBe(true);
  });

  it('requires the document to be an object whose client_id is its URL, exactly', () => {
    expect(refusal(['not', 'an', 'object'])).toBe(`client metadata document at ${CLIENT_ID} is invalid: it is not a JSON object`);
    expect(refusal(null)).toContain('it is not a JSON object');
    expect(refusal(documentWith({ client_id: `${CLIENT_ID}/` }))).toBe(
      `client metadata document at ${CLIENT_ID} is invalid: client_id in the document does not match its URL`,
    );
    expect(refusal(documentWith({ client_id: undefined }))).toContain('does not match its URL');
  });

  it('refuses shared-secret and unsupported authentication, without echoing unknown values', () => {
    expect(refusal(documentWith({ token_endpoint_auth_method: 'client_secret_basic' }))).toContain(
      'client_secret_basic needs a shared secret, which a metadata document client cannot hold',
    );
    expect(refusal(documentWith({ token_endpoint_auth_method: 'client_secret_post' }))).toContain('shared secret');
    expect(refusal(documentWith({ token_endpoint_auth_method: 'private_key_jwt' }))).toContain(
      'private_key_jwt is not supported by this server',
    );
    const unknown = refusal(documentWith({ token_endpoint_auth_method: '<script>tls_client_auth' }));
    expect(unknown).toContain('token_endpoint_auth_method is not supported');
    expect(unknown).not.toContain('<script>');
  });

  it('refuses a document that publishes a client_secret, without repeating it', () => {
    const message = refusal(documentWith({ client_secret: 'hunter2-very-secret' }));
    expect(message).toContain('client_secret');
    expect(message).not.toContain('hunter2');
  });

  it.each([
    ['missing redirect_uris', { redirect_uris: undefined }, 'redirect_uris must be a non-empty array'],
    ['empty redirect_uris', { redirect_uris: [] }, 'redirect_uris must be a non-empty array'],
    ['a non-string redirect URI', { redirect_uris: ['https://app.example.com/cb', 7] }, 'redirect_uris[1] is not a string'],
    ['a refused redirect URI', { redirect_uris: ['javascript:alert(1)'] }, 'redirect_uris[0] uses the javascript: scheme'],
    ['http off loopback', { redirect_uris: ['http://app.example.com/cb'] }, 'redirect_uris[0] may use http only on'],
    ['an unknown grant type', { grant_types: ['authorization_code', 'client_credentials'] }, 'grant_types may contain only'],
    ['grant types without authorization_code', { grant_types: ['refresh_token'] }, 'grant_types must include authorization_code'],
    ['grant_types not an array', { grant_types: 'authorization_code' }, 'grant_types may contain only'],
    ['response_types other than code', { response_types: ['token'] }, 'response_types must be ["code"]'],
    ['response_types with extra types', { response_types: ['code', 'id_token'] }, 'response_types must be ["code"]'],
    ['a non-string client_name', { client_name: 42 }, 'client_name must be a string'],
    ['a non-string scope', { scope: ['mcp'] }, 'scope must be a string'],
  ])('refuses %s', (_case, fields, reason) => {
    expect(refusal(documentWith(fields))).toContain(reason);
  });

  it('holds https redirect URIs to the allowed hosts when they are set', () => {
    const options = { devMode: false, allowedRedirectHosts: ['claude.ai'] };
    expect(refusal(documentWith({}), options)).toContain('not among the allowed redirect URI hosts');
    const client = clientFromMetadata(
      CLIENT_ID,
      documentWith({ redirect_uris: ['https://claude.ai/cb', 'http://127.0.0.1/cb'] }),
      options,
      NOW,
    );
    expect(client.redirectUris).toEqual(['https://claude.ai/cb', 'http://127.0.0.1/cb']);
  });
});
