import { ClientMetadataDocuments } from './client-metadata-document.js';
import { devDocuments, DocumentServer, metadata, refusal, sendJson, testClock } from './document-server.fixture.js';

const server = new DocumentServer();
beforeAll(() => server.start());
afterAll(() => server.close());

describe('ClientMetadataDocuments caching', () => {
  it('serves a document from the cache until its max-age passes', async () => {
    const clock = testClock();
    const documents = devDocuments({ now: clock.now });
    const served = server.documentRoute({ 'cache-control': 'max-age=60' });
    await documents.resolve(served.clientId);
    clock.advance(59_000);
    await documents.resolve(served.clientId);
    expect(served.hits()).toBe(1);
    clock.advance(2_000);
    await documents.resolve(served.clientId);
    expect(served.hits()).toBe(2);
  });

  it.each(['max-age=0', 'no-store', 'no-cache'])('fetches again every time with Cache-Control: %s', async (cacheControl) => {
    const documents = devDocuments();
    const served = server.documentRoute({ 'cache-control': cacheControl });
    await documents.resolve(served.clientId);
    await documents.resolve(served.clientId);
    expect(served.hits()).toBe(2);
  });

  it('keeps a document without caching headers for 5 minutes', async () => {
    const clock = testClock();
    const documents = devDocuments({ now: clock.now });
    const served = server.documentRoute();
    await documents.resolve(served.clientId);
    clock.advance(299_000);
    await documents.resolve(served.clientId);
    expect(served.hits()).toBe(1);
    clock.advance(2_000);
    await documents.resolve(served.clientId);
    expect(served.hits()).toBe(2);
  });

  it('falls back to Expires, and keeps nothing longer than a day', async () => {
    const clock = testClock();
    const documents = devDocuments({ now: clock.now });
    const expiring = server.documentRoute({ expires: new Date(Date.now() + 120_000).toUTCString() });
    const forever = server.documentRoute({ 'cache-control': 'max-age=31536000' });
    await Promise.all([documents.resolve(expiring.clientId), documents.resolve(forever.clientId)]);
    clock.advance(100_000);
    await documents.resolve(expiring.clientId);
    expect(expiring.hits()).toBe(1);
    clock.advance(25_000);
    await documents.resolve(expiring.clientId);
    expect(expiring.hits()).toBe(2);
    clock.advance(86_400_000);
    await documents.resolve(forever.clientId);
    expect(forever.hits()).toBe(2);
  });

  it('shares one fetch between concurrent requests', async () => {
    const served = server.documentRoute({ 'cache-control': 'no-store' });
    const documents = devDocuments();
    const clients = await Promise.all([1, 2, 3].map(() => documents.resolve(served.clientId)));
    expect(clients.map((client) => client.clientId)).toEqual([served.clientId, served.clientId, served.clientId]);
    expect(served.hits()).toBe(1);
  });

  it('holds at most maxCacheEntries documents, dropping the least recently used', async () => {
    const documents = devDocuments({ maxCacheEntries: 2 });
    const [a, b, c] = [server.documentRoute(), server.documentRoute(), server.documentRoute()];
    for (const served of [a, b, a, c, a, b]) await documents.resolve(served.clientId);
    expect([a.hits(), b.hits(), c.hits()]).toEqual([1, 2, 1]);
  });

  it('hands out copies, so a caller cannot change the cached client', async () => {
    const documents = devDocuments();
    const served = server.documentRoute();
    (await documents.resolve(served.clientId)).redirectUris.push('https://evil.example/cb');
    expect((await documents.resolve(served.clientId)).redirectUris).toEqual(['http://127.0.0.1/callback']);
  });

  it('remembers a failure for failureCacheMs, then tries again', async () => {
    const clock = testClock();
    let clientId = '';
    let failing = true;
    const served = server.route((_req, res) => (failing ? res.writeHead(500).end() : sendJson(res, metadata(clientId))));
    clientId = served.clientId;
    const documents = new ClientMetadataDocuments({ devMode: true, now: clock.now });
    expect(await refusal(documents, clientId)).toContain('answered HTTP 500');
    failing = false;
    clock.advance(29_000);
    expect(await refusal(documents, clientId)).toContain('answered HTTP 500');
    expect(served.hits()).toBe(1);
    clock.advance(2_000);
    await expect(documents.resolve(clientId)).resolves.toMatchObject({ clientId });
    expect(served.hits()).toBe(2);
  });
});
