import type { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { BoundedLogStream } from './bounded-log-stream.js';

export type { Logger } from 'pino';

/** Fields that may hold secrets: redacted by the logger, never by each call site. */
const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'codeVerifier',
  'clientSecret',
  'secret',
  'env',
  'headers.authorization',
  'headers.cookie',
  'headers["set-cookie"]',
  'headers["proxy-authorization"]',
  '*.authorization',
  '*.password',
  '*.token',
  '*.env',
  // A database driver's error carries the query's parameters: codes, verifiers, hashes.
  'err.parameters',
  'err.driverError.parameters',
  'err.query',
];

export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: string;
  /** Service name written on every line. */
  service: string;
  /** Where lines go; default stdout. Tests pass a stream to inspect output. */
  destination?: Writable;
  /** How far the destination may fall behind before lines are dropped; default DEFAULT_LOG_BACKLOG. */
  maxBacklog?: number;
  /** The id of the trace a line is written in, if any; given only when tracing is on. */
  traceId?: () => string | undefined;
}

/** One structured event per line, secrets redacted; a destination that lags loses lines, never blocks. */
export function createLogger(options: LoggerOptions): Logger {
  const stream = new BoundedLogStream(options.destination ?? process.stdout, {
    ...(options.maxBacklog !== undefined && { maxBacklog: options.maxBacklog }),
    onCaughtUp: (droppedLines) => logger.warn({ droppedLines }, `dropped ${droppedLines} log lines: the log output fell behind`),
  });
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(options.traceId && { mixin: traceIdMixin(options.traceId) }),
    },
    stream,
  );
  return logger;
}

function traceIdMixin(traceId: () => string | undefined): () => { traceId?: string } {
  return () => {
    const id = traceId();
    return id === undefined ? {} : { traceId: id };
  };
}

export interface LogFlush {
  /** Whether every line reached the destination in time. */
  flushed: boolean;
  /** Lines dropped since the logger was made. */
  droppedLines: number;
}

/** Gives `log`'s queued lines up to `timeoutMs` to reach the destination (before an exit, which drops the rest). */
export async function flushLogs(log: Logger, timeoutMs: number): Promise<LogFlush> {
  const stream = boundedStreamOf(log);
  if (!stream) return { flushed: true, droppedLines: 0 };
  return { flushed: await stream.flushWithin(timeoutMs), droppedLines: stream.droppedLines };
}

/** Lines `log` (or any logger sharing its destination) has dropped so far. */
export function droppedLogLines(log: Logger): number {
  return boundedStreamOf(log)?.droppedLines ?? 0;
}

/** Child loggers share their parent's stream, under pino's stream symbol. */
function boundedStreamOf(log: Logger): BoundedLogStream | undefined {
  const stream: unknown = Reflect.get(log, pino.symbols.streamSym);
  return stream instanceof BoundedLogStream ? stream : undefined;
}
