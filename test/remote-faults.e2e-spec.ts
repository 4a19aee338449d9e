import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startTopology, type Topology, type TopologyKind } from '#testing';
import { callText, connectRemoteClient, disconnect, type RemoteClient } from './fixtures/remote-clients.js';
import { REMOTE_TOKENS, suiteGroup, writeRemoteConfig } from './fixtures/remote-config.js';
import { startEverything, startFixtureUpstream, upstreamAdmin, upstreamStats, type Upstream } from './fixtures/remote-upstreams.js';

const AUTHORIZATION = `Bearer ${REMOTE_TOKENS.alice}`;
const MAX_MESSAGE_BYTES = 65536;

/** A self-signed certificate for 127.0.0.1 (its own CA): [certificate, key] paths. */
function selfSigned(dir: string, name: string): [string, string] {
  const cert = join(dir, `${name}-cert.pem`);
  const key = join(dir, `${name}-key.pem`);
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
    ],
    { stdio: 'ignore' },
  );
  return [cert, key];
}

/** The gateway's JSON-RPC error message inside the SDK client's error (which quotes the response body). */
function gatewayMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const body = text.slice(text.indexOf('{'));
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string } };
    return parsed.error?.message ?? text;
  } catch {
    return text;
  }
}

/** Why opening a session failed, in the gateway's words. */
async function connectError(url: string): Promise<string> {
  const outcome = await connectRemoteClient(url, AUTHORIZATION).then(
    (session) => ({ session }),
    (err: unknown) => ({ err }),
  );
  if ('session' in outcome) {
    await disconnect(outcome.session);
    throw new Error(`expected ${url} to refuse the session`);
  }
  return gatewayMessage(outcome.err);
}

/** Resolves at the first progress notification of a call. */
function firstProgress(): { onprogress: () => void; seen: Promise<void> } {
  let onprogress: () => void = () => undefined;
  const seen = new Promise<void>((resolve) => (onprogress = resolve));
  return { onprogress, seen };
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('remote server faults (%s)', (kind) => {
  const upstreams: Upstream[] = [];
  let everything: Upstream;
  let everythingSse: Upstream;
  let fixture: Upstream;
  let refusing: Upstream;
  let topology: Topology;
  let dir: string;
  let closedPort: number;
  const url = (server: string) => `${topology.url}/${server}/mcp`;
  const label = (server: string, upstream: { origin: string } | string) =>
    `upstream "${server}" (${typeof upstream === 'string' ? upstream : upstream.origin})`;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-remote-faults-'));
    const trustedTls = selfSigned(dir, 'trusted');
    const untrustedTls = selfSigned(dir, 'untrusted');
    let locked: Upstream, trusted: Upstream, untrusted: Upstream;
    [everything, everythingSse, fixture, refusing, locked, trusted, untrusted] = await Promise.all([
      startEverything('streamableHttp'),
      startEverything('sse'),
      startFixtureUpstream(),
      startFixtureUpstream(),
      startFixtureUpstream(['--require-header', 'x-upstream-key:the-right-key']),
      startFixtureUpstream(['--tls', ...trustedTls]),
      startFixtureUpstream(['--tls', ...untrustedTls]),
    ]);
    upstreams.push(everything, everythingSse, fixture, refusing, locked, trusted, untrusted);
    closedPort = await freePort();
    const streamable = (at: string, extra: Record<string, unknown> = {}) => ({ transportType: 'streamable-http', url: at, ...extra });
    const config = writeRemoteConfig(
      {
        'everything-http': streamable(`${everything.origin}/mcp`),
        'everything-sse': { transportType: 'sse', url: `${everythingSse.origin}/sse` },
        fixture: streamable(`${fixture.origin}/mcp`),
        'no-resume': streamable(`${fixture.origin}/noresume/mcp`),
        refusing: streamable(`${refusing.origin}/mcp`),
        unreachable: streamable(`http://127.0.0.1:${closedPort}/mcp`),
        hanging: streamable(`${fixture.origin}/hang/mcp`, { timeout: '1s' }),
        locked: streamable(`${locked.origin}/mcp`, { headers: { 'X-Upstream-Key': 'the-wrong-key' } }),
        'redirect-here': streamable(`${fixture.origin}/redirect-here/mcp`),
        'redirect-away': streamable(`${fixture.origin}/redirect-away/mcp`),
        'sse-foreign': { transportType: 'sse', url: `${fixture.origin}/sse-foreign` },
        'tls-trusted': streamable(`${trusted.origin}/mcp`),
        'tls-untrusted': streamable(`${untrusted.origin}/mcp`),
      },
      { group: suiteGroup('rfaults', kind), maxMessageBytes: MAX_MESSAGE_BYTES },
    );
    topology = await startTopology(kind, config.path, { env: { NODE_EXTRA_CA_CERTS: trustedTls[0] }, runnerCount: 1 });
  }, 60000);

  afterAll(async () => {
    const stopped = await topology?.stop();
    await Promise.all(upstreams.map((u) => u.stop()));
    rmSync(dir, { recursive: true, force: true });
    expect(stopped).toEqual({ forced: 0 });
  });

  it('renews an expired upstream session transparently (404), once per expiry', async () => {
    const session = await connectRemoteClient(url('fixture'), AUTHORIZATION);
    const before = await upstreamStats(fixture);
    for (const round of [1, 2]) {
      await upstreamAdmin(fixture, 'expire');
      expect(await callText(session, 'echo', { message: `after expiry ${round}` })).toBe(`echo: after expiry ${round}`);
    }
    expect((await upstreamStats(fixture)).initialized).toBe(before.initialized + 2);
    await disconnect(session);
  });

  it('ends the session with the reason when the upstream refuses a new session too', async () => {
    const session = await connectRemoteClient(url('refusing'), AUTHORIZATION);
    // Refusing first: once the sessions are gone the runner may renew at once (its GET stream ends with them).
    await upstreamAdmin(refusing, 'refuse-initialize');
    await upstreamAdmin(refusing, 'expire');
    expect(await callText(session, 'echo', { message: 'x' })).toContain(
      `Session ended: ${label('refusing', refusing)} answered HTTP 500: initialize refused on purpose`,
    );
    expect(await callText(session, 'echo', { message: 'y' })).toContain('Session not found');
    await disconnect(session);
  });

  it('carries a streamable-HTTP session over an upstream restart, with a clear error while it is down', async () => {
    const session = await connectRemoteClient(url('everything-http'), AUTHORIZATION);
    expect(await callText(session, 'echo', { message: 'before' })).toBe('Echo: before');
    await everything.stop();
    expect(await callText(session, 'echo', { message: 'down' })).toContain(
      `${label('everything-http', everything)} could not be reached: connection refused (ECONNREFUSED)`,
    );
    await everything.restart();
    // server-everything answers an unknown session with 400 "No valid session ID provided": renewed too.
    expect(await callText(session, 'echo', { message: 'after' })).toBe('Echo: after');
    expect(everything.output()).toMatch(/Session initialized with ID/);
    await disconnect(session);
  });

  it('ends an SSE session whose upstream went away, failing its call with the reason, and serves new sessions after', async () => {
    const session = await connectRemoteClient(url('everything-sse'), AUTHORIZATION);
    const progress = firstProgress();
    const call = session.client
      .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 10, steps: 10 } }, undefined, {
        onprogress: progress.onprogress,
      })
      .then(
        () => 'answered',
        (err: unknown) => String(err),
      );
    await progress.seen;
    await everythingSse.stop();
    expect(await call).toContain(`Session ended: ${label('everything-sse', everythingSse)} closed its event stream`);
    await disconnect(session);
    await everythingSse.restart();
    const again = await connectRemoteClient(url('everything-sse'), AUTHORIZATION);
    expect(await callText(again, 'echo', { message: 'new session' })).toBe('Echo: new session');
    await disconnect(again);
  });

  it('resumes a call whose stream the upstream cut (Last-Event-ID), and fails it when the stream cannot resume', async () => {
    for (const [server, outcome] of [
      ['fixture', 'slow done'],
      ['no-resume', `error: MCP error -32000: ${label('no-resume', fixture)} closed the stream before answering`],
    ]) {
      const session = await connectRemoteClient(url(server), AUTHORIZATION);
      const progress = firstProgress();
      const call = session.client
        .callTool({ name: 'slow', arguments: { ms: 1500, steps: 5 } }, undefined, { onprogress: progress.onprogress })
        .then(
          (result) => JSON.stringify(result.content),
          (err: unknown) => `error: ${err instanceof Error ? err.message : String(err)}`,
        );
      await progress.seen;
      await upstreamAdmin(fixture, 'drop');
      expect(await call).toContain(outcome);
      expect(await callText(session, 'echo', { message: 'still here' })).toBe('echo: still here');
      await disconnect(session);
    }
  });

  it('fails a call whose answer is over maxMessageBytes, and the session goes on', async () => {
    const session = await connectRemoteClient(url('fixture'), AUTHORIZATION);
    expect(await callText(session, 'big', { bytes: MAX_MESSAGE_BYTES * 2 })).toContain(
      `${label('fixture', fixture)} sent a message larger than ${MAX_MESSAGE_BYTES} bytes`,
    );
    expect(await callText(session, 'big', { bytes: 1000 })).toHaveLength(1000);
    await disconnect(session);
  });

  it('refuses a session at once when the upstream is unreachable, and within timeout when it does not answer', async () => {
    let started = Date.now();
    expect(await connectError(url('unreachable'))).toContain(
      `${label('unreachable', `http://127.0.0.1:${closedPort}`)} could not be reached: connection refused (ECONNREFUSED)`,
    );
    expect(Date.now() - started).toBeLessThan(2000);
    started = Date.now();
    expect(await connectError(url('hanging'))).toContain('the backend of hanging did not answer initialize within 1000 ms');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it("says when the upstream refused the gateway's credentials", async () => {
    expect(await connectError(url('locked'))).toContain(
      "refused the gateway's credentials (HTTP 401); check the headers configured for this server",
    );
  });

  it('follows redirects within the origin only, and SSE endpoints on the same origin only', async () => {
    const here = await connectRemoteClient(url('redirect-here'), AUTHORIZATION);
    expect(await callText(here, 'echo', { message: 'redirected' })).toBe('echo: redirected');
    await disconnect(here);
    const awayOrigin = fixture.origin.replace('127.0.0.1', 'localhost');
    expect(await connectError(url('redirect-away'))).toContain(
      `${label('redirect-away', fixture)} redirected to another origin (${awayOrigin}); Gatehouse does not follow that`,
    );
    expect(await connectError(url('sse-foreign'))).toContain(
      `${label('sse-foreign', fixture)} named a message endpoint on another origin (http://example.invalid)`,
    );
  });

  it('verifies TLS: a certificate from NODE_EXTRA_CA_CERTS is trusted, another self-signed one is not', async () => {
    const trusted: RemoteClient = await connectRemoteClient(url('tls-trusted'), AUTHORIZATION);
    expect(await callText(trusted, 'echo', { message: 'over tls' })).toBe('echo: over tls');
    await disconnect(trusted);
    expect(await connectError(url('tls-untrusted'))).toMatch(
      /its TLS certificate is not trusted \((DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)\); give its CA to Gatehouse with NODE_EXTRA_CA_CERTS/,
    );
  });
});
