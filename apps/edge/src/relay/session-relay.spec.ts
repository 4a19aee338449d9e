import { PassThrough } from 'node:stream';
import { LocalBus } from '#bus';
import { AckReplySchema, encode, keepMessageText, sessionInSubject, type JsonRpcMessage } from '#contracts';
import { createLogger } from '#observability';
import { RouteTable } from './route-table.js';
import { SessionRelay } from './session-relay.js';
import { StreamRegistry } from './stream-registry.js';

const log = createLogger({ service: 'test', level: 'silent', destination: new PassThrough() });
const SESSION = 'AAAAAAAAAAAAAAAAAAAAAA';
const LIMIT = 2048;

describe('SessionRelay.send', () => {
  let bus: LocalBus;
  let relay: SessionRelay;
  let carried: string[];

  beforeEach(async () => {
    bus = new LocalBus({ maxPayloadBytes: LIMIT });
    const routes = new RouteTable(await bus.kv('routes', { ttlMs: 60_000 }), 60_000);
    relay = new SessionRelay(bus, routes, new StreamRegistry(bus, 'e1', log), log);
    carried = [];
    bus.subscribe(sessionInSubject('r1', SESSION), (msg) => {
      carried.push(Buffer.from(msg.data).toString('utf8'));
      msg.respond(encode(AckReplySchema, { ok: true }));
    });
  });
  afterEach(() => bus.close());

  /** A tools/call parsed from `text`, which it keeps, as the edge parses a client's lone message. */
  function written(text: string): JsonRpcMessage {
    const message = JSON.parse(text) as JsonRpcMessage;
    keepMessageText(message, text);
    return message;
  }
  const call = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { q: 'x'.repeat(LIMIT / 2) } },
  });

  it("carries a client's message as its text", async () => {
    const text = ` ${call.replace('"params":', '"params" : ')}\n`;
    expect(await relay.send('r1', SESSION, [written(text)])).toEqual({ ok: true });
    expect(carried).toEqual([`{"messages":[${text}]}`]);
  });

  it('stringifies a message whose text the bus could not carry, though its JSON fits', async () => {
    const text = `${call}${' '.repeat(LIMIT)}`;
    const message = written(text);
    expect(await relay.send('r1', SESSION, [message], undefined, true)).toEqual({ ok: true });
    expect(carried).toEqual([JSON.stringify({ messages: [message], answerInReply: true })]);
  });
});
