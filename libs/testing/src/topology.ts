import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { startGatehouse, startTimeoutMs, type GatewayProcess } from './gateway-process.js';

export type TopologyKind = 'all-in-one' | 'distributed';

export interface Topology {
  kind: TopologyKind;
  /** http://127.0.0.1:PORT of the (first) edge */
  url: string;
  /** Every edge's URL; several only when `edgeCount` asked for them. */
  urls: string[];
  /** The processes that listen: the gateway, or each edge. */
  edges: GatewayProcess[];
  /** Processes that own backend subprocesses: the gateway, or each runner. */
  runners: GatewayProcess[];
  all: GatewayProcess[];
  /** Stops every process; resolves with how many needed SIGKILL after SIGTERM. */
  stop(): Promise<{ forced: number }>;
}

const LISTENING = /Gatehouse is listening on [^\s:]+:(\d+)/;

/**
 * Starts a topology from a config file: `gatehouse serve`, or `edge`, `auth` and `runnerCount`
 * runners as separate OS processes over the real NATS. Resolves once /ready answers 200.
 */
export async function startTopology(
  kind: TopologyKind,
  configPath: string,
  options: {
    env?: NodeJS.ProcessEnv;
    runnerCount?: number;
    edgeCount?: number;
    addr?: string;
    basePath?: string;
    /** Distributed only: the `--group` names of each runner (one entry per runner; default: every group). */
    runnerGroups?: readonly (readonly string[])[];
    /** More arguments for each process, by its command and its index among those of that command. */
    args?: (command: 'serve' | 'edge' | 'auth' | 'runner', index: number) => readonly string[];
  } = {},
): Promise<Topology> {
  const env = options.env ?? {};
  const addr = options.addr ?? '127.0.0.1:0';
  const extra = options.args ?? (() => []);
  const all: GatewayProcess[] = [];
  const stop = async () => {
    const results = await Promise.all(all.map((p) => p.stop()));
    return { forced: results.filter((r) => r.forced).length };
  };
  try {
    let edges: GatewayProcess[];
    let runners: GatewayProcess[];
    if (kind === 'all-in-one') {
      edges = [startGatehouse(['serve', '--config', configPath, '--addr', addr, ...extra('serve', 0)], env)];
      all.push(...edges);
      runners = edges;
    } else {
      const groups = options.runnerGroups;
      runners = Array.from({ length: groups?.length ?? options.runnerCount ?? 2 }, (_, i) => {
        const serves = groups?.[i] ?? [];
        const groupArgs = serves.length > 0 ? ['--group', ...serves] : [];
        return startGatehouse(['runner', '--config', configPath, ...extra('runner', i), ...groupArgs], env);
      });
      all.push(...runners, startGatehouse(['auth', '--config', configPath, ...extra('auth', 0)], env));
      await Promise.all(runners.map((r) => r.waitFor(/Gatehouse runner \S+ is ready/)));
      edges = Array.from({ length: options.edgeCount ?? 1 }, (_, i) =>
        startGatehouse(['edge', '--config', configPath, '--addr', i === 0 ? addr : '127.0.0.1:0', ...extra('edge', i)], env),
      );
      all.push(...edges);
    }
    const urls = await Promise.all(edges.map(async (edge) => `http://127.0.0.1:${(await edge.waitFor(LISTENING))[1]}`));
    await Promise.all(urls.map((url) => waitReady(url + (options.basePath ?? ''))));
    return { kind, url: urls[0] ?? '', urls, edges, runners, all, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Where the kernel's ephemeral ports begin: what `listen(0)` and outgoing connections are given (Linux's default without /proc). */
function readEphemeralFloor(): number {
  try {
    const floor = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(floor) && floor > 0) return floor;
  } catch {
    // no /proc: Linux's default below
  }
  return 32768;
}

const EPHEMERAL_FLOOR = readEphemeralFloor();
/** Free ports are sought from here up to the ephemeral range: above the well-known and the usual services' ports. */
const LOWEST_FREE_PORT = 10_000;

/**
 * A TCP port free on 127.0.0.1 now, for a config whose baseURL must name the port it listens on.
 * Picked at random below the ephemeral range: a port from it (what `listen(0)` hands out) could be
 * given to another test's outgoing connection before the gateway binds it, and the gateway's start
 * then failed with EADDRINUSE. Below the range only another listener can take it.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; EPHEMERAL_FLOOR > LOWEST_FREE_PORT && attempt < 100; attempt++) {
    const port = LOWEST_FREE_PORT + Math.floor(Math.random() * (EPHEMERAL_FLOOR - LOWEST_FREE_PORT));
    if (await bindable(port)) return port;
  }
  // No room below the range (or none of it free): any port the kernel has.
  return listenedPort(0);
}

async function bindable(port: number): Promise<boolean> {
  return listenedPort(port).then(
    () => true,
    () => false,
  );
}

/** Listens on `port` of 127.0.0.1 for a moment: the port it got. */
async function listenedPort(port: number): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

async function waitReady(url: string, timeoutMs = startTimeoutMs()): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/ready`).catch(() => undefined);
    if (res?.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url}/ready did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
