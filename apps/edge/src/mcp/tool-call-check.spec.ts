import { CallToolRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import type { JsonRpcMessage } from '#contracts';
import { fuzzRun } from '#testing';
import { isPlainToolCall } from './tool-call-check.js';

const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 3 });
/** Now and then `value`: a member clients seldom send. */
const rarely = <T>(value: fc.Arbitrary<T>) => fc.oneof({ arbitrary: fc.constant(undefined), weight: 5 }, { arbitrary: value, weight: 1 });
/** JSON text: mostly `valid`, sometimes one of `invalid`. */
const mostly = (valid: fc.Arbitrary<string>, ...invalid: string[]) =>
  fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
const json = (value: unknown) => JSON.stringify(value) ?? 'null';

/** An object's JSON text with some keys a schema may treat apart, as a client's JSON would carry them. */
const object = (values: fc.Arbitrary<unknown>) =>
  fc
    .array(fc.tuple(fc.constantFrom('a', 'b', 'constructor', '__proto__', 'toString', 'name'), values), { maxLength: 3 })
    .map((entries) => `{${entries.map(([k, v]) => `${json(k)}:${json(v)}`).join(',')}}`);

const progressToken = mostly(
  fc.oneof(fc.string({ maxLength: 4 }), fc.integer()).map(json),
  '1.5',
  'null',
  'true',
  String(2 ** 60),
  '[]',
  '{}',
);
const meta = mostly(
  fc
    .tuple(maybe(progressToken), fc.constantFrom(undefined, undefined, 'io.modelcontextprotocol/related-task', 'other'))
    .map(([token, key]) => {
      const entries = [
        ...(token === undefined ? [] : [`"progressToken":${token}`]),
        ...(key === undefined ? [] : [`${json(key)}:${key === 'other' ? '1' : '{"taskId":"t"}'}`]),
      ];
      return `{${entries.join(',')}}`;
    }),
  '[]',
  '"m"',
  'null',
);
/** JSON text of a string, or of a value of another type. */
const stringOr = (...others: string[]) => mostly(fc.string({ maxLength: 4 }).map(json), ...others);
const params = fc
  .record({
    name: maybe(stringOr('1', 'null', '{}')),
    arguments: maybe(mostly(object(fc.jsonValue({ maxDepth: 1 })), '[]', '"a"', 'null', '1')),
    _meta: maybe(meta),
    task: rarely(fc.constantFrom('{}', '{"ttl":5}', '{"ttl":"5"}')),
    other: rarely(fc.constantFrom('1', '"x"')),
  })
  .map((fields) => {
    const members = Object.entries(fields).filter(([, text]) => text !== undefined);
    return `{${members.map(([key, text]) => `${json(key)}:${text}`).join(',')}}`;
  });
const call = fc
  .tuple(mostly(params, '[]', '"p"', 'null'), fc.nat())
  .map(([p, id]) => JSON.parse(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${p}}`) as JsonRpcMessage);

const schemaAccepts = (message: JsonRpcMessage) => CallToolRequestSchema.safeParse(message).success;

describe('isPlainToolCall', () => {
  it('accepts only calls the MCP SDK schema accepts, and most of those it does', () => {
    let accepted = 0;
    let valid = 0;
    fc.assert(
      fc.property(call, (message) => {
        const plain = isPlainToolCall(message);
        const schema = schemaAccepts(message);
        if (plain) expect(schema).toBe(true);
        if (schema) valid += 1;
        if (plain) accepted += 1;
      }),
      fuzzRun(3000),
    );
    // Not a check that says no to everything: the shapes clients send are told apart here.
    expect(accepted).toBeGreaterThan(valid / 4);
  });

  it.each([
    ['a call with arguments', { name: 'echo', arguments: { message: 'hi' } }],
    ['a call without arguments', { name: 'list' }],
    ['a progress token', { name: 'echo', arguments: {}, _meta: { progressToken: 3 } }],
    ['a progress token that is a string', { name: 'echo', _meta: { progressToken: 'p-1' } }],
    [
      'arguments with keys an object has by inheritance',
      { name: 'echo', arguments: JSON.parse('{"constructor":"x","__proto__":{}}') as unknown },
    ],
  ])('accepts %s, as the schema does', (_, p) => {
    const message: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: p };
    expect(isPlainToolCall(message)).toBe(true);
    expect(schemaAccepts(message)).toBe(true);
  });

  it.each([
    ['no name', { arguments: {} }],
    ['a name that is no string', { name: 7 }],
    ['arguments that are an array', { name: 'echo', arguments: ['a'] }],
    ['a fractional progress token', { name: 'echo', _meta: { progressToken: 1.5 } }],
  ])('leaves %s to the schema, which refuses it', (_, p) => {
    const message: JsonRpcMessage = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: p };
    expect(isPlainToolCall(message)).toBe(false);
    expect(schemaAccepts(message)).toBe(false);
  });
});
