import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from the sources or from their build under dist/. */
export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The built CLI, as `npx gatehouse` runs it. */
export const CLI = join(REPO_ROOT, 'dist/apps/gateway/src/main.js');

/**
 * How long a started process has to get ready: 15 s, or `GATEHOUSE_START_TIMEOUT_MS` where it
 * starts slower (under valgrind, bench/instructions.ts).
 */
export function startTimeoutMs(): number {
  const configured = Number(process.env.GATEHOUSE_START_TIMEOUT_MS);
  return Number.isFinite(configured) && configured > 0 ? configured : 15_000;
}

/** The executable that runs Node.js processes started here: this one's, or `GATEHOUSE_NODE` (a wrapper that counts one of them). */
export function nodeExecutable(): string {
  return process.env.GATEHOUSE_NODE ?? process.execPath;
}

function findRoot(dir: string): string {
  if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'apps'))) return dir;
  const parent = dirname(dir);
  if (parent === dir) throw new Error('cannot find the repository root');
  return findRoot(parent);
}

export interface GatewayProcess {
  /** The CLI arguments, command first. */
  readonly args: readonly string[];
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the process wrote so far (stdout and stderr). */
  output(): string;
  /** Resolves with the first match of `pattern` in the output, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once exited, with whether SIGKILL was needed. */
  stop(graceMs?: number): Promise<{ forced: boolean }>;
}

/**
 * Starts `gatehouse <args>` as its own OS process. Unless the caller names one, it gets a data
 * directory of its own (its SQLite audit trail), removed once it has exited.
 */
export function startGatehouse(args: readonly string[], env: NodeJS.ProcessEnv = {}): GatewayProcess {
  const ownDataDir = env.GATEHOUSE_DATA_DIR === undefined ? mkdtempSync(join(tmpdir(), 'gatehouse-data-')) : undefined;
  // For profiling a started gateway (`GATEHOUSE_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'`): Node refuses those in NODE_OPTIONS.
  const nodeArgs = (process.env.GATEHOUSE_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(nodeExecutable(), [...nodeArgs, CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...(ownDataDir !== undefined && { GATEHOUSE_DATA_DIR: ownDataDir }), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error('gatehouse did not start');
  let text = '';
  const waiters = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      text += `${line}\n`;
      for (const w of waiters) w();
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (ownDataDir !== undefined) void exited.then(() => rmSync(ownDataDir, { recursive: true, force: true }));
  return {
    args,
    child,
    pid: child.pid,
    output: () => text,
    waitFor: (pattern, timeoutMs = startTimeoutMs()) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = text.match(pattern);
          if (!match) return;
          cleanup();
          resolve(match);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern} in gatehouse ${args[0]} output:\n${text.slice(-4000)}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`gatehouse ${args[0]} exited (${child.exitCode}) before ${pattern}:\n${text.slice(-4000)}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.once('exit', onExit);
        check();
      }),
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return { forced: false };
      let forced = false;
      child.kill('SIGTERM');
      const timer = setTimeout(() => {
        forced = true;
        child.kill('SIGKILL');
      }, graceMs);
      await exited;
      clearTimeout(timer);
      return { forced };
    },
  };
}
