import type { JsonRpcMessage } from './json-rpc.js';

/**
 * The JSON text a message was parsed from or written as, kept by the message, so that it is not
 * stringified again on its way: a client's message from its HTTP body at the edge, a backend's
 * from its line at the runner, a request as a stdio backend was sent it. A message is never
 * changed once it has been parsed or written; what is made anew (a filtered tools/list, an error,
 * a request with a trace context added) has its own text or none. A text parses to the message
 * as JSON.stringify's would, with V8's JSON.parse, where the runner and the edge read it; it need
 * not be the same bytes (a client's may have whitespace, line breaks, or two members of one name,
 * of which JSON.parse keeps the last). So a backend is always written JSON.stringify's text, never
 * a client's: its parser may read that text otherwise than the runner's checks and audit did.
 */
const texts = new WeakMap<JsonRpcMessage, string>();

export function keepMessageText(message: JsonRpcMessage, text: string): void {
  texts.set(message, text);
}

/** The text `message` was parsed from or written as, when one was kept. */
export function messageText(message: JsonRpcMessage): string | undefined {
  return texts.get(message);
}

/** The message's JSON: its kept text, else JSON.stringify's. */
export function messageJson(message: JsonRpcMessage): string {
  return texts.get(message) ?? JSON.stringify(message);
}
