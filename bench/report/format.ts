/** How the benchmark page writes figures: one place, so a missing or broken figure always reads "—", never NaN. */

/** Shown for a figure the run did not produce (a missing row, a zero denominator, a non-finite value). */
export const MISSING = '—';

const KIB = 1024;
const MIB = 1024 * 1024;

function known(value: number | undefined): value is number {
  return value !== undefined && Number.isFinite(value);
}

/** Milliseconds with two decimals: "1.84". */
export function milliseconds(value: number | undefined): string {
  return known(value) ? value.toFixed(2) : MISSING;
}

/** A signed difference in milliseconds: "+12.30", "-0.41", "0.00". */
export function signedMilliseconds(value: number | undefined): string {
  if (!known(value)) return MISSING;
  const text = Math.abs(value).toFixed(2);
  if (text === '0.00') return text;
  return value > 0 ? `+${text}` : `-${text}`;
}

const WHOLE = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A rate as a whole number, thousands grouped: "2,540". */
export function perSecond(value: number | undefined): string {
  return known(value) ? WHOLE.format(value) : MISSING;
}

/** numerator ÷ denominator with two decimals: "4.00×"; "—" when either is missing or the denominator is not positive. */
export function ratio(numerator: number | undefined, denominator: number | undefined): string {
  if (!known(numerator) || !known(denominator) || denominator <= 0) return MISSING;
  return `${(numerator / denominator).toFixed(2)}×`;
}

/** A rate with its unit: "2,540/s". */
export function rate(value: number | undefined): string {
  return `${perSecond(value)}/s`;
}

/** Bytes in decimal kilobytes, one decimal, as the targets state them: "27.2 KB", "— KB". */
export function kilobytes(value: number | undefined): string {
  return `${known(value) ? (value / 1000).toFixed(1) : MISSING} KB`;
}

/** Bytes in decimal megabytes, one decimal: "158.5 MB", "— MB". */
export function megabytes(value: number | undefined): string {
  return `${known(value) ? (value / 1e6).toFixed(1) : MISSING} MB`;
}

/** Bytes in KiB below one MiB, in MiB above, one decimal: "204.8 KiB", "80.0 MiB". */
export function bytes(value: number | undefined): string {
  if (!known(value)) return MISSING;
  return Math.abs(value) >= MIB ? `${(value / MIB).toFixed(1)} MiB` : kibibytes(value);
}

/** Bytes in KiB, one decimal: "12.3 KiB". */
export function kibibytes(value: number | undefined): string {
  return known(value) ? `${(value / KIB).toFixed(1)} KiB` : MISSING;
}

/** Wall-clock seconds as "12 min 34 s" (or "48 s"). */
export function duration(seconds: number): string {
  if (!known(seconds) || seconds < 0) return MISSING;
  const whole = Math.round(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes} min ${whole % 60} s` : `${whole} s`;
}

/** A setting in milliseconds as seconds: "2 s", "1.2 s". */
export function seconds(ms: number): string {
  return `${(ms / 1000).toLocaleString('en-US')} s`;
}

/** An ISO 8601 time as "2026-05-02 09:14 UTC"; the input as given when it does not parse. */
export function runTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A share of a whole as a whole percentage: "97%". */
export function share(value: number | undefined): string {
  return known(value) ? `${Math.round(100 * value)}%` : MISSING;
}
