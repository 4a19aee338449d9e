import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { NodeProcessSpawner, type BackendProcess } from './child-process.js';

const spawner = new NodeProcessSpawner({ stdinGraceMs: 100, termGraceMs: 200 });
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

  it('resolves started without an error once the process runs', async () => {
    const child = node('setTimeout(() => undefined, 50)');
    await expect(child.started).resolves.toBeUndefined();
    expect(child.pid).toEqual(expect.any(Number));
  });

  it('lets a process that exits on stdin EOF end without a signal', async () => {
    // a long stdin grace, so a slow machine cannot turn this into a SIGTERM
    const patient = new NodeProcessSpawner({ stdinGraceMs: 5000, termGraceMs: 200 });
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
