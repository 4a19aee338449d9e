import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import type { Logger } from '#observability';
import { ProcessGroupSupervisor } from './group-supervisor.js';
import { LineSplitter } from './line-splitter.js';

/** A longer stderr line is logged cut to this many bytes, with how much was cut. */
export const STDERR_LINE_BYTES = 4096;

export interface SpawnSpec {
  command: string;
  args: readonly string[];
  /** The whole environment of the child: nothing is inherited from the gateway. */
  env: Record<string, string>;
  cwd?: string;
}

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** A backend process in its own process group, ended as a tree. */
export interface BackendProcess {
  readonly pid: number | undefined;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves once the process has exited (or failed to start). */
  readonly exited: Promise<ExitInfo>;
  /** Each line the process writes to stderr, cut to `STDERR_LINE_BYTES`, with the number of bytes cut; `ended` after the last. */
  onStderrLine(listener: (line: string, cutBytes: number) => void, ended?: () => void): void;
  /** Resolves with the spawn error if the process could not start, else once it has started. */
  readonly started: Promise<Error | undefined>;
  /**
   * End stdin, then SIGTERM, then SIGKILL to the whole group; resolves when it is gone, or once
   * `killWaitMs` after SIGKILL has passed (a process stuck in the kernel), whatever comes first.
   */
  terminate(): Promise<void>;
}

/** The port the runner spawns through, so sessions can be tested without real processes. */
export interface ProcessSpawner {
  spawn(spec: SpawnSpec): BackendProcess;
}

export interface KillTimings {
  /** How long the process gets to exit after stdin closes. */
  stdinGraceMs: number;
  /** How long after SIGTERM before SIGKILL. */
  termGraceMs: number;
  /** How long after SIGKILL before `terminate` gives up waiting. */
  killWaitMs: number;
}

/** Ending a backend takes at most 3 s: the bound on a runner's shutdown, whatever backends do. */
export const DEFAULT_KILL_TIMINGS: KillTimings = { stdinGraceMs: 500, termGraceMs: 1500, killWaitMs: 1000 };

export interface NodeSpawnerOptions {
  timings?: Partial<KillTimings>;
  /** Where the supervisor reports trouble. */
  log?: Logger;
  /** false: no supervisor process, so backends may outlive a SIGKILLed runner (unit tests). */
  supervise?: boolean;
}

/** Spawns backends in process groups of their own, watched by a supervisor that outlives the runner. */
export class NodeProcessSpawner implements ProcessSpawner {
  private readonly timings: KillTimings;
  private readonly supervisor: ProcessGroupSupervisor | undefined;

  constructor(options: NodeSpawnerOptions = {}) {
    this.timings = { ...DEFAULT_KILL_TIMINGS, ...options.timings };
    const supervise = (options.supervise ?? true) && process.platform !== 'win32';
    this.supervisor = supervise ? new ProcessGroupSupervisor(options.log) : undefined;
  }

  /** The supervisor's pid, while it runs. */
  get supervisorPid(): number | undefined {
    return this.supervisor?.pid;
  }

  /** Stops the supervisor (which kills any backend group still alive). */
  close(): void {
    this.supervisor?.close();
  }

  spawn(spec: SpawnSpec): BackendProcess {
    // No shell: arguments reach the program as given. detached: a process group of its own.
    const child = spawn(spec.command, [...spec.args], {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      shell: false,
      windowsHide: true,
    });
    // Told at once: a runner killed from here on still takes this group with it.
    if (child.pid !== undefined) this.supervisor?.track(child.pid);
    return new ChildBackendProcess(child, this.timings, (pgid) => this.supervisor?.release(pgid));
  }
}

class ChildBackendProcess implements BackendProcess {
  readonly exited: Promise<ExitInfo>;
  readonly started: Promise<Error | undefined>;
  private exitInfo: ExitInfo | undefined;
  private terminating: Promise<void> | undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly timings: KillTimings,
    private readonly groupGone: (pgid: number) => void,
  ) {
    this.started = new Promise((resolve) => {
      child.once('spawn', () => resolve(undefined));
      child.once('error', (err) => resolve(err));
    });
    this.exited = new Promise((resolve) => {
      const done = (info: ExitInfo) => {
        this.exitInfo ??= info;
        resolve(this.exitInfo);
      };
      child.once('exit', (code, signal) => done({ code, signal }));
      child.once('error', () => {
        if (child.pid === undefined) done({ code: null, signal: null });
      });
    });
    // A backend that stops reading must not crash the runner with EPIPE.
    child.stdin?.on('error', () => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get stdin(): Writable {
    return requireStream(this.child.stdin, 'stdin');
  }

  get stdout(): Readable {
    return requireStream(this.child.stdout, 'stdout');
  }

  onStderrLine(listener: (line: string, cutBytes: number) => void, ended?: () => void): void {
    const stderr = requireStream(this.child.stderr, 'stderr');
    const lines = new LineSplitter(STDERR_LINE_BYTES, {
      line: (bytes, cutBytes) => listener(bytes.toString('utf8').replace(/\r$/, ''), cutBytes),
    });
    stderr.on('data', (chunk: Buffer) => lines.push(chunk));
    stderr.on('end', () => {
      lines.end();
      ended?.();
    });
  }

  terminate(): Promise<void> {
    this.terminating ??= this.escalate();
    return this.terminating;
  }

  private async escalate(): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (this.exitInfo === undefined) {
      this.child.stdin?.end();
      if (!(await this.exitsWithin(this.timings.stdinGraceMs))) {
        this.signalGroup('SIGTERM');
        if (!(await this.exitsWithin(this.timings.termGraceMs))) {
          this.signalGroup('SIGKILL');
          await this.exitsWithin(this.timings.killWaitMs);
        }
      }
    }
    if (this.exitInfo !== undefined) this.sweepGroup(pid);
    else void this.exited.then(() => this.sweepGroup(pid));
  }

  /** Once the leader is gone, anything it left in its group goes too; only then may the id be reused. */
  private sweepGroup(pid: number): void {
    this.signalGroup('SIGKILL');
    this.groupGone(pid);
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const exited = await Promise.race([this.exited.then(() => true), timeout]);
    clearTimeout(timer);
    return exited;
  }

  private signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // ESRCH: the group is already empty.
    }
  }
}

function requireStream<T>(stream: T | null | undefined, name: string): T {
  if (!stream) throw new Error(`backend process has no ${name} pipe`);
  return stream;
}
