import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendCommand } from './fixtures/backends.js';
import { track, untrack } from './lib/process-guard.js';
import {
  freePort,
  obtainTokens,
  startStandInIdp,
  startTopology,
  type GatewayProcess,
  type StandInIdp,
  type Topology,
  type TopologyKind,
} from '#testing';

export const BEARER = 'bench-token-0123456789abcdef';
const IDP_CLIENT = { client_id: 'gatehouse-bench', client_secret: 'bench-idp-secret-0123456789' };

/** A Gatehouse topology serving one server, `echo`, behind both a static bearer token and OAuth. */
export interface RunningGatehouse {
  kind: TopologyKind;
  /** The server's streamable-HTTP endpoint. */
  mcpUrl: string;
  /** Its legacy SSE endpoint. */
  sseUrl: string;
  /** Authorization header values: the static token, and an OAuth access token from a real login. */
  authorization: { bearer: string; jwt: string };
  /** The process that terminates HTTP (the gateway itself for `serve`). */
  edge: GatewayProcess;
  /** The process that owns the backends (the gateway itself for `serve`). */
  runner: GatewayProcess;
  stop(): Promise<void>;
}

/**
 * Starts Gatehouse as `serve` or as edge + auth + one runner over NATS, with OAuth against a
 * stand-in identity provider (oidc-provider) on loopback, and logs in once to get a JWT.
 */
export async function startBenchGatehouse(
  kind: TopologyKind,
  backend: BackendCommand,
  sessions = { maxPerUser: 2000, timeout: '30m' },
): Promise<RunningGatehouse> {
  const port = await freePort();
  const baseURL = `http://127.0.0.1:${port}`;
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'));
  const idp = await startStandInIdp({
    users: { alice: { sub: 'alice', email: 'alice@example.com', email_verified: true } },
    clients: [{ ...IDP_CLIENT, redirect_uris: [`${baseURL}/oauth/callback`] }],
  });
  let topology: Topology | undefined;
  try {
    const configPath = writeConfig(dir, baseURL, port, idp, backend, sessions);
    const env = {
      GATEHOUSE_DEV: '1',
      GATEHOUSE_DATA_DIR: join(dir, 'data'),
      LOG_LEVEL: 'warn',
      BENCH_IDP_SECRET: IDP_CLIENT.client_secret,
    };
    topology = await startTopology(kind, configPath, { env, runnerCount: 1, addr: `127.0.0.1:${port}` });
    for (const p of topology.all) track(p.pid);
    const { accessToken } = await obtainTokens(baseURL, `${baseURL}/echo`);
    const running = topology;
    const edge = running.all.find((p) => p.args[0] === 'edge' || p.args[0] === 'serve');
    const runner = running.runners[0];
    if (!edge || !runner) throw new Error('the topology has no edge or runner');
    return {
      kind,
      mcpUrl: `${baseURL}/echo/mcp`,
      sseUrl: `${baseURL}/echo/sse`,
      authorization: { bearer: `Bearer ${BEARER}`, jwt: `Bearer ${accessToken}` },
      edge,
      runner,
      stop: async () => {
        await running.stop();
        for (const p of running.all) untrack(p.pid);
        await idp.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await topology?.stop();
    await idp.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function writeConfig(
  dir: string,
  baseURL: string,
  port: number,
  idp: StandInIdp,
  backend: BackendCommand,
  sessions: { maxPerUser: number; timeout: string },
): string {
  const path = join(dir, 'bench.json');
  const config = {
    version: 'bench',
    proxy: {
      baseURL,
      addr: `127.0.0.1:${port}`,
      sessions,
      auth: {
        kind: 'oauth',
        idp: {
          provider: 'oidc',
          clientId: IDP_CLIENT.client_id,
          clientSecret: { $env: 'BENCH_IDP_SECRET' },
          discoveryUrl: idp.discoveryUrl,
        },
        allowedDomains: ['example.com'],
        encryptionKey: 'bench-encryption-key-0123456789a',
        storage: 'memory',
      },
    },
    mcpServers: {
      echo: {
        transportType: 'stdio',
        command: backend.command,
        args: backend.args,
        serviceAuths: [{ type: 'bearer', tokens: [BEARER] }],
        runnerGroup: `bench${Date.now().toString(36)}`,
      },
    },
  };
  writeFileSync(path, JSON.stringify(config));
  return path;
}
