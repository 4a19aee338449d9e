import type { BusHandler, BusMessage } from './bus.port.js';
import type { BusErrorListener } from './bus-errors.js';

/**
 * One subscription's inbox, shared by both adapters: messages are handled one at a time in
 * arrival order, never inside the publishing (or socket-reading) call, and a failing handler is
 * reported and skipped.
 *
 * How an idle inbox starts: LocalBus's messages come from a publish, so their handlers wait for a
 * macrotask, as if read from a socket: a publisher never runs handlers, and handlers that publish
 * to each other cannot starve I/O. NatsBus's come in a socket read already, so they wait only
 * until nats.js has read the rest of it: waiting for the turn's check phase as well delayed every
 * message on a lone call's path (bench/notes.md, the tenth round).
 */
export class DeliveryQueue {
  private readonly pending: BusMessage[] = [];
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly handler: BusHandler,
    private readonly report: BusErrorListener,
    private readonly start: 'next-turn' | 'after-read' = 'next-turn',
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
    if (this.start === 'next-turn') await new Promise<void>((resolve) => setImmediate(resolve));
    else await Promise.resolve();
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
