import { eventually, isAlive } from '#testing';
import { NodeProcessSpawner } from '../../process/child-process.js';
import { runToolProcess, STDERR_TAIL_CHARS, type ToolRun, type ToolRunLimits } from './tool-process.js';

const spawner = new NodeProcessSpawner({ timings: { stdinGraceMs: 100, termGraceMs: 300, killWaitMs: 500 }, supervise: false });
const limits: ToolRunLimits = { timeoutMs: 10_000, maxOutputBytes: 1024 * 1024 };

function run(script: string, options: Partial<ToolRunLimits> & { signal?: AbortSignal; args?: string[] } = {}): Promise<ToolRun> {
  const spec = { command: process.execPath, args: ['-e', script, '--', ...(options.args ?? [])], env: {} };
  return runToolProcess(spawner, spec, { ...limits, ...options }, options.signal ?? new AbortController().signal);
}

function started(outcome: ToolRun): ToolRun & { started: true } {
  if (!outcome.started) throw new Error(`did not start: ${outcome.error}`);
  return outcome;
}

/** A tool that starts a child ignoring SIGTERM, reports both pids, and ignores SIGTERM itself. */
const TREE = `
  const child = require('node:child_process').spawn(process.execPath, ['-e', 'process.on("SIGTERM", () => {}); setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  process.on('SIGTERM', () => {});
  process.stdout.write(JSON.stringify({ pid: process.pid, child: child.pid }));
  setInterval(() => {}, 1000);`;

function pidsOf(outcome: ToolRun & { started: true }): number[] {
  const { pid, child } = JSON.parse(outcome.stdout) as { pid: number; child: number };
  return [pid, child];
}

describe('runToolProcess', () => {
  it('gives stdout exactly and the exit, with stdin at end of file', async () => {
    const outcome = started(await run('process.stdin.resume(); process.stdin.on("end", () => process.stdout.write("é\\n  x  \\n"))'));
    expect(outcome).toMatchObject({ end: { by: 'exit', exit: { code: 0, signal: null } }, stdout: 'é\n  x  \n', cutBytes: 0 });
  });

  it('keeps the tail of stderr and the code of a failing command', async () => {
    // exitCode, not exit(): process.exit() drops what Node has not yet written to a pipe.
    const script = 'for (let i = 1; i <= 2000; i++) console.error("line " + i); process.exitCode = 7';
    const outcome = started(await run(script));
    expect(outcome.end).toEqual({ by: 'exit', exit: { code: 7, signal: null } });
    expect(outcome.stderrTail.endsWith('line 1999\nline 2000')).toBe(true);
    expect(outcome.stderrTail.length).toBeLessThanOrEqual(STDERR_TAIL_CHARS + 1);
  });

  it('kills the whole tree at the timeout, SIGTERM ignored or not', async () => {
    const began = Date.now();
    const outcome = started(await run(TREE, { timeoutMs: 400 }));
    expect(outcome.end).toEqual({ by: 'timeout' });
    expect(Date.now() - began).toBeLessThan(3000);
    // SIGKILLed already: the kernel takes a moment to finish each.
    await eventually(() => pidsOf(outcome).every((pid) => !isAlive(pid)), 'the tool or its child outlived the timeout', 1000);
  });

  it('kills the whole tree when cancelled', async () => {
    const cancel = new AbortController();
    const outcome = run(TREE, { signal: cancel.signal });
    setTimeout(() => cancel.abort(), 300);
    const ended = started(await outcome);
    expect(ended.end).toEqual({ by: 'cancel' });
    await eventually(() => pidsOf(ended).every((pid) => !isAlive(pid)), 'the tool or its child outlived the cancellation', 1000);
  });

  it('kills what a command left running in its group when it exits', async () => {
    const script = `
      const child = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'inherit' });
      process.stdout.write(String(child.pid));
      setTimeout(() => process.exit(0), 100);`;
    const outcome = started(await run(script));
    expect(outcome.end).toEqual({ by: 'exit', exit: { code: 0, signal: null } });
    // The child held stdout open; the run still ended, and the child with it.
    await eventually(() => !isAlive(Number(outcome.stdout)), 'the child outlived the tool', 1000);
  });

  it('reads past the cap without keeping it, so the command runs to its end', async () => {
    const outcome = started(await run('process.stdout.write("y".repeat(5 * 1024 * 1024)); process.exitCode = 3', { maxOutputBytes: 1000 }));
    expect(outcome.end).toEqual({ by: 'exit', exit: { code: 3, signal: null } });
    expect(outcome.stdout).toBe('y'.repeat(1000));
    expect(outcome.cutBytes).toBe(5 * 1024 * 1024 - 1000);
  });

  it('says why a command could not start', async () => {
    const spec = { command: '/nonexistent/tool', args: [], env: {} };
    expect(await runToolProcess(spawner, spec, limits, new AbortController().signal)).toEqual({ started: false, error: 'ENOENT' });
    const nul = { command: process.execPath, args: ['a\0b'], env: {} };
    expect(await runToolProcess(spawner, nul, limits, new AbortController().signal)).toEqual({
      started: false,
      error: 'ERR_INVALID_ARG_VALUE',
    });
  });

  it('starts nothing when already cancelled', async () => {
    const cancel = new AbortController();
    cancel.abort();
    expect(await run('process.exit(0)', { signal: cancel.signal })).toEqual({ started: false, error: 'cancelled before it started' });
  });
});
