import { headers as natsHeaders, type Msg, type MsgHdrs } from '@nats-io/transport-node';
import type { BusHeaders, BusMessage } from './bus.port.js';
import { normalizeHeaders } from './bus-arguments.js';

/** NATS headers for `headers`, or undefined when there are none. */
export function toNatsHeaders(headers: BusHeaders | undefined): MsgHdrs | undefined {
  const entries = Object.entries(normalizeHeaders(headers));
  if (entries.length === 0) return undefined;
  const out = natsHeaders();
  for (const [name, value] of entries) out.set(name, value);
  return out;
}

/** First value of each header; a Bus header carries one value. */
export function fromNatsHeaders(headers: MsgHdrs | undefined): BusHeaders {
  return Object.fromEntries((headers?.keys() ?? []).map((name) => [name, headers?.get(name) ?? '']));
}

/** Adapts a NATS message; `respond` publishes an answer to its reply subject. */
export function toBusMessage(msg: Msg, respond: (reply: string, data: Uint8Array, headers: BusHeaders | undefined) => void): BusMessage {
  return {
    subject: msg.subject,
    data: msg.data,
    headers: fromNatsHeaders(msg.headers),
    respond(data: Uint8Array, headers?: BusHeaders): boolean {
      if (!msg.reply) return false;
      respond(msg.reply, data, headers);
      return true;
    },
  };
}
