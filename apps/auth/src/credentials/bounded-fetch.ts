/** Limits on every request auth makes to a service on a person's behalf (discovery, registration, tokens, revocation). */
export interface OutboundLimits {
  timeoutMs: number;
  maxBytes: number;
}

export const DEFAULT_OUTBOUND_LIMITS: OutboundLimits = { timeoutMs: 10_000, maxBytes: 256 * 1024 };

/** The request failed without an answer we may use: too slow, too large, unreachable. Its message names no URL and no body. */
export class OutboundFailure extends Error {
  override readonly name = 'OutboundFailure';
}

/**
 * A fetch for openid-client's `customFetch` and our own calls: no redirects followed, a deadline for
 * the whole exchange, and the body cut off (failing) past `maxBytes`. The answer is buffered.
 */
export function boundedFetch(limits: OutboundLimits = DEFAULT_OUTBOUND_LIMITS): (url: string, init?: RequestInit) => Promise<Response> {
  return async (url, init = {}) => {
    const signal = AbortSignal.timeout(limits.timeoutMs);
    try {
      const response = await fetch(url, { ...init, redirect: 'manual', signal: anyOf(signal, init.signal) });
      const body = await readLimited(response, limits.maxBytes);
      return new Response(nullBodyStatus(response.status) ? null : body, { status: response.status, headers: response.headers });
    } catch (err) {
      if (err instanceof OutboundFailure) throw err;
      if (signal.aborted) throw new OutboundFailure(`no answer within ${limits.timeoutMs / 1000} s`);
      throw new OutboundFailure(`could not be reached (${networkCode(err)})`);
    }
  };
}

async function readLimited(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new OutboundFailure(`answered with more than ${maxBytes} bytes`);
  }
  const chunks: Uint8Array[] = [];
  let received = 0;
  if (response.body === null) return new Uint8Array();
  const reader: ReadableStreamDefaultReader<unknown> = response.body.getReader();
  for (;;) {
    const { done, value }: { done: boolean; value?: unknown } = await reader.read();
    if (done) return Buffer.concat(chunks);
    if (!(value instanceof Uint8Array)) throw new OutboundFailure('answered with a body that is not bytes');
    received += value.byteLength;
    if (received > maxBytes) {
      await reader.cancel();
      throw new OutboundFailure(`answered with more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
}

function anyOf(signal: AbortSignal, other: AbortSignal | null | undefined): AbortSignal {
  return other ? AbortSignal.any([signal, other]) : signal;
}

const nullBodyStatus = (status: number) => status === 101 || status === 204 || status === 205 || status === 304;

/** Node's fetch wraps the socket error as `cause`; its code is safe to show, its message may carry an address. Duck-typed: errors may come from another realm. */
function networkCode(err: unknown): string {
  const cause: unknown = typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
  const code: unknown = typeof cause === 'object' && cause !== null && 'code' in cause ? cause.code : undefined;
  return typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code) ? code : 'network error';
}
