import type { JsonRpcMessage } from '#contracts';

/**
 * The JSON text of a message the runner has read from a backend or written to one, kept by the
 * message, so that it is not stringified again: a backend's message passed on unchanged leaves on
 * the bus as that text (on a lone call's path, the runner's largest single cost), and a request's
 * audit record measures the text its backend was sent. The runner never changes a message once it
 * has been read or written; what it makes anew (a filtered tools/list, an error, a request with a
 * trace context added) has its own text or none. JSON.parse reads the text as it read it here, so
 * the edge gets the same message either way.
 */
const texts = new WeakMap<JsonRpcMessage, string>();

export function keepMessageText(message: JsonRpcMessage, text: string): void {
  texts.set(message, text);
}

/** The text `message` was parsed from or written as, when a stdio backend's reader or writer made it. */
export function messageText(message: JsonRpcMessage): string | undefined {
  return texts.get(message);
}
