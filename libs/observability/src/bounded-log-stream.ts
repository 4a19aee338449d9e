import type { Writable } from 'node:stream';

/** How far (in characters of JSON lines, about as many bytes) the output may fall behind before lines are dropped. */
export const DEFAULT_LOG_BACKLOG = 4 * 1024 * 1024;

export interface BoundedLogStreamOptions {
  /** Characters the output may hold unwritten; default DEFAULT_LOG_BACKLOG. */
  maxBacklog?: number;
  /** Called, on a later tick, once the output has taken everything after lines were dropped. */
  onCaughtUp?: (droppedLines: number) => void;
}

/**
 * pino's destination. Each line goes to `output` (process.stdout: a pipe or socket there is
 * written without blocking) and never waits for it; while the output lags more than
 * `maxBacklog` behind — a stuck log shipper — whole lines are dropped and counted. Unlike pino's
 * own destination it registers no synchronous flush at exit, so a stuck output cannot hold an
 * exiting process: what is still queued at exit is lost (flushWithin gives it a bounded chance).
 */
export class BoundedLogStream {
  private readonly maxBacklog: number;
  private droppedSinceCaughtUp = 0;
  private droppedTotal = 0;
  private broken = false;
  private readonly flushWaiters = new Set<(flushed: boolean) => void>();
  private readonly afterWrite = (err?: Error | null): void => this.written(err);

  constructor(
    private readonly output: Writable,
    private readonly options: BoundedLogStreamOptions = {},
  ) {
    this.maxBacklog = options.maxBacklog ?? DEFAULT_LOG_BACKLOG;
    // EPIPE and the like: nobody reads any more; without a listener the error would crash the process.
    output.on('error', () => this.break());
  }

  /** Lines dropped since the stream was made. */
  get droppedLines(): number {
    return this.droppedTotal;
  }

  /** Called by pino with one whole line. */
  write(line: string): void {
    if (this.broken || this.output.writableLength + line.length > this.maxBacklog) {
      this.droppedSinceCaughtUp++;
      this.droppedTotal++;
      // An idle output with nothing queued will call no write callback: report this drop now.
      if (!this.broken && this.output.writableLength === 0) process.nextTick(() => this.written());
      return;
    }
    this.output.write(line, this.afterWrite);
  }

  /** Resolves true once the output has taken every line written so far, false after `timeoutMs` or if it is broken. */
  flushWithin(timeoutMs: number): Promise<boolean> {
    if (this.broken) return Promise.resolve(false);
    if (this.output.writableLength === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (flushed: boolean): void => {
        clearTimeout(timer);
        this.flushWaiters.delete(finish);
        resolve(flushed);
      };
      const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs));
      this.flushWaiters.add(finish);
    });
  }

  private written(err?: Error | null): void {
    if (err) return this.break();
    if (this.output.writableLength > 0) return;
    for (const finish of [...this.flushWaiters]) finish(true);
    if (this.droppedSinceCaughtUp === 0) return;
    const dropped = this.droppedSinceCaughtUp;
    this.droppedSinceCaughtUp = 0;
    this.options.onCaughtUp?.(dropped);
  }

  private break(): void {
    this.broken = true;
    for (const finish of [...this.flushWaiters]) finish(false);
  }
}
