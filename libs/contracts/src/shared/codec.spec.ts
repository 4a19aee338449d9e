import { SessionOpenRequestSchema } from '../session-open/index.js';
import { DeliveryReplySchema, StreamMessageSchema } from '../session-stream/index.js';
import { decode, encode, keepEncodedValues } from './codec.js';

const open = {
  sessionId: 'AAAAAAAAAAAAAAAAAAAAAA',
  server: 'db',
  principal: { sub: 'bearer:x', method: 'bearer' as const },
  transport: 'streamable-http' as const,
  initialize: { jsonrpc: '2.0' as const, id: 1, method: 'initialize' },
};

describe('codec', () => {
  it('round-trips a payload', () => {
    expect(decode(SessionOpenRequestSchema, encode(SessionOpenRequestSchema, open))).toEqual({ ok: true, value: open });
  });

  it('hands back the value a trusted schema encoded, unparsed, for the very bytes and the same schema only, once the process keeps them', () => {
    const event = { sessionId: 's1', eventId: 'k.1', message: { jsonrpc: '2.0' as const, id: 1, result: {} }, end: true as const };
    // Not kept (a process on NATS): its own bytes are parsed like anyone's.
    const before = decode(StreamMessageSchema, encode(StreamMessageSchema, event));
    expect(before).toEqual({ ok: true, value: event });
    expect(before.ok && before.value).not.toBe(event);
    keepEncodedValues();
    const bytes = encode(StreamMessageSchema, event);
    const here = decode(StreamMessageSchema, bytes);
    expect(here.ok && here.value).toBe(event);
    // A copy (bytes from the network) is parsed and checked: a new value, equal to the old.
    const copied = decode(StreamMessageSchema, bytes.slice());
    expect(copied.ok && copied.value).not.toBe(event);
    expect(copied).toEqual({ ok: true, value: event });
    // Read with another schema, the bytes are checked against it.
    expect(decode(DeliveryReplySchema, bytes)).toMatchObject({ ok: false });
  });

  it('checks every payload of a schema not trusted in-process, even its own bytes', () => {
    const bytes = encode(SessionOpenRequestSchema, open);
    const again = decode(SessionOpenRequestSchema, bytes);
    expect(again).toEqual({ ok: true, value: open });
    expect(again.ok && again.value).not.toBe(open);
    const wrong = encode(SessionOpenRequestSchema, { ...open, sessionId: 'not an id' });
    expect(decode(SessionOpenRequestSchema, wrong)).toMatchObject({ ok: false });
  });

  it('refuses bytes that are not JSON, without throwing', () => {
    expect(decode(SessionOpenRequestSchema, new TextEncoder().encode('{nope'))).toEqual({ ok: false, error: 'payload is not JSON' });
  });

  it('refuses a payload nested deeper than the limit, without recursing', () => {
    const deep = new TextEncoder().encode(
      JSON.stringify({ ...open, initialize: { ...open.initialize, params: {} } }).replace(
        '"params":{}',
        `"params":${'['.repeat(10_000)}${']'.repeat(10_000)}`,
      ),
    );
    expect(decode(SessionOpenRequestSchema, deep)).toEqual({ ok: false, error: 'payload nests deeper than 64 levels' });
  });

  it('refuses a payload that does not match the schema, naming the field', () => {
    const wrong = new TextEncoder().encode(JSON.stringify({ ...open, principal: { sub: '', method: 'magic' } }));
    const result = decode(SessionOpenRequestSchema, wrong);
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.error).toContain('principal');
  });
});
