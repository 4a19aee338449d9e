import { JSONRPCMessageSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { fuzzRun } from '#testing';
import { isJsonRpcMessage } from './json-rpc.js';

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/** Mostly `valid`, sometimes one of `invalid`: a message is then often right, and wrong in one place. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...invalid: unknown[]) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
/** A member that is present, or (sometimes) left out. */
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 4 });

const id = mostly(fc.oneof(fc.string({ maxLength: 4 }), fc.integer()), 0.5, 2 ** 53, -(2 ** 53), Number.NaN, null, true, {});
const meta = fc.record(
  {
    progressToken: id,
    [RELATED_TASK]: mostly(
      fc.record({ taskId: fc.string({ maxLength: 3 }), extra: fc.nat() }, { requiredKeys: ['taskId'] }),
      null,
      {},
      { taskId: 1 },
    ),
    other: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);
/** params and result: an object with or without `_meta`. */
const withMeta = mostly(
  fc.record({ _meta: mostly(meta, null, [], 'm'), name: fc.string({ maxLength: 3 }) }, { requiredKeys: [] }),
  null,
  [],
  'x',
  3,
);
const errorObject = mostly(
  fc.record(
    {
      code: mostly(fc.integer({ min: -33000, max: -32000 }), 1.5, '1', null, 2 ** 60),
      message: mostly(fc.string({ maxLength: 3 }), 1, null),
      data: maybe(fc.jsonValue({ maxDepth: 1 })),
      extra: maybe(fc.nat()),
    },
    { requiredKeys: ['code', 'message'] },
  ),
  null,
  [],
  'oops',
);
const jsonrpc = mostly(fc.constant('2.0'), '1.0', 2, undefined);
const method = mostly(fc.constantFrom('tools/call', 'notifications/progress', ''), 1, null);
/** A stray member, now and then: the protocol defines none. */
const stray = fc.oneof(
  { arbitrary: fc.constant(null), weight: 5 },
  fc.constantFrom('stray', '__proto__', 'result', 'error', 'id', 'method'),
);

/** Each kind of message, mostly well formed, with a member wrong or missing or one too many now and then. */
const nearMessage = fc
  .tuple(
    fc.oneof(
      fc.record({ jsonrpc, id, method, params: maybe(withMeta) }),
      fc.record({ jsonrpc, method, params: maybe(withMeta) }),
      fc.record({ jsonrpc, id, result: withMeta }),
      fc.record({ jsonrpc, id: maybe(id), error: errorObject }),
    ),
    stray,
    fc.jsonValue({ maxDepth: 1 }),
  )
  .map(([message, key, value]) => {
    const copy: Record<string, unknown> = { ...message };
    for (const k of Object.keys(copy)) if (copy[k] === undefined && k !== 'jsonrpc') delete copy[k];
    if (key !== null) Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
    return copy;
  });

describe('isJsonRpcMessage', () => {
  it('accepts exactly what the MCP SDK’s JSONRPCMessageSchema accepts', () => {
    const fromJson = nearMessage.map((m) => JSON.parse(JSON.stringify(m)) as unknown);
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: nearMessage, weight: 3 }, { arbitrary: fromJson, weight: 3 }, fc.jsonValue({ maxDepth: 3 }), fc.anything()),
        (value) => {
          const expected = JSONRPCMessageSchema.safeParse(value).success;
          expect(isJsonRpcMessage(value)).toBe(expected);
          if (expected) accepted++;
        },
      ),
      fuzzRun(20_000),
    );
    // Not a property that holds because almost nothing is accepted: a good share of the cases are messages.
    expect(accepted).toBeGreaterThan(fuzzRun(20_000).numRuns / 10);
  });

  it('accepts each kind of message, and refuses what the protocol does not define', () => {
    const accepted = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', _meta: { progressToken: 'p' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 'a', result: {} },
      { jsonrpc: '2.0', id: 2, error: { code: -32601, message: 'no such method' } },
      { jsonrpc: '2.0', error: { code: -32700, message: 'parse error', data: { line: 1 } } },
    ];
    const refused = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', extra: true },
      { jsonrpc: '2.0', id: 1.5, method: 'ping' },
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } },
      { jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'both' } },
      { jsonrpc: '2.0', id: 1, method: 'ping', params: [] },
      { jsonrpc: '2.0', id: 1, result: { _meta: { progressToken: 1.5 } } },
      { jsonrpc: '1.0', id: 1, method: 'ping' },
      [{ jsonrpc: '2.0', method: 'notifications/initialized' }],
    ];
    for (const m of accepted) expect(isJsonRpcMessage(m)).toBe(true);
    for (const m of refused) expect(isJsonRpcMessage(m)).toBe(false);
  });
});
