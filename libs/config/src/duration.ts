import { z } from 'zod';
import { messageOf } from './config-problem.js';

/** Milliseconds per unit of a Go duration (`time.ParseDuration` accepts both micro signs). */
const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** One `<number><unit>` component; longer units first so "ms" is not read as "m" + "s". */
const COMPONENT = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

export const DURATION_EXPECTED = 'expected a duration such as "500ms", "90s", "5m", "1h30m" or "720h"';

/**
 * Parses a Go-style duration ("90s", "5m", "1h30m", "500ms") into milliseconds, as
 * mcp-front's `time.ParseDuration` does; negative durations are rejected.
 */
export function parseDuration(text: string): number {
  const invalid = (why: string) => new Error(`invalid duration ${JSON.stringify(text)}: ${why}`);
  let rest = text;
  if (rest.startsWith('-')) throw invalid('must not be negative');
  if (rest.startsWith('+')) rest = rest.slice(1);
  if (rest === '0') return 0;
  if (rest === '') throw invalid(DURATION_EXPECTED);

  let ms = 0;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < rest.length) {
    const match = COMPONENT.exec(rest);
    if (!match) throw invalid(DURATION_EXPECTED);
    const [, amount, unit] = match;
    ms += Number(amount) * (UNIT_MS[unit ?? ''] ?? Number.NaN);
  }
  if (!Number.isFinite(ms)) throw invalid(DURATION_EXPECTED);
  // Round to whole nanoseconds so "1.1s" is 1100, not 1100.0000000000002.
  return Math.round(ms * 1e6) / 1e6;
}

/** A positive Go-style duration in the file, milliseconds in the parsed output. */
export const Duration = z.string().transform((text, ctx) => {
  try {
    const ms = parseDuration(text);
    if (ms > 0) return ms;
    ctx.addIssue({ code: 'custom', message: `expected a positive duration, got ${JSON.stringify(text)}` });
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: messageOf(error) });
  }
  return z.NEVER;
});
