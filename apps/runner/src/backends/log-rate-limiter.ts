export interface LogRate {
  /** Lines a second let through on average. */
  perSecond: number;
  /** Lines let through at once after a quiet spell. */
  burst: number;
  /** How often, while lines are being dropped, a summary of them is written. */
  summaryEveryMs: number;
}

/** A token bucket for one session's log lines, which summarizes what it dropped now and then. */
export class LogRateLimiter {
  private tokens: number;
  private refilledAt: number;
  private dropped = 0;
  private summaryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rate: LogRate,
    /** Writes "dropped N lines"; called at most once per `summaryEveryMs`, and at `close`. */
    private readonly summarize: (dropped: number) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = rate.burst;
    this.refilledAt = now();
  }

  /** Whether a line may be logged now; if not, it is counted for the next summary. */
  admit(): boolean {
    const now = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.refilledAt) * this.rate.perSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    this.dropped++;
    this.summaryTimer ??= setInterval(() => this.summarizeDropped(), this.rate.summaryEveryMs).unref();
    return false;
  }

  /** Writes the last summary, if anything was dropped since the one before. */
  close(): void {
    this.summarizeDropped();
    clearInterval(this.summaryTimer);
    this.summaryTimer = undefined;
  }

  private summarizeDropped(): void {
    if (this.dropped === 0) {
      // A quiet period: no timer until the next drop.
      clearInterval(this.summaryTimer);
      this.summaryTimer = undefined;
      return;
    }
    const dropped = this.dropped;
    this.dropped = 0;
    this.summarize(dropped);
  }
}
