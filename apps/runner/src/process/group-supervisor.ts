import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { Logger } from '#observability';

/**
 * The supervisor: reads `+PGID` / `-PGID` lines from the runner; when its stdin closes (the runner
 * exited, however it exited) it SIGKILLs every process group still listed, then exits. It ignores
 * INT, TERM and HUP, so Ctrl-C leaves it to the runner's own clean shutdown; only the pipe ends it.
 */
const SUPERVISOR_SCRIPT = `
trap '' INT TERM HUP
groups=' '
while read -r line; do
  pgid=\${line#?}
  case $pgid in ''|*[!0-9]*) continue ;; esac
  case $line in
    +*) groups="$groups$pgid " ;;
    -*) kept=' '; for g in $groups; do [ "$g" = "$pgid" ] || kept="$kept$g "; done; groups=$kept ;;
  esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`;

/** A supervisor that dies is started again, but not more often than this. */
const RESTART_FLOOR_MS = 1000;

/**
 * One small `/bin/sh` process per runner that holds a pipe from it and knows the process group of
 * every live backend, so backends die with their runner even when it is SIGKILLed
 * (docs/adr/0002-backends-die-with-their-runner.md).
 */
export class ProcessGroupSupervisor {
  private readonly groups = new Set<number>();
  private child: ChildProcess | undefined;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly log?: Logger,
    private readonly shell = '/bin/sh',
  ) {
    this.start();
  }

  /** The supervisor's pid while it runs. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** A backend's process group now exists: kill it if the runner dies. */
  track(pgid: number): void {
    this.groups.add(pgid);
    this.tell(`+${pgid}`);
  }

  /** The group is gone (its id may be reused): forget it. */
  release(pgid: number): void {
    if (this.groups.delete(pgid)) this.tell(`-${pgid}`);
  }

  /** Ends the supervisor, which kills any group still tracked. */
  close(): void {
    this.closed = true;
    clearTimeout(this.restartTimer);
    this.child?.stdin?.end();
  }

  private tell(line: string): void {
    this.child?.stdin?.write(`${line}\n`);
  }

  private start(): void {
    const child = spawn(this.shell, ['-c', SUPERVISOR_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true, env: {} });
    this.child = child;
    this.startedAt = Date.now();
    child.unref();
    // The pipe must not keep the runner alive, nor a write to a dead supervisor crash it.
    if (child.stdin instanceof Socket) child.stdin.unref();
    child.stdin?.on('error', () => undefined);
    child.once('error', (err) => {
      this.child = undefined;
      this.log?.error({ err: err.message }, 'cannot start the backend supervisor: backends may outlive a killed runner');
    });
    child.once('exit', (code, signal) => this.exited(child, code ?? signal ?? 'unknown'));
    for (const pgid of this.groups) this.tell(`+${pgid}`);
  }

  private exited(child: ChildProcess, how: number | string): void {
    if (this.child !== child || this.closed) return;
    this.child = undefined;
    this.log?.error({ exit: how }, 'the backend supervisor exited; starting it again');
    const wait = Math.max(0, this.startedAt + RESTART_FLOOR_MS - Date.now());
    this.restartTimer = setTimeout(() => this.start(), wait).unref();
  }
}
