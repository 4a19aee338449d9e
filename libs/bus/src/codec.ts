const encoder = new TextEncoder();
// fatal: a payload that is not UTF-8 is as bad as one that is not JSON
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The payload is not UTF-8 JSON. */
export class BusDecodeError extends Error {
  readonly code = 'BUS_BAD_JSON';
  constructor(cause: unknown) {
    super('payload is not valid JSON', { cause });
  }
}

/** JSON bytes for `value`; `undefined` encodes as `null` so every reply has a body. */
export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value) ?? 'null');
}

/** The value encoded in `data`; throws BusDecodeError on anything but UTF-8 JSON. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new BusDecodeError(err);
  }
}
