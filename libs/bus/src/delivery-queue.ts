import type { BusHandler, BusMessage } from './bus.port.js';
import type { BusErrorListener } from './bus-errors.js';

/**
 * One subscription's inbox, shared by both adapters: messages are handled one at a time in
 * arrival order, never inside the publishing (or socket-reading) call, and a failing handler is
 * reported and skipped.
 */
export class DeliveryQueue {
  private readonly pending: BusMessage[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly handler: BusHandler,
    private readonly report: BusErrorListener,
  ) {}

  push(msg: BusMessage): void {
    if (this.stopped) return;
    this.pending.push(msg);
    this.running ??= this.run();
  }

  /** Drops messages not yet handled; the one in progress finishes. */
  stop(): void {
    this.stopped = true;
    this.pending.length = 0;
  }

  /** Resolves once every message pushed so far has been handled. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(): Promise<void> {
    // a macrotask, like a socket read, so publishers never run handlers and loops cannot starve I/O
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let msg = this.pending.shift(); msg !== undefined && !this.stopped; msg = this.pending.shift()) {
      try {
        await this.handler(msg);
      } catch (err) {
        this.report(err, msg.subject);
      }
    }
    this.running = null;
  }
}
