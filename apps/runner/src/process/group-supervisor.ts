import { spawn } from 'node:child_process';
import { Socket } from 'node:net';
import type { Writable } from 'node:stream';
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

/**
 * Started through a shell that puts the supervisor in the background and exits, so the supervisor
 * is no child of the runner (whose children are its backends). It reads the runner's pipe on fd 3
 * (Node destroys a child's stdin when the child exits) and keeps the launcher's stdout, on which the
 * launcher prints its pid: EOF there tells the runner the supervisor died.
 */
const LAUNCHER_SCRIPT = '"$1" -c "$0" <&3 3<&- & echo $!';

/** A supervisor that dies is started again, but not more often than this. */
const RESTART_FLOOR_MS = 1000;

/**
 * One small `/bin/sh` process per runner that holds a pipe from it and knows the process group of
 * every live backend, so backends die with their runner even when it is SIGKILLed
 * (docs/adr/0002-backends-die-with-their-runner.md).
 */
export class ProcessGroupSupervisor {
  private readonly groups = new Set<number>();
  private control: Writable | undefined;
  private supervisorPid: number | undefined;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly log?: Logger,
    private readonly shell = '/bin/sh',
  ) {
    this.start();
  }

  /** The supervisor's pid once it has reported it, while it runs. */
  get pid(): number | undefined {
    return this.supervisorPid;
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
    this.control?.end();
  }

  private tell(line: string): void {
    this.control?.write(`${line}\n`);
  }

  private start(): void {
    const launcher = spawn(this.shell, ['-c', LAUNCHER_SCRIPT, SUPERVISOR_SCRIPT, this.shell], {
      stdio: ['ignore', 'pipe', 'ignore', 'pipe'],
      detached: true,
      env: {},
    });
    this.startedAt = Date.now();
    this.supervisorPid = undefined;
    launcher.unref();
    launcher.once('error', (err) => {
      // No shell to run it: trying again would fail the same way.
      this.closed = true;
      clearTimeout(this.restartTimer);
      this.log?.error({ err: err.message }, 'cannot start the backend supervisor: backends may outlive a killed runner');
    });
    const [, stdout, , control] = launcher.stdio;
    if (!(control instanceof Socket) || !(stdout instanceof Socket)) return;
    this.control = control;
    // The pipes must not keep the runner alive, nor a write to a dead supervisor crash it.
    control.unref();
    stdout.unref();
    control.on('error', () => undefined);
    let reported = '';
    stdout.on('data', (chunk: Buffer) => {
      reported += chunk.toString();
      this.supervisorPid = Number.parseInt(reported, 10) || undefined;
    });
    stdout.once('close', () => this.died(control));
    for (const pgid of this.groups) this.tell(`+${pgid}`);
  }

  private died(control: Writable): void {
    if (this.control !== control || this.closed) return;
    this.control = undefined;
    this.supervisorPid = undefined;
    this.log?.error('the backend supervisor exited; starting it again');
    const wait = Math.max(0, this.startedAt + RESTART_FLOOR_MS - Date.now());
    this.restartTimer = setTimeout(() => this.start(), wait).unref();
  }
}
