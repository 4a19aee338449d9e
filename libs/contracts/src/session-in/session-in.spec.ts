import fc from 'fast-check';
import { fuzzRun } from '#testing';
import { CONTRACT_SAMPLES } from '../contract-samples.fixture.js';
import { decode } from '../shared/codec.js';
import type { JsonRpcMessage } from '../shared/json-rpc.js';
import { keepMessageText } from '../shared/message-text.js';
import { SessionInRequestSchema, sessionInJson, type SessionInRequest } from './index.js';

const requests = CONTRACT_SAMPLES['SessionInRequestSchema']?.valid as fc.Arbitrary<SessionInRequest>;

/** `message` as a client may lay it out (indented, over several lines), parsed, with that text kept. */
function asWritten(message: JsonRpcMessage, indent: number): { message: JsonRpcMessage; text: string } {
  const text = ` ${JSON.stringify(message, null, indent)}\n`;
  const parsed = JSON.parse(text) as JsonRpcMessage;
  keepMessageText(parsed, text);
  return { message: parsed, text };
}

describe('sessionInJson', () => {
  it("carries each message's kept text, and parses to what JSON.stringify of the request would", () => {
    fc.assert(
      fc.property(requests, fc.array(fc.integer({ min: -1, max: 2 }), { minLength: 3, maxLength: 3 }), (request, indents) => {
        const written = request.messages.map((m, i) =>
          (indents[i] ?? -1) < 0 ? { message: m, text: undefined } : asWritten(m, indents[i] ?? 0),
        );
        const sent = { ...request, messages: written.map((w) => w.message) };
        const json = sessionInJson(sent);
        for (const { text } of written) if (text !== undefined) expect(json).toContain(text);
        expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(sent)));
        expect(decode(SessionInRequestSchema, Buffer.from(json))).toEqual({ ok: true, value: JSON.parse(JSON.stringify(sent)) });
      }),
      fuzzRun(500),
    );
  });

  it('stringifies a message with no kept text, and writes only the members that are set', () => {
    const message: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'ping' };
    expect(sessionInJson({ messages: [message] })).toBe(JSON.stringify({ messages: [message] }));
    expect(sessionInJson({ messages: [message], stream: undefined, answerInReply: true })).toBe(
      JSON.stringify({ messages: [message], answerInReply: true }),
    );
  });
});
