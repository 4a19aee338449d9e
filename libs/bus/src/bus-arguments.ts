import { BusPayloadTooLargeError } from './bus-errors.js';
import type { BusHeaders } from './bus.port.js';
import { BusInvalidArgumentError } from './bus-errors.js';

// Both adapters apply the same rules, so a name that works in all-in-one mode works over NATS too.
const TOKEN = /^[^\s.*>]+$/;
const SUBJECT = /^[^\s.*>]+(\.[^\s.*>]+)*$/;
const KV_KEY = /^[-/=\w]+(\.[-/=\w]+)*$/;
const BUCKET = /^[-\w]+$/;
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const HEADER_VALUE = /^[^\r\n]*$/;
/** All of a message's headers as NATS writes them (`name: value\r\n` each): a bound of our own, since they ride beside the payload. */
export const MAX_HEADER_BYTES = 8 * 1024;
/** JetStream refuses a max_age below 100 ms. */
export const MIN_KV_TTL_MS = 100;

function invalid(message: string): never {
  throw new BusInvalidArgumentError(message);
}

/** A concrete subject to publish to: dot-separated tokens, no wildcards or whitespace. */
export function assertSubject(subject: string): void {
  if (!SUBJECT.test(subject)) invalid(`invalid subject: ${JSON.stringify(subject)}`);
}

/** A subscription subject: like a subject, but `*` may stand for a token and `>` for the tail. */
export function assertPattern(pattern: string): void {
  const tokens = pattern.split('.');
  const ok = tokens.every((t, i) => TOKEN.test(t) || t === '*' || (t === '>' && i === tokens.length - 1));
  if (!ok) invalid(`invalid subject pattern: ${JSON.stringify(pattern)}`);
}

export function assertQueue(queue: string): void {
  if (!/^[^\s]+$/.test(queue)) invalid(`invalid queue group: ${JSON.stringify(queue)}`);
}

/** The limit both adapters apply unless told otherwise: NATS's default max_payload. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

export function assertPayload(data: Uint8Array, limit: number): void {
  if (data.byteLength > limit) throw new BusPayloadTooLargeError(data.byteLength, limit);
}

export function assertTimeout(timeoutMs: number): void {
  if (!Number.isFinite(timeoutMs) || timeoutMs < 1) invalid(`invalid request timeout: ${timeoutMs}`);
}

export function assertBucket(bucket: string, ttlMs: number): void {
  if (!BUCKET.test(bucket)) invalid(`invalid bucket name: ${JSON.stringify(bucket)}`);
  if (!Number.isInteger(ttlMs) || ttlMs < MIN_KV_TTL_MS) invalid(`invalid bucket ttl: ${ttlMs} (minimum ${MIN_KV_TTL_MS} ms)`);
}

export function assertKey(key: string): void {
  if (!KV_KEY.test(key)) invalid(`invalid key: ${JSON.stringify(key)}`);
}

/** A validated copy; values are trimmed because the NATS wire format trims them. */
export function normalizeHeaders(headers: BusHeaders | undefined): BusHeaders {
  if (headers === undefined) return {};
  const entries = Object.entries(headers);
  let bytes = 0;
  for (const [name, value] of entries) {
    if (!HEADER_NAME.test(name)) invalid(`invalid header name: ${JSON.stringify(name)}`);
    if (!HEADER_VALUE.test(value)) invalid(`invalid value for header ${name}`);
    bytes += name.length + Buffer.byteLength(value) + 4;
  }
  if (bytes > MAX_HEADER_BYTES) invalid(`headers of ${bytes} bytes exceed the limit of ${MAX_HEADER_BYTES} bytes`);
  return Object.fromEntries(entries.map(([name, value]) => [name, value.trim()]));
}

/**
 * Whether a subject matches a subscription pattern (`*` one token, `>` one or more trailing), both
 * split at their dots.
 */
export function matchesTokens(want: readonly string[], have: readonly string[]): boolean {
  for (let i = 0; i < want.length; i++) {
    if (want[i] === '>') return have.length > i;
    if (i >= have.length || (want[i] !== '*' && want[i] !== have[i])) return false;
  }
  return want.length === have.length;
}
