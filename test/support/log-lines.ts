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
