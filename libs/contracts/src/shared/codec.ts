import { z } from 'zod';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

const decoder = new TextDecoder();

/**
 * What this process encoded, by its bytes, for the schemas marked with `trustInProcess`, once
 * `keepEncodedValues` was called. In-process (the all-in-one gateway's LocalBus) a subscriber
 * receives the publisher's very bytes, so `decode` hands it the typed value it was made from
 * instead of parsing and checking it again. The bytes of a payload are never written to after it
 * is encoded, nor its value.
 */
const encodedHere = new WeakMap<Uint8Array, { schema: z.ZodType<unknown>; value: unknown }>();
const trustedInProcess = new WeakSet<z.ZodType<unknown>>();
let keepingEncodedValues = false;

/**
 * For a process whose bus is in-process: from now on, what it encodes with a trusted schema is
 * decoded without being parsed again. Over NATS the bytes leave the process and come back as
 * others, so remembering them would only cost (a WeakMap entry per payload: as much again as the
 * encoding).
 */
export function keepEncodedValues(): void {
  keepingEncodedValues = true;
}

/**
 * Marks schemas whose values are checked before they are encoded, so that in-process they are not
 * checked again: the data plane's (every message of every call crosses them), built only from
 * input checked where it entered the process (a client's HTTP body at the edge, a backend's output
 * at the runner), and the audit trail's batches, whose records the runner checks before sending.
 * Every other payload is checked by its receiver, wherever it came from.
 */
export function trustInProcess(...schemas: z.ZodType<unknown>[]): void {
  for (const schema of schemas) trustedInProcess.add(schema);
}

/** Checks written by hand, by the schema they stand in for: see `checkByHand`. */
const handChecks = new WeakMap<z.ZodType<unknown>, (json: unknown) => boolean>();

/**
 * Gives a schema of the data plane a check written by hand. Over NATS every call's messages cross
 * these schemas at each end, and a lone call runs the schema's code cold, where it cost more than
 * the parse. `decode` takes a value the check accepts as it was parsed; anything else still goes
 * to the schema, for its verdict and its error. So a check must accept only what the schema
 * accepts and would give back unchanged (no member it strips), and a property test holds each one
 * to that.
 */
export function checkByHand<T>(schema: z.ZodType<T>, check: (json: unknown) => json is T): void {
  handChecks.set(schema, check);
}

/**
 * Serialises a payload for the bus. The schema types the value; it is checked where it is
 * received (decode), not twice on the hot path.
 */
export function encode<T>(schema: z.ZodType<T>, value: T): Uint8Array {
  return encodeJson(schema, value, JSON.stringify(value));
}

/**
 * As `encode`, for a value whose JSON text the caller has already made (joined from the texts of
 * its parts, each made once where it was measured), without stringifying the parts again. The
 * text must parse to `value`, as JSON.stringify's would; it need not be the same bytes.
 */
export function encodeJson<T>(schema: z.ZodType<T>, value: T, json: string): Uint8Array {
  // A Buffer from Node's pool: TextEncoder allocates an ArrayBuffer of its own for every payload,
  // which cost twice the JSON.stringify of a tool call's answer.
  const bytes = Buffer.from(json, 'utf8');
  if (keepingEncodedValues && trustedInProcess.has(schema)) encodedHere.set(bytes, { schema, value });
  return bytes;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses a payload at a receiving boundary; never throws. */
export function decode<T>(schema: z.ZodType<T>, data: Uint8Array): Decoded<T> {
  // Encoded by this process with the same schema: the value it was made from (shared, never mutated).
  const here = encodedHere.get(data);
  if (here?.schema === schema) return { ok: true, value: here.value as T };
  const text = decoder.decode(data);
  if (jsonNestedDeeperThan(text)) return { ok: false, error: `payload nests deeper than ${MAX_JSON_DEPTH} levels` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'payload is not JSON' };
  }
  if (handChecks.get(schema)?.(json)) return { ok: true, value: json as T };
  const result = schema.safeParse(json);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: z.prettifyError(result.error) };
}
