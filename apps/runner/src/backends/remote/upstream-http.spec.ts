import { freePort } from '#testing';
import { scriptedUpstream } from './scripted-upstream.fixture.js';
import { UpstreamFaults } from './upstream-faults.js';
import { UpstreamHttp, readBody } from './upstream-http.js';

const signal = new AbortController().signal;

async function upstreamHttp(script: Parameters<typeof scriptedUpstream>[0]) {
  const upstream = await scriptedUpstream(script);
  const http = new UpstreamHttp(upstream.url, new UpstreamFaults('s', upstream.url), 1000);
  const close = async () => {
    http.destroy();
    await upstream.close();
  };
  return { upstream, http, close };
}

describe('UpstreamHttp', () => {
  it('follows redirects within the origin, keeping the method and body', async () => {
    const { upstream, http, close } = await upstreamHttp((request, res) => {
      if (request.path === '/mcp') return void res.writeHead(307, { location: '/mcp/' }).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(request.message));
    });
    const response = await http.request({
      method: 'POST',
      url: upstream.url,
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
      signal,
    });
    expect((await readBody(response.body, 100))?.toString()).toBe('{"a":1}');
    expect(upstream.received.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /mcp', 'POST /mcp/']);
    await close();
  });

  it('refuses a redirect to another origin and a redirect loop', async () => {
    const { upstream, http, close } = await upstreamHttp((request, res) => {
      const location = request.path === '/away' ? 'https://elsewhere.example/mcp' : request.path;
      res.writeHead(302, { location }).end();
    });
    await expect(http.request({ method: 'GET', url: new URL('/away', upstream.url), headers: {}, signal })).rejects.toThrow(
      `upstream "s" (${upstream.url.origin}) redirected to another origin (https://elsewhere.example); Gatehouse does not follow that`,
    );
    await expect(http.request({ method: 'GET', url: upstream.url, headers: {}, signal })).rejects.toThrow('redirected too many times');
    expect(upstream.received.filter((r) => r.path === '/mcp')).toHaveLength(6);
    await close();
  });

  it('says how a request failed: refused, or no answer within the time allowed', async () => {
    const { upstream, http, close } = await upstreamHttp(() => undefined);
    await expect(http.request({ method: 'GET', url: upstream.url, headers: {}, headersTimeoutMs: 200, signal })).rejects.toThrow(
      `upstream "s" (${upstream.url.origin}) did not answer within 200 ms`,
    );
    await close();
    const closed = new URL(`http://127.0.0.1:${await freePort()}/mcp`);
    const refused = new UpstreamHttp(closed, new UpstreamFaults('s', closed), 1000);
    await expect(refused.request({ method: 'GET', url: closed, headers: {}, signal })).rejects.toThrow(
      `upstream "s" (${closed.origin}) could not be reached: connection refused (ECONNREFUSED)`,
    );
    refused.destroy();
  });
});
