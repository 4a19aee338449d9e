import type { SessionRelay } from './session-relay.js';

/** With requests pending, a dead runner is noticed within about this long. */
const BUSY_INTERVAL_MS = 1000;
/** An idle open stream still keeps its session alive and checks on its runner. */
const IDLE_INTERVAL_MS = 15000;
const TICK_MS = 250;

interface Watched {
  runnerId: string;
  watchers: number;
  busy: number;
  nextCheck: number;
  checking: boolean;
}

export interface WatchHandle {
  /** Marks requests pending (true) or answered (false); calls must pair up. */
  busy(pending: boolean): void;
  stop(): void;
}

/**
 * Touches the runner of every session that has a stream open here, often while requests are
 * pending: a runner that died without a word (SIGKILL) then ends the session within a second.
 */
export class SessionWatch {
  private readonly sessions = new Map<string, Watched>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly relay: SessionRelay,
    private readonly now: () => number = Date.now,
  ) {}

  watch(sessionId: string, runnerId: string): WatchHandle {
    const entry = this.sessions.get(sessionId) ?? { runnerId, watchers: 0, busy: 0, nextCheck: 0, checking: false };
    entry.watchers += 1;
    if (entry.nextCheck === 0) entry.nextCheck = this.now() + IDLE_INTERVAL_MS;
    this.sessions.set(sessionId, entry);
    this.ensureTimer();
    let stopped = false;
    return {
      busy: (pending) => {
        entry.busy += pending ? 1 : -1;
        if (pending) entry.nextCheck = Math.min(entry.nextCheck, this.now() + BUSY_INTERVAL_MS);
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        entry.watchers -= 1;
        if (entry.watchers === 0 && this.sessions.get(sessionId) === entry) this.sessions.delete(sessionId);
        if (this.sessions.size === 0) this.stopTimer();
      },
    };
  }

  stopAll(): void {
    this.sessions.clear();
    this.stopTimer();
  }

  private ensureTimer(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = this.now();
    for (const [sessionId, entry] of this.sessions) {
      if (entry.checking || entry.nextCheck > now) continue;
      entry.checking = true;
      entry.nextCheck = now + (entry.busy > 0 ? BUSY_INTERVAL_MS : IDLE_INTERVAL_MS);
      void this.relay
        .touch(entry.runnerId, sessionId)
        .catch(() => undefined)
        .finally(() => {
          entry.checking = false;
        });
    }
  }
}
