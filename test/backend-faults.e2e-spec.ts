import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  descendantPids,
  eventually,
  isAlive,
  REPO_ROOT,
  startTopology,
  type GatewayProcess,
  type Topology,
  type TopologyKind,
} from '#testing';
import { bearer, connectStreamable, textOf, type Connected } from './support/mcp-clients.js';

const FIXTURE = join(REPO_ROOT, 'test/fixtures/misbehaving-server.js');
const TOKENS = { alice: 'faults-alice-0123456789abcdef', bob: 'faults-bob-0123456789abcdef' };
const MIB = 1024 * 1024;
/** DEFAULT_KILL_TIMINGS: 0.5 s after stdin EOF, 1.5 s after SIGTERM, at most 1 s after SIGKILL. */
const KILL_GRACE_MS = 3000;

/** A config with the misbehaving fixture as `faulty`, and as `stubborn` (ignores stdin EOF and SIGTERM, has a child). */
function writeConfig(kind: TopologyKind): { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-faults-'));
  const runnerGroup = `faults${Date.now().toString(36)}${kind === 'all-in-one' ? 'a' : 'd'}`;
  const server = (args: string[]) => ({
    transportType: 'stdio',
    command: process.execPath,
    args: [FIXTURE, ...args],
    serviceAuths: [{ type: 'bearer', tokens: [TOKENS.alice, TOKENS.bob] }],
    runnerGroup,
  });
  const config = {
    version: 'v0.0.1-DEV_EDITION_EXPECT_CHANGES',
    proxy: { baseURL: 'http://127.0.0.1:8080', addr: '127.0.0.1:8080', sessions: { timeout: '5m', cleanupInterval: '1m', maxPerUser: 4 } },
    mcpServers: { faulty: server([]), stubborn: server(['--stubborn']) },
  };
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(config));
  return { path, dir };
}

function rssMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round(Number(kib) / 102.4) / 10;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** The outcome of a tool call: its text, or the error the client got. */
async function call(session: Connected, name: string, args: Record<string, unknown> = {}): Promise<string> {
  return session.client.callTool({ name, arguments: args }).then(textOf, (err: unknown) => `error: ${String(err)}`);
}

/** The backend processes of a stubborn session: the fixture and its child, found below `owner`. */
async function stubbornBackends(owner: GatewayProcess): Promise<number[]> {
  let pids: number[] = [];
  await eventually(() => {
    pids = descendantPids(owner.pid).filter((pid) => cmdline(pid).includes('misbehaving-server') || cmdline(pid).includes('SIGTERM'));
    return pids.length >= 2;
  }, 'the stubborn backend and its child did not appear');
  return pids;
}

function killGroups(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

describe.each<TopologyKind>(['all-in-one', 'distributed'])('a misbehaving backend (%s)', (kind) => {
  let topology: Topology;
  let config: { path: string; dir: string };
  let url: string;

  beforeAll(async () => {
    config = writeConfig(kind);
    topology = await startTopology(kind, config.path, { runnerCount: 1 });
    url = `${topology.url}/faulty/mcp`;
  }, 60000);

  afterAll(async () => {
    await topology?.stop();
    rmSync(config.dir, { recursive: true, force: true });
  });

  /** Bob's session on the same runner, which must keep working whatever Alice's backend does. */
  async function withBystander(fault: (alice: Connected) => Promise<void>): Promise<void> {
    const bob = await connectStreamable(url, bearer(TOKENS.bob));
    const alice = await connectStreamable(url, bearer(TOKENS.alice));
    await fault(alice);
    expect(await call(bob, 'echo', { message: 'still here' })).toBe('echo: still here');
    expect(topology.all.every((p) => isAlive(p.pid) && p.child.exitCode === null)).toBe(true);
    await Promise.all([alice, bob].map((s) => s.client.close()));
  }

  it('ends only the session whose backend writes a line over maxMessageBytes; the process lives', async () => {
    await withBystander(async (alice) => {
      const outcome = await call(alice, 'oversize', { bytes: 10 * MIB });
      expect(outcome).toMatch(/error: .*Session ended: the backend sent a message larger than 4194304 bytes/);
    });
  });

  it('ends only the session whose backend writes a line nested 10,000 levels deep', async () => {
    await withBystander(async (alice) => {
      const outcome = await call(alice, 'deep', { depth: 10_000 });
      expect(outcome).toMatch(/error: .*Session ended: the backend sent a message nested deeper than 64 levels/);
    });
  });

  it('stays within bounded memory and log under 100 MB of stderr without a newline', async () => {
    const [runner] = topology.runners;
    if (!runner) throw new Error('no runner');
    const alice = await connectStreamable(url, bearer(TOKENS.alice));
    expect(await call(alice, 'echo', { message: 'warm' })).toBe('echo: warm');
    const before = rssMiB(runner.pid);
    const logBefore = runner.output().length;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(runner.pid))), 50);
    const began = Date.now();
    const outcome = await call(alice, 'stderr-flood', { megabytes: 100 });
    // The one cut line may reach the log after the tool's answer reached the client.
    await runner.waitFor(/… \[104853504 more bytes cut\]/);
    clearInterval(sampler);
    const after = rssMiB(runner.pid);
    const logGrowth = runner.output().length - logBefore;
    process.stdout.write(
      `[${kind}] 100 MB stderr flood in ${Date.now() - began} ms: runner RSS ${before} MiB before, ${peak} MiB peak, ${after} MiB after; log +${logGrowth} bytes\n`,
    );
    expect(outcome).toBe('flooded');
    expect(after).toBeLessThan(before + 64);
    expect(logGrowth).toBeLessThan(64 * 1024);
    await alice.client.close();
  });
});

describe.each<TopologyKind>(['all-in-one', 'distributed'])('backends die with their runner (%s)', (kind) => {
  let topology: Topology;
  let config: { path: string; dir: string };
  const spawned: number[] = [];

  beforeEach(async () => {
    config = writeConfig(kind);
    topology = await startTopology(kind, config.path, { runnerCount: 1 });
  }, 60000);

  afterEach(async () => {
    killGroups(spawned.splice(0)); // only if a test failed: they are gone otherwise
    await topology?.stop();
    rmSync(config.dir, { recursive: true, force: true });
  });

  async function stubbornSession(): Promise<{ owner: GatewayProcess; backends: number[]; session: Connected }> {
    const [owner] = topology.runners;
    if (!owner) throw new Error('no runner');
    const session = await connectStreamable(`${topology.url}/stubborn/mcp`, bearer(TOKENS.alice));
    expect(await call(session, 'echo', { message: 'hi' })).toBe('echo: hi');
    const backends = await stubbornBackends(owner);
    spawned.push(...backends);
    return { owner, backends, session };
  }

  it('leaves no backend process 5 s after the runner is SIGKILLed, even one that ignores EOF and SIGTERM', async () => {
    const { owner, backends, session } = await stubbornSession();
    const killedAt = Date.now();
    owner.child.kill('SIGKILL');
    await eventually(() => backends.every((pid) => !isAlive(pid)), `backends ${backends.join(', ')} outlived their runner`, 5000);
    process.stdout.write(`[${kind}] SIGKILLed runner: its ${backends.length} backend processes gone in ${Date.now() - killedAt} ms\n`);
    await session.client.close().catch(() => undefined);
  });

  it('exits 0 within the kill grace period on SIGTERM, with a backend that ignores EOF and SIGTERM', async () => {
    const { owner, backends, session } = await stubbornSession();
    const began = Date.now();
    const exited = new Promise<number | null>((resolve) => owner.child.once('exit', (code) => resolve(code)));
    owner.child.kill('SIGTERM');
    const code = await exited;
    const elapsed = Date.now() - began;
    process.stdout.write(`[${kind}] SIGTERM with a stubborn backend: exited ${code} after ${elapsed} ms\n`);
    expect(code).toBe(0);
    expect(elapsed).toBeLessThan(KILL_GRACE_MS + 1000);
    expect(backends.filter(isAlive)).toEqual([]);
    await session.client.close().catch(() => undefined);
  });
});

describe('the process guard', () => {
  it('logs an uncaught exception and an unhandled rejection, and keeps the process running', () => {
    const dist = (path: string) => pathToFileURL(join(REPO_ROOT, 'dist', path)).href;
    const probe = `
      import { createLogger } from '${dist('libs/observability/src/index.js')}';
      import { installProcessGuard } from '${dist('apps/runner/src/process/process-guard.js')}';
      const log = createLogger({ service: 'probe', destination: process.stdout });
      installProcessGuard(log);
      setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
      setTimeout(() => void Promise.reject(new Error('rejected')), 20);
      setTimeout(() => { process.stdout.write(JSON.stringify({ alive: true }) + '\\n'); process.exit(0); }, 100);
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 10000 });
    expect(run.status).toBe(0);
    const lines = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const errors = lines
      .filter((l) => l.level === 50)
      .map((l) => ({ msg: l.msg, err: (l.err as { message?: string } | undefined)?.message }));
    expect(errors).toEqual([
      { msg: 'uncaught exception; the process keeps running', err: 'thrown in a timer' },
      { msg: 'unhandled promise rejection; the process keeps running', err: 'rejected' },
    ]);
    expect(lines.at(-1)).toEqual({ alive: true });
  });
});
