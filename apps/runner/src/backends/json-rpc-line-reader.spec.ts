import { MAX_JSON_DEPTH, type JsonRpcMessage, messageText } from '#contracts';
import { JsonRpcLineReader } from './json-rpc-line-reader.js';

function reader(maxMessageBytes = 1024) {
  const got = { messages: [] as JsonRpcMessage[], skipped: 0, failures: [] as string[] };
  const lines = new JsonRpcLineReader(maxMessageBytes, {
    message: (m) => got.messages.push(m),
    skipped: () => got.skipped++,
    failed: (reason) => got.failures.push(reason),
  });
  return { push: (text: string) => lines.push(Buffer.from(text)), got };
}

const ping = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"ping"}`;

describe('JsonRpcLineReader', () => {
  it('reads newline-delimited messages, CRLF included, split anywhere', () => {
    const { push, got } = reader();
    push(`${ping(1)}\r\n${ping(2).slice(0, 10)}`);
    push(`${ping(2).slice(10)}\n`);
    expect(got.messages).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
    ]);
    expect(got).toMatchObject({ skipped: 0, failures: [] });
    // Each message keeps the text of its line, for the bus to carry as it is.
    expect(got.messages.map(messageText)).toEqual([`${ping(1)}\r`, ping(2)]);
  });

  it('skips lines that are not JSON-RPC and reads on', () => {
    const { push, got } = reader();
    push(`starting up...\n{"hello":"world"}\n\n${ping(3)}\n`);
    expect(got.skipped).toBe(3);
    expect(got.messages).toEqual([{ jsonrpc: '2.0', id: 3, method: 'ping' }]);
  });

  it('fails once on a message over the limit, as soon as it passes the limit, and reads nothing after', () => {
    const { push, got } = reader(64);
    push(`{"jsonrpc":"2.0","id":1,"result":{"text":"${'x'.repeat(100)}`);
    expect(got.failures).toEqual(['the backend sent a message larger than 64 bytes']);
    push(`"}}\n${ping(4)}\n`);
    expect(got.messages).toEqual([]);
    expect(got.failures).toHaveLength(1);
  });

  it('accepts a message of exactly the limit', () => {
    const line = ping(5);
    const { push, got } = reader(Buffer.byteLength(line));
    push(`${line}\n`);
    expect(got.messages).toHaveLength(1);
    expect(got.failures).toEqual([]);
  });

  it('fails on a message nested deeper than MAX_JSON_DEPTH, not on brackets inside strings', () => {
    // The message object and `result` are two levels of the total.
    const nested = (total: number) => `{"jsonrpc":"2.0","id":1,"result":{"deep":${'['.repeat(total - 2)}${']'.repeat(total - 2)}}}`;
    const { push, got } = reader(1 << 20);
    push(`{"jsonrpc":"2.0","id":1,"result":{"text":"${'['.repeat(10_000)}"}}\n`);
    push(`${nested(MAX_JSON_DEPTH)}\n`);
    expect(got.messages).toHaveLength(2);
    push(`${nested(MAX_JSON_DEPTH + 1)}\n${ping(6)}\n`);
    expect(got.failures).toEqual([`the backend sent a message nested deeper than ${MAX_JSON_DEPTH} levels`]);
    expect(got.messages).toHaveLength(2);
  });
});
