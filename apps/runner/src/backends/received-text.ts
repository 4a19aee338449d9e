import type { JsonRpcMessage } from '#contracts';

/**
 * The text a backend message was parsed from, kept by the message while the runner passes it on
 * unchanged, so that the bus carries that text instead of the message stringified again (on a
 * lone call's path, the runner's largest single cost). The runner never changes a message it has
 * parsed; what it makes anew (a filtered tools/list, an error) has no text here and is stringified.
 * JSON.parse reads the text as it read it here, so the edge gets the same message either way.
 */
const texts = new WeakMap<JsonRpcMessage, string>();

export function keepReceivedText(message: JsonRpcMessage, text: string): void {
  texts.set(message, text);
}

/** The text `message` was parsed from, when a backend's line reader made it. */
export function receivedText(message: JsonRpcMessage): string | undefined {
  return texts.get(message);
}
