import { BusNoRespondersError, BusTimeoutError, type Bus, type BusMessage, type RequestOptions } from './bus.port.js';
import { ForwardingBus } from './forwarding-bus.js';

export type BusRequestOutcome = 'ok' | 'no_responders' | 'timeout' | 'error';

/** Told of every request's concrete subject, how it ended and how long it took. */
export type BusRequestObserver = (subject: string, outcome: BusRequestOutcome, seconds: number) => void;

/** A Bus that times its requests; everything else passes straight through. */
export class MeteredBus extends ForwardingBus {
  constructor(
    inner: Bus,
    private readonly observe: BusRequestObserver,
  ) {
    super(inner);
  }

  override async request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    const started = performance.now();
    try {
      const reply = await this.inner.request(subject, data, options);
      this.observe(subject, 'ok', (performance.now() - started) / 1000);
      return reply;
    } catch (err) {
      this.observe(subject, outcomeOf(err), (performance.now() - started) / 1000);
      throw err;
    }
  }
}

function outcomeOf(err: unknown): BusRequestOutcome {
  if (err instanceof BusNoRespondersError) return 'no_responders';
  if (err instanceof BusTimeoutError) return 'timeout';
  return 'error';
}
