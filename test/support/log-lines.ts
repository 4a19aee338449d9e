/** pino's numeric levels: error and fatal. */
const ERROR_LEVEL = 50;

export interface LogLine {
  level: number;
  msg: string;
  /** When it was logged (epoch ms), from pino's `time`; NaN if it has none. */
  time: number;
  /** The whole line as written. */
  raw: string;
}

/** The pino JSON lines of a process's output; other lines (a crash's stack, a warning) are skipped. */
export function logLines(output: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const raw of output.split('\n')) {
    if (!raw.startsWith('{')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || !('level' in parsed) || typeof parsed.level !== 'number') continue;
    const msg = 'msg' in parsed && typeof parsed.msg === 'string' ? parsed.msg : '';
    const time = 'time' in parsed ? new Date(String(parsed.time)).getTime() : NaN;
    lines.push({ level: parsed.level, msg, time, raw });
  }
  return lines;
}

/** Lines logged at error or fatal level. */
export function errorLines(output: string): LogLine[] {
  return logLines(output).filter((line) => line.level >= ERROR_LEVEL);
}

/** Reads a process's output from where the last read stopped: which lines a step added. */
export class OutputCursor {
  private offset = 0;

  constructor(private readonly output: () => string) {}

  /** Everything written since the previous call. */
  next(): string {
    const text = this.output();
    const added = text.slice(this.offset);
    this.offset = text.length;
    return added;
  }
}

/** A process whose output is watched, by the name a report gives it. */
export interface WatchedProcess {
  name: string;
  output(): string;
}

/** An error-level line and the case that was in flight when it was logged. */
export interface BlamedLine<Case> {
  culprit: Case | undefined;
  process: string;
  line: LogLine;
}

/**
 * Watches processes' output for error-level lines while cases run one after another, and blames
 * each line on the case in flight when it was logged (by its pino time), even when it reaches
 * the test after the next case started. Cases start in a later millisecond than the previous one
 * ended, so a millisecond time is never ambiguous.
 */
export class ErrorLogWatch<Case> {
  private readonly cursors: { name: string; cursor: OutputCursor }[];
  private readonly history: { startedAt: number; culprit: Case }[] = [];
  private lastEndedAt = 0;

  constructor(processes: readonly WatchedProcess[]) {
    this.cursors = processes.map((p) => ({ name: p.name, cursor: new OutputCursor(() => p.output()) }));
    for (const { cursor } of this.cursors) cursor.next();
  }

  async started(culprit: Case): Promise<void> {
    while (Date.now() <= this.lastEndedAt) await new Promise((resolve) => setImmediate(resolve));
    this.history.push({ startedAt: Date.now(), culprit });
    if (this.history.length > 100) this.history.shift();
  }

  ended(): void {
    this.lastEndedAt = Date.now();
  }

  /** The error-level lines written since the last call, each with its culprit. */
  take(): BlamedLine<Case>[] {
    return this.cursors.flatMap(({ name, cursor }) =>
      errorLines(cursor.next()).map((line) => ({ culprit: this.culpritAt(line.time), process: name, line })),
    );
  }

  private culpritAt(time: number): Case | undefined {
    // A line without a time is blamed on the latest case.
    for (let i = this.history.length - 1; i >= 0; i--) {
      const entry = this.history[i];
      if (entry && (Number.isNaN(time) || entry.startedAt <= time)) return entry.culprit;
    }
    return undefined;
  }
}
