import { decode, encode, SessionInReplySchema, type JsonRpcMessage, type StreamMessage } from '#contracts';
import { replyCarrying } from './session-messages.handler.js';

/** A result nested `depth` levels deep, counting the message object itself. */
function nested(depth: number): JsonRpcMessage {
  let value: unknown = 'x';
  for (let i = 0; i < depth - 2; i++) value = [value];
  return { jsonrpc: '2.0', id: 1, result: { value } };
}

const answer = (message: JsonRpcMessage): StreamMessage => ({ sessionId: 's1', eventId: 'k.1', message, end: true });
/** Events as a hold keeps them: each with its text. */
const held = (...events: StreamMessage[]) => ({ events, texts: events.map((event) => JSON.stringify(event)) });

describe('replyCarrying', () => {
  it('carries the events in a reply an edge reads back as they were (bytes from the network)', () => {
    const events = [
      { sessionId: 's1', eventId: 'k.1', message: { jsonrpc: '2.0' as const, method: 'notifications/progress', params: { progress: 1 } } },
      answer({ jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'é "quoted" \u2028' }] } }),
    ];
    const reply = replyCarrying(held(...events), 1 << 20);
    expect(reply).toBeDefined();
    expect(decode(SessionInReplySchema, Uint8Array.from(reply ?? []))).toEqual({ ok: true, value: { ok: true, events } });
    // Joined from the events' texts: the very bytes of encoding the reply whole.
    expect(Buffer.from(reply ?? []).equals(Buffer.from(encode(SessionInReplySchema, { ok: true, events })))).toBe(true);
  });

  it('is a plain acknowledgement when there is nothing to carry', () => {
    expect(decode(SessionInReplySchema, Uint8Array.from(replyCarrying(held(), 1 << 20) ?? []))).toEqual({ ok: true, value: { ok: true } });
  });

  it('carries nothing an edge would refuse: too deep inside the reply, or larger than the bus carries', () => {
    // Deep enough to pass as a stream message of its own, too deep two levels further down.
    const deep = answer(nested(62));
    expect(replyCarrying(held(answer(nested(2)), deep), 1 << 20)).toBeUndefined();
    // One level less: the reply is as deep as an edge reads.
    const deepest = answer(nested(61));
    const reply = replyCarrying(held(deepest), 1 << 20);
    expect(reply && decode(SessionInReplySchema, Uint8Array.from(reply)).ok).toBe(true);
    expect(replyCarrying(held(answer({ jsonrpc: '2.0', id: 1, result: { text: 'x'.repeat(2048) } })), 1024)).toBeUndefined();
  });
});
