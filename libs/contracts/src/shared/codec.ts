import { z } from 'zod';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from './json-depth.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serialises a payload for the bus. The schema types the value; it is checked where it is
 * received (decode), not twice on the hot path.
 */
export function encode<T>(_schema: z.ZodType<T>, value: T): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses a payload at a receiving boundary; never throws. */
export function decode<T>(schema: z.ZodType<T>, data: Uint8Array): Decoded<T> {
  if (jsonNestedDeeperThan(data)) return { ok: false, error: `payload nests deeper than ${MAX_JSON_DEPTH} levels` };
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(data));
  } catch {
    return { ok: false, error: 'payload is not JSON' };
  }
  const result = schema.safeParse(json);
  return result.success ? { ok: true, value: result.data } : { ok: false, error: z.prettifyError(result.error) };
}
