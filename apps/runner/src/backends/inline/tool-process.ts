import type { BackendProcess, ExitInfo, ProcessSpawner, SpawnSpec } from '../../process/child-process.js';
import { CappedOutput, TailLines } from './tool-output.js';

export interface ToolRunLimits {
  timeoutMs: number;
  /** stdout kept for the result; the rest is read and counted, so the tool never blocks on a full pipe. */
  maxOutputBytes: number;
}

/** How a started run ended: by itself, at its timeout, or cancelled by the client or the session's end. */
export type ToolRunEnd = { by: 'exit'; exit: ExitInfo } | { by: 'timeout' } | { by: 'cancel' };

export type ToolRun =
  | { started: false; error: string }
  | { started: true; end: ToolRunEnd; stdout: string; stdoutBytes: number; cutBytes: number; stderrTail: string };

/** The last characters of stderr a result shows. */
export const STDERR_TAIL_CHARS = 4096;
/** After the group is gone, how long its pipes may take to close: only a descendant that left the group holds them longer. */
const PIPES_DRAIN_MS = 500;

/**
 * Runs one command in a process group of its own (through the runner's spawner, so its supervisor
 * covers it) with stdin closed. However it ends, its whole group has had SIGKILL before this
 * resolves: at exit what it left behind, at timeout or cancellation everything (after a SIGTERM).
 */
export async function runToolProcess(
  spawner: ProcessSpawner,
  spec: SpawnSpec,
  limits: ToolRunLimits,
  signal: AbortSignal,
): Promise<ToolRun> {
  if (signal.aborted) return { started: false, error: 'cancelled before it started' };
  let child: BackendProcess;
  try {
    child = spawner.spawn(spec);
  } catch (error) {
    return { started: false, error: errorCode(error) };
  }
  const stdout = new CappedOutput(limits.maxOutputBytes);
  const stderr = new TailLines(STDERR_TAIL_CHARS);
  const stdoutClosed = new Promise<void>((resolve) => {
    for (const event of ['end', 'close', 'error']) child.stdout.once(event, () => resolve());
  });
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  const stderrEnded = new Promise<void>((resolve) => child.onStderrLine((line, cutBytes) => stderr.push(line, cutBytes), resolve));
  child.stdin.end();
  const failure = await child.started;
  if (failure) {
    await child.terminate();
    return { started: false, error: errorCode(failure) };
  }
  const end = await endOf(child, limits.timeoutMs, signal);
  await child.terminate();
  await within(PIPES_DRAIN_MS, Promise.all([stdoutClosed, stderrEnded]));
  child.stdout.destroy();
  const text = stdout.text();
  return { started: true, end, stdout: text, stdoutBytes: Buffer.byteLength(text), cutBytes: stdout.cutBytes, stderrTail: stderr.text() };
}

function endOf(child: BackendProcess, timeoutMs: number, signal: AbortSignal): Promise<ToolRunEnd> {
  return new Promise((resolve) => {
    const finish = (end: ToolRunEnd) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', cancel);
      resolve(end);
    };
    const cancel = () => finish({ by: 'cancel' });
    const timer = setTimeout(() => finish({ by: 'timeout' }), timeoutMs);
    signal.addEventListener('abort', cancel, { once: true });
    if (signal.aborted) cancel();
    void child.exited.then((exit) => finish({ by: 'exit', exit }));
  });
}

/** Resolves when `promise` does or after `ms`, whichever is first. */
async function within(ms: number, promise: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return 'spawn failed';
}
