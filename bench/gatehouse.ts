import type { BackendCommand } from './fixtures/backends.js';
import type { RemoteBackend } from './fixtures/remote-everything.js';
import { track, untrack } from './lib/process-guard.js';
import { obtainTokens, startOAuthTopology, type GatewayProcess, type TopologyKind } from '#testing';

const BEARER = 'bench-token-0123456789abcdef';
/**
 * More static tokens, each its own identity (`bearer:echo/0.<n>`), so a scenario can reach a cold
 * warm pool as a caller never seen before; one per sample of the session-start scenario, and spare.
 */
export const EXTRA_BEARERS = 40;
/** Warm backend sessions one identity may hold (`proxy.sessions.pool.size`): the default, written out. */
export const POOL_SIZE = 2;

/** What `echo` is: a stdio server Gatehouse spawns, or a remote server its runner connects to. */
export type BenchBackend = BackendCommand | RemoteBackend;

/** A Gatehouse topology serving one server, `echo`, behind both a static bearer token and OAuth. */
export interface RunningGatehouse {
  kind: TopologyKind;
  /** The server's streamable-HTTP endpoint. */
  mcpUrl: string;
  /** Its legacy SSE endpoint. */
  sseUrl: string;
  /** Authorization header values: the static token, and an OAuth access token from a real login. */
  authorization: { bearer: string; jwt: string };
  /** Authorization header values of the other static tokens: one identity each, none used by anything else. */
  otherBearers: string[];
  /** The process that terminates HTTP (the gateway itself for `serve`). */
  edge: GatewayProcess;
  /** The process that owns the backends (the gateway itself for `serve`). */
  runner: GatewayProcess;
  /** Every process of the topology: `serve`, or edge, auth and runner. */
  processes: readonly GatewayProcess[];
  stop(): Promise<void>;
}

export interface BenchGatehouseOptions {
  /** `proxy.sessions`, as written. */
  sessions?: Record<string, unknown>;
  /** More environment for every process, e.g. NATS_URL of a nats-server of the bench's own. */
  env?: NodeJS.ProcessEnv;
}

const SESSIONS = { maxPerUser: 2000, timeout: '30m', pool: { size: POOL_SIZE } };

/**
 * Starts Gatehouse as `serve` or as edge + auth + one runner over NATS, with OAuth against a
 * stand-in identity provider (oidc-provider) on loopback, and logs in once to get a JWT.
 */
export async function startBenchGatehouse(
  kind: TopologyKind,
  backend: BenchBackend,
  options: BenchGatehouseOptions = {},
): Promise<RunningGatehouse> {
  const server =
    'url' in backend
      ? { transportType: 'streamable-http', url: backend.url }
      : { transportType: 'stdio', command: backend.command, args: backend.args };
  const others = Array.from({ length: EXTRA_BEARERS }, (_, i) => `${BEARER}-${i + 1}`);
  const echo = { ...server, serviceAuths: [{ type: 'bearer', tokens: [BEARER, ...others] }] };
  const started = await startOAuthTopology(kind, {
    users: { alice: { sub: 'alice', email: 'alice@example.com', email_verified: true } },
    mcpServers: { echo: { ...echo, runnerGroup: `bench${Date.now().toString(36)}` } },
    sessions: options.sessions ?? SESSIONS,
    // Auth's storage is not what is measured: no database server to start.
    storage: 'memory',
    runnerCount: 1,
    env: { LOG_LEVEL: 'warn', ...options.env },
  });
  const { gateway, baseURL } = started;
  for (const p of gateway.all) track(p.pid);
  const stop = async () => {
    await started.stop();
    for (const p of gateway.all) untrack(p.pid);
  };
  try {
    const { accessToken } = await obtainTokens(baseURL, `${baseURL}/echo`);
    const edge = gateway.all.find((p) => p.args[0] === 'edge' || p.args[0] === 'serve');
    const runner = gateway.runners[0];
    if (!edge || !runner) throw new Error('the topology has no edge or runner');
    return {
      kind,
      mcpUrl: `${baseURL}/echo/mcp`,
      sseUrl: `${baseURL}/echo/sse`,
      authorization: { bearer: `Bearer ${BEARER}`, jwt: `Bearer ${accessToken}` },
      otherBearers: others.map((token) => `Bearer ${token}`),
      edge,
      runner,
      processes: gateway.all,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
