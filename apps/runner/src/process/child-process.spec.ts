import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import { createLogger } from '#observability';
import { NodeProcessSpawner, STDERR_LINE_BYTES, type BackendProcess } from './child-process.js';
import { ProcessGroupSupervisor } from './group-supervisor.js';

const spawner = new NodeProcessSpawner({ timings: { stdinGraceMs: 100, termGraceMs: 200 }, supervise: false });
const running: BackendProcess[] = [];
const strays: number[] = [];

/** A tiny node program as the backend; terminated after each test. */
function node(script: string, env: Record<string, string> = {}): BackendProcess {
  const child = spawner.spawn({ command: process.execPath, args: ['-e', script], env });
  running.push(child);
  return child;
}

async function readAll(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  return text;
}

function firstLine(stream: Readable): Promise<string> {
  return new Promise((resolve) => createInterface({ input: stream }).once('line', resolve));
}

/** Gone means no such process, or a zombie nobody has reaped yet. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function eventually(check: () => boolean, timeoutMs = 2000): Promise<boolean> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.terminate()));
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

describe('NodeProcessSpawner', () => {
  afterAll(() => {
    delete process.env.CANARY_SECRET;
  });

  it('gives the child exactly the environment passed, nothing of the gateway', async () => {
    process.env.CANARY_SECRET = 'do-not-leak';
    const child = node('process.stdout.write(JSON.stringify(process.env))', { GREETING: 'hello' });
    const env: unknown = JSON.parse(await readAll(child.stdout));
    expect(env).toEqual({ GREETING: 'hello' });
  });

  it('hands each stderr line to onStderrLine', async () => {
    const child = node('console.error("first"); console.error("second")');
    const lines: string[] = [];
    await new Promise<void>((resolve) =>
      child.onStderrLine((line) => {
        lines.push(line);
        if (lines.length === 2) resolve();
      }),
    );
    expect(lines).toEqual(['first', 'second']);
  });

  it('cuts a stderr line at STDERR_LINE_BYTES and says how much it cut, holding no more than that', async () => {
    const child = node('process.stderr.write("x".repeat(50 * 1024 * 1024)); console.error(""); console.error("after")');
    const lines: { line: string; cutBytes: number }[] = [];
    await new Promise<void>((resolve) =>
      child.onStderrLine((line, cutBytes) => {
        lines.push({ line, cutBytes });
        if (line === 'after') resolve();
      }),
    );
    expect(lines).toEqual([
      { line: 'x'.repeat(STDERR_LINE_BYTES), cutBytes: 50 * 1024 * 1024 - STDERR_LINE_BYTES },
      { line: 'after', cutBytes: 0 },
    ]);
  });

  it('resolves started without an error once the process runs', async () => {
    const child = node('setTimeout(() => undefined, 50)');
    await expect(child.started).resolves.toBeUndefined();
    expect(child.pid).toEqual(expect.any(Number));
  });

  it('lets a process that exits on stdin EOF end without a signal', async () => {
    // a long stdin grace, so a slow machine cannot turn this into a SIGTERM
    const patient = new NodeProcessSpawner({ timings: { stdinGraceMs: 5000, termGraceMs: 200 }, supervise: false });
    const script = 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0)); console.log("ready")';
    const child = patient.spawn({ command: process.execPath, args: ['-e', script], env: {} });
    running.push(child);
    expect(await firstLine(child.stdout)).toBe('ready');
    await child.terminate();
    await expect(child.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('escalates to SIGKILL for a process that ignores stdin EOF and SIGTERM', async () => {
    const script =
      'process.on("SIGTERM", () => undefined); process.stdin.resume(); setInterval(() => undefined, 1000); console.log("ready")';
    const child = node(script);
    expect(await firstLine(child.stdout)).toBe('ready');
    const began = Date.now();
    await child.terminate();
    await expect(child.exited).resolves.toEqual({ code: null, signal: 'SIGKILL' });
    // stdin grace (100 ms) and SIGTERM grace (200 ms) both ran out first
    expect(Date.now() - began).toBeGreaterThanOrEqual(250);
  });

  it('kills a grandchild left in the process group', async () => {
    const script = [
      'const { spawn } = require("node:child_process");',
      'const grandchild = spawn(process.execPath, ["-e", "setInterval(() => undefined, 1000)"], { stdio: "ignore" });',
      'console.log(grandchild.pid);',
      'process.stdin.resume(); process.stdin.on("end", () => process.exit(0));',
    ].join('\n');
    const child = node(script);
    const grandchild = Number(await firstLine(child.stdout));
    strays.push(grandchild);
    expect(isGone(grandchild)).toBe(false);
    await child.terminate();
    expect(await eventually(() => isGone(grandchild))).toBe(true);
  });

  it('resolves started with ENOENT for a missing command instead of throwing', async () => {
    const child = spawner.spawn({ command: '/nonexistent/gatehouse-backend', args: [], env: {} });
    await expect(child.started).resolves.toMatchObject({ code: 'ENOENT' });
    await expect(child.exited).resolves.toEqual({ code: null, signal: null });
    await expect(child.terminate()).resolves.toBeUndefined();
  });
});

describe('NodeProcessSpawner supervisor', () => {
  const STUBBORN = [
    'const { spawn } = require("node:child_process");',
    'process.on("SIGTERM", () => undefined);',
    'const grandchild = spawn(process.execPath, ["-e", "process.on(\'SIGTERM\', () => {}); setInterval(() => {}, 1000)"], { stdio: "ignore" });',
    'console.log(grandchild.pid);',
    'setInterval(() => undefined, 1000);',
  ].join('\n');

  /** A backend that ignores stdin EOF and SIGTERM, with a child; returns both pids. */
  async function stubborn(supervised: NodeProcessSpawner): Promise<number[]> {
    const child = supervised.spawn({ command: process.execPath, args: ['-e', STUBBORN], env: {} });
    const grandchild = Number(await firstLine(child.stdout));
    const pids = [child.pid ?? 0, grandchild];
    strays.push(...pids);
    return pids;
  }

  /** The supervisor's pid, once it has reported it (never 0: that would signal this process group). */
  async function supervisorOf(supervised: NodeProcessSpawner): Promise<number> {
    await eventually(() => supervised.supervisorPid !== undefined);
    const pid = supervised.supervisorPid;
    if (pid === undefined || pid <= 1) throw new Error('the supervisor did not report its pid');
    return pid;
  }

  /** The signals a process ignores, from /proc. */
  function ignoresSignal(pid: number, signal: number): boolean {
    const mask = /SigIgn:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? '0';
    return (BigInt(`0x${mask}`) & (1n << BigInt(signal - 1))) !== 0n;
  }

  it('kills every group it was told of once its pipe from the runner closes', async () => {
    const supervised = new NodeProcessSpawner();
    const supervisor = await supervisorOf(supervised);
    const pids = await stubborn(supervised);
    expect([supervisor, ...pids].every((pid) => !isGone(pid))).toBe(true);
    supervised.close();
    expect(await eventually(() => pids.every(isGone))).toBe(true);
  });

  it('outlives SIGINT, SIGTERM and SIGHUP, so Ctrl-C leaves backends to the runner', async () => {
    const supervised = new NodeProcessSpawner();
    const supervisor = await supervisorOf(supervised);
    const pids = await stubborn(supervised);
    expect(await eventually(() => [1, 2, 15].every((signal) => ignoresSignal(supervisor, signal)))).toBe(true);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.kill(supervisor, signal);
    expect(isGone(supervisor)).toBe(false);
    supervised.close();
    expect(await eventually(() => pids.every(isGone) && isGone(supervisor))).toBe(true);
  });

  it('starts again when killed, knowing the groups that are still alive', async () => {
    const supervised = new NodeProcessSpawner();
    const first = await supervisorOf(supervised);
    const pids = await stubborn(supervised);
    expect(readFileSync(`/proc/${first}/stat`, 'utf8')).not.toMatch(new RegExp(`^\\d+ \\(.*\\) \\w ${process.pid} `));
    process.kill(first, 'SIGKILL');
    expect(await eventually(() => supervised.supervisorPid !== undefined && supervised.supervisorPid !== first, 3000)).toBe(true);
    expect(pids.every((pid) => !isGone(pid))).toBe(true);
    supervised.close();
    expect(await eventually(() => pids.every(isGone))).toBe(true);
  });

  it('logs once and carries on without a supervisor when there is no shell to run it', async () => {
    const output = new PassThrough();
    const logged = new Promise<string>((resolve) => output.once('data', (chunk: Buffer) => resolve(chunk.toString())));
    const supervisor = new ProcessGroupSupervisor(createLogger({ service: 'test', destination: output }), '/nonexistent/sh');
    expect(JSON.parse(await logged)).toMatchObject({ level: 50, msg: expect.stringContaining('cannot start the backend supervisor') });
    expect(() => supervisor.track(123456)).not.toThrow();
    expect(supervisor.pid).toBeUndefined();
    supervisor.close();
  });
});
