import { pino, type Logger } from 'pino';

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
  destination?: NodeJS.WritableStream;
}

/** One structured event per line, secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
