import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

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
  /** Each line the process writes to stderr. */
  onStderrLine(listener: (line: string) => void): void;
  /** Resolves with the spawn error if the process could not start, else once it has started. */
  readonly started: Promise<Error | undefined>;
  /** End stdin, then SIGTERM, then SIGKILL to the whole group; resolves when it is gone. */
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
}

const DEFAULT_TIMINGS: KillTimings = { stdinGraceMs: 500, termGraceMs: 1500 };

export class NodeProcessSpawner implements ProcessSpawner {
  constructor(private readonly timings: KillTimings = DEFAULT_TIMINGS) {}

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
    return new ChildBackendProcess(child, this.timings);
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

  onStderrLine(listener: (line: string) => void): void {
    const lines = createInterface({ input: requireStream(this.child.stderr, 'stderr'), crlfDelay: Infinity });
    lines.on('line', listener);
  }

  terminate(): Promise<void> {
    this.terminating ??= this.escalate();
    return this.terminating;
  }

  private async escalate(): Promise<void> {
    if (this.exitInfo === undefined && this.child.pid !== undefined) {
      this.child.stdin?.end();
      if (!(await this.exitsWithin(this.timings.stdinGraceMs))) {
        this.signalGroup('SIGTERM');
        if (!(await this.exitsWithin(this.timings.termGraceMs))) {
          this.signalGroup('SIGKILL');
          await this.exited;
        }
      }
    }
    // The leader is gone; anything it left in its group goes too.
    this.signalGroup('SIGKILL');
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
