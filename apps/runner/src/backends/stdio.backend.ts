import { type JsonRpcMessage, keepMessageText } from '#contracts';
import type { Logger } from '#observability';
import type { BackendProcess, ExitInfo, ProcessSpawner, SpawnSpec } from '../process/child-process.js';
import { GUARD_END_REASON, type BackendConnection, type BackendLogContext } from './backend.port.js';
import { JsonRpcLineReader } from './json-rpc-line-reader.js';
import { LogRateLimiter, type LogRate } from './log-rate-limiter.js';

export interface StdioLimits {
  /** The longest line (one JSON-RPC message) read from the backend's stdout: `proxy.limits.maxMessageBytes`. */
  maxMessageBytes: number;
  /** How fast the backend's stderr is logged; default 20 lines a second, bursts of 100, a summary every 10 s. */
  stderrLogRate?: LogRate;
}

/** Backend stderr is logged at most this fast per session; the rest is counted in summaries. */
const STDERR_LOG_RATE: LogRate = { perSecond: 20, burst: 100, summaryEveryMs: 10_000 };
/** Warnings about stdout lines that are not JSON-RPC, per session. */
const SKIPPED_LOG_RATE: LogRate = { perSecond: 1, burst: 10, summaryEveryMs: 10_000 };

/** A stdio MCP server: newline-delimited JSON-RPC over the child's stdin and stdout. */
export class StdioBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private process: BackendProcess | undefined;
  private closing = false;
  private closeAnnounced = false;
  private readonly stderrLog: LogRateLimiter;
  private readonly skippedLog: LogRateLimiter;

  constructor(
    private readonly spawner: ProcessSpawner,
    private readonly spec: SpawnSpec,
    private readonly log: Logger,
    private readonly context: BackendLogContext,
    private readonly limits: StdioLimits,
  ) {
    const stderrRate = limits.stderrLogRate ?? STDERR_LOG_RATE;
    this.stderrLog = new LogRateLimiter(stderrRate, (dropped) =>
      log.warn({ ...context, dropped }, `dropped ${dropped} stderr lines of the backend (over ${stderrRate.perSecond} a second)`),
    );
    this.skippedLog = new LogRateLimiter(SKIPPED_LOG_RATE, (dropped) =>
      log.warn({ ...context, dropped }, `skipped ${dropped} more stdout lines that are not JSON-RPC`),
    );
  }

  async start(): Promise<void> {
    const child = this.spawn();
    const failure = await child.started;
    if (failure) {
      this.log.warn({ ...this.context, err: failure.message }, 'backend failed to start');
      throw new Error(`the backend could not be started (${errorCode(failure)})`);
    }
    this.log.info({ ...this.context, pid: child.pid }, 'backend started');
    void child.exited.then(this.guarded((exit: ExitInfo) => this.exited(child, exit)));
  }

  send(message: JsonRpcMessage): void {
    if (!this.process) return;
    // Stringified, never a client's own text (see messageText): a backend whose parser takes the
    // first of two members of the same name would read another call than the one the runner checked.
    const text = JSON.stringify(message);
    keepMessageText(message, text);
    // Newline-delimited JSON, as the stdio transport of the spec frames it.
    this.process.stdin.write(`${text}\n`);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.process?.terminate();
  }

  private spawn(): BackendProcess {
    const child = this.spawner.spawn(this.spec);
    this.process = child;
    const reader = new JsonRpcLineReader(this.limits.maxMessageBytes, {
      message: (message) => this.onmessage?.(message),
      skipped: () => {
        if (this.skippedLog.admit()) this.log.warn(this.context, 'backend wrote a line that is not JSON-RPC to stdout; skipped');
      },
      failed: (reason) => {
        this.log.warn({ ...this.context, reason }, 'ending the session: its backend broke the stdio protocol');
        this.announceClose(reason);
      },
    });
    child.stdout.on(
      'data',
      this.guarded((chunk: Buffer) => reader.push(chunk)),
    );
    child.onStderrLine(this.guarded((line: string, cutBytes: number) => this.stderrLine(child, line, cutBytes)));
    return child;
  }

  private stderrLine(child: BackendProcess, line: string, cutBytes: number): void {
    if (!this.stderrLog.admit()) return;
    const fields = { ...this.context, pid: child.pid, stream: 'stderr' };
    if (cutBytes === 0) this.log.info(fields, line);
    else this.log.info({ ...fields, cutBytes }, `${line} … [${cutBytes} more bytes cut]`);
  }

  private exited(child: BackendProcess, exit: ExitInfo): void {
    this.log.info({ ...this.context, pid: child.pid, ...exit }, 'backend exited');
    this.stderrLog.close();
    this.skippedLog.close();
    this.announceClose(`the backend exited (${exit.signal ?? `code ${exit.code}`})`);
  }

  /** The session ends from this side, once, unless its owner is already closing it. */
  private announceClose(reason: string): void {
    if (this.closing || this.closeAnnounced) return;
    this.closeAnnounced = true;
    this.onclose?.(reason);
  }

  /** An I/O callback that cannot throw: what it throws ends this session instead of the process. */
  private guarded<A extends unknown[]>(handle: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      try {
        handle(...args);
      } catch (err) {
        this.log.error({ ...this.context, err }, 'backend I/O failed');
        this.announceClose(GUARD_END_REASON);
      }
    };
  }
}

function errorCode(err: Error): string {
  return 'code' in err && typeof err.code === 'string' ? err.code : 'spawn failed';
}
