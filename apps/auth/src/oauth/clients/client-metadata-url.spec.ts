import { ClientMetadataError } from './client-metadata.error.js';
import { clientMetadataUrl, isClientMetadataUrl } from './client-metadata-url.js';

describe('isClientMetadataUrl', () => {
  it.each([
    'https://app.example.com/oauth/client-metadata.json',
    'https://app.example.com/client',
    'https://app.example.com:8443/client',
    'https://app.example.com/client?version=2',
  ])('takes %s', (clientId) => {
    expect(isClientMetadataUrl(clientId)).toBe(true);
  });

  it.each([
    ['a registered client id', 'a1b2c3d4'],
    ['http', 'http://app.example.com/client'],
    ['http on loopback outside dev mode', 'http://127.0.0.1:3000/client'],
    ['no path', 'https://app.example.com'],
    ['the root path', 'https://app.example.com/'],
    ['a fragment', 'https://app.example.com/client#x'],
    ['an empty fragment', 'https://app.example.com/client#'],
    ['userinfo', 'https://user:pass@app.example.com/client'],
    ['a dot segment', 'https://app.example.com/a/./client'],
    ['a double-dot segment', 'https://app.example.com/a/../client'],
    ['an encoded dot segment', 'https://app.example.com/a/%2e%2E/client'],
    ['a backslash', 'https://app.example.com\\client'],
    ['whitespace', ' https://app.example.com/client'],
    ['a control character', 'https://app.example.com/cli\u0001ent'],
    ['no authority', 'https:app.example.com/client'],
    ['another scheme', 'ftp://app.example.com/client'],
    ['an overlong URL', `https://app.example.com/${'a'.repeat(2100)}`],
  ])('refuses %s', (_case, clientId) => {
    expect(isClientMetadataUrl(clientId)).toBe(false);
  });

  it('takes http on a loopback host in dev mode only', () => {
    for (const clientId of ['http://127.0.0.1:3000/client', 'http://localhost:3000/client', 'http://[::1]:3000/client']) {
      expect(isClientMetadataUrl(clientId, { devMode: true })).toBe(true);
      expect(isClientMetadataUrl(clientId, { devMode: false })).toBe(false);
    }
    expect(isClientMetadataUrl('http://app.example.com/client', { devMode: true })).toBe(false);
    expect(isClientMetadataUrl('http://10.0.0.1/client', { devMode: true })).toBe(false);
  });
});

describe('clientMetadataUrl', () => {
  it('says why a client_id is refused', () => {
    expect(() => clientMetadataUrl('http://app.example.com/client', false)).toThrow(
      new ClientMetadataError('client_id http://app.example.com/client is not a client metadata document URL: it must use https'),
    );
    expect(() => clientMetadataUrl('https://app.example.com/', false)).toThrow(/it must have a path$/);
  });

  it('returns the URL to fetch', () => {
    expect(clientMetadataUrl('https://app.example.com/client', false).href).toBe('https://app.example.com/client');
  });
});
