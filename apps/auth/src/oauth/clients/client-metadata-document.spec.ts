import http from 'node:http';
import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { ClientMetadataDocuments } from './client-metadata-document.js';
import { devDocuments, DocumentServer, fixedLookup, metadata, refusal, sendJson } from './document-server.fixture.js';

const server = new DocumentServer();
beforeAll(() => server.start());
afterAll(() => server.close());

describe('ClientMetadataDocuments in dev mode, against a local server', () => {
  it('fetches a document and returns a public client', async () => {
    let accept: string | undefined;
    let clientId = '';
    const served = server.route((req, res) => {
      accept = req.headers.accept;
      sendJson(res, metadata(clientId, { client_name: ' Local\u0000 Client ', grant_types: ['authorization_code', 'refresh_token'] }));
    });
    clientId = served.clientId;
    const client = await devDocuments({ now: () => 1234 }).resolve(clientId);
    expect(client).toEqual({
      clientId,
      clientName: 'Local Client',
      redirectUris: ['http://127.0.0.1/callback'],
      grantTypes: ['authorization_code', 'refresh_token'],
      tokenEndpointAuthMethod: 'none',
      createdAt: 1234,
    });
    expect(accept).toBe('application/json');
  });

  it('connects to the address its lookup checked, resolving the host once', async () => {
    const asked: string[] = [];
    let answers = 0;
    // A rebinding resolver: loopback first, a private address on every later question.
    const rebinding: LookupFunction = (hostname, _options, callback) => {
      asked.push(hostname);
      answers += 1;
      callback(null, [{ address: answers === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }]);
    };
    const served = server.documentRoute({}, {}, 'localhost');
    await expect(devDocuments({ lookup: rebinding }).resolve(served.clientId)).resolves.toMatchObject({ clientId: served.clientId });
    expect(asked).toEqual(['localhost']);
    expect(served.hits()).toBe(1);
  });

  it('refuses http to a loopback name that resolves elsewhere', async () => {
    const served = server.documentRoute({}, {}, 'localhost');
    const message = await refusal(devDocuments({ lookup: fixedLookup([{ address: '10.0.0.1', family: 4 }]) }), served.clientId);
    expect(message).toBe(
      `client metadata document at ${served.clientId} resolves to an address that is not loopback, which http allows only on this machine`,
    );
    expect(served.hits()).toBe(0);
  });

  it('refuses http to a host that is not loopback, even in dev mode', async () => {
    const message = await refusal(devDocuments(), 'http://client.example/metadata.json');
    expect(message).toContain('must use https (or http on a loopback host)');
  });

  it('refuses a document whose client_id is not its URL', async () => {
    const served = server.route((_req, res) => sendJson(res, metadata('https://other.example/metadata.json', { note: 'BODY-MARKER' })));
    const message = await refusal(devDocuments(), served.clientId);
    expect(message).toBe(`client metadata document at ${served.clientId} is invalid: client_id in the document does not match its URL`);
    expect(message).not.toContain('BODY-MARKER');
  });

  it('refuses a body over the limit that declares its length', async () => {
    const served = server.route((_req, res) => res.writeHead(200, { 'content-length': 70_000 }).end(' '.repeat(70_000)));
    expect(await refusal(devDocuments(), served.clientId)).toBe(
      `client metadata document at ${served.clientId} is 70000 bytes, over the 64 KiB limit`,
    );
  });

  it('refuses a body over the limit sent without a length, stopping the download', async () => {
    let written = 0;
    const served = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(16_384, 0x20);
      const pump = (): void => {
        while (written < 4_194_304 && !res.destroyed) {
          written += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    expect(await refusal(devDocuments(), served.clientId)).toBe(`client metadata document at ${served.clientId} is over the 64 KiB limit`);
    expect(written).toBeLessThan(4_194_304);
  });

  it('applies a smaller maxBytes', async () => {
    const served = server.documentRoute({}, { client_name: 'x'.repeat(2_000) });
    expect(await refusal(devDocuments({ maxBytes: 1_024 }), served.clientId)).toMatch(/over the 1 KiB limit$/);
  });

  it('gives up on a server that does not answer, after timeoutMs', async () => {
    const served = server.route(() => undefined);
    const started = Date.now();
    const message = await refusal(devDocuments({ timeoutMs: 300 }), served.clientId);
    expect(message).toBe(`client metadata document at ${served.clientId} could not be fetched: timed out after 300 ms`);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('counts the body against the same timeout', async () => {
    const served = server.route((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"client_id":');
    });
    expect(await refusal(devDocuments({ timeoutMs: 300 }), served.clientId)).toContain('could not be fetched: timed out after 300 ms');
  });

  it('does not follow a redirect', async () => {
    const target = server.documentRoute();
    const served = server.route((_req, res) => res.writeHead(302, { location: target.clientId }).end());
    expect(await refusal(devDocuments(), served.clientId)).toBe(
      `client metadata document at ${served.clientId} could not be fetched: it answered with a redirect (HTTP 302), and redirects are not followed`,
    );
    expect(target.hits()).toBe(0);
  });

  it('refuses an answer other than 200', async () => {
    const served = server.route((_req, res) => res.writeHead(404).end('BODY-MARKER'));
    const message = await refusal(devDocuments(), served.clientId);
    expect(message).toBe(`client metadata document at ${served.clientId} could not be fetched: it answered HTTP 404 (expected 200)`);
  });

  it('refuses a body that is not JSON, or not a JSON object, without repeating it', async () => {
    const text = server.route((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>BODY-MARKER</html>'));
    const message = await refusal(devDocuments(), text.clientId);
    expect(message).toBe(`client metadata document at ${text.clientId} is invalid: it is not JSON`);
    const array = server.route((_req, res) => sendJson(res, ['BODY-MARKER']));
    expect(await refusal(devDocuments(), array.clientId)).toBe(
      `client metadata document at ${array.clientId} is invalid: it is not a JSON object`,
    );
  });

  it('refuses a document nested deeper than the JSON depth limit before parsing it', async () => {
    const served = server.route((_req, res) => {
      const text = `{"client_id":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      res.writeHead(200, { 'content-type': 'application/json' }).end(text);
    });
    expect(await refusal(devDocuments(), served.clientId)).toBe(
      `client metadata document at ${served.clientId} is invalid: it nests deeper than 64 levels`,
    );
  });

  it('names a refused connection by its code', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    if (address === null || typeof address === 'string') throw new Error('server has no port');
    const clientId = `http://127.0.0.1:${address.port}/metadata.json`;
    expect(await refusal(devDocuments(), clientId)).toBe(`client metadata document at ${clientId} could not be fetched: ECONNREFUSED`);
  });
});

describe('ClientMetadataDocuments in production mode', () => {
  const production = (lookup: LookupFunction) =>
    new ClientMetadataDocuments({ devMode: false, timeoutMs: 1_000, failureCacheMs: 0, lookup });

  it('refuses an http client_id without fetching it', async () => {
    const served = server.documentRoute();
    expect(await refusal(production(fixedLookup([])), served.clientId)).toBe(
      `client_id ${served.clientId} is not a client metadata document URL: it must use https`,
    );
    expect(served.hits()).toBe(0);
  });

  it.each([
    `https://127.0.0.1:PORT/metadata.json`,
    'https://[::1]:PORT/metadata.json',
    'https://[::ffff:127.0.0.1]:PORT/metadata.json',
    'https://169.254.169.254/latest',
  ])('refuses the IP literal in %s without resolving it', async (template) => {
    const asked: string[] = [];
    const clientId = template.replace('PORT', String(server.port));
    expect(await refusal(production(fixedLookup([], asked)), clientId)).toBe(
      `client metadata document at ${clientId} resolves to a private or reserved address, which is not allowed`,
    );
    expect(asked).toEqual([]);
  });

  it.each<[string, LookupAddress[]]>([
    ['10.0.0.1', [{ address: '10.0.0.1', family: 4 }]],
    ['169.254.169.254', [{ address: '169.254.169.254', family: 4 }]],
    ['::1', [{ address: '::1', family: 6 }]],
    ['::ffff:127.0.0.1', [{ address: '::ffff:127.0.0.1', family: 6 }]],
    [
      'one private address among public ones',
      [
        { address: '93.184.215.14', family: 4 },
        { address: '10.0.0.1', family: 4 },
        { address: '2606:2800:21f:cb07:6820:80da:af6b:8b2c', family: 6 },
      ],
    ],
  ])('refuses a host that resolves to %s', async (_case, addresses) => {
    const asked: string[] = [];
    const clientId = 'https://client.example/oauth/metadata.json';
    expect(await refusal(production(fixedLookup(addresses, asked)), clientId)).toBe(
      `client metadata document at ${clientId} resolves to a private or reserved address, which is not allowed`,
    );
    expect(asked).toEqual(['client.example']);
  });

  it('reports a host that does not resolve', async () => {
    const missing: LookupFunction = (hostname, _options, callback) =>
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const clientId = 'https://missing.example/metadata.json';
    expect(await refusal(production(missing), clientId)).toBe(`client metadata document at ${clientId} could not be fetched: ENOTFOUND`);
  });
});
