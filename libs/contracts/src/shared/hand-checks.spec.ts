import { isDeepStrictEqual } from 'node:util';
import { jest } from '@jest/globals';
import fc from 'fast-check';
import type { z } from 'zod';
import { fuzzRun } from '#testing';
import { AuditKindSchema, AuditOutcomeSchema, AuditRecordSchema, isAuditRecord } from '../audit-append/index.js';
import { isSessionInRequest, isSessionInTaken, SessionInReplySchema, SessionInRequestSchema } from '../session-in/index.js';
import { isStreamMessage, StreamMessageSchema } from '../session-stream/index.js';
import { decode, encode } from './codec.js';
import { isBusJsonRpcMessage, JsonRpcMessageSchema } from './json-rpc.js';
import { isJsonObject } from './mcp-meta.js';

/** Mostly `valid`, sometimes one of `invalid`: a payload is then often right, and wrong in one place. */
const mostly = <T>(valid: fc.Arbitrary<T>, ...invalid: unknown[]) =>
  fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: fc.constantFrom(...invalid), weight: 1 });
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 4 });

/** Sometimes a member no contract has, or an own `__proto__`, put into the JSON text as a peer would. */
const withStray = <T>(value: fc.Arbitrary<T>) =>
  fc.tuple(value, fc.constantFrom(null, null, null, 'stray', '__proto__')).map(([v, stray]) => {
    const text = JSON.stringify(v) ?? 'null';
    if (stray === null || !text.startsWith('{')) return JSON.parse(text) as unknown;
    return JSON.parse(text === '{}' ? `{"${stray}":1}` : `{"${stray}":1,${text.slice(1)}`) as unknown;
  });

const message = withStray(
  fc.oneof(
    fc.record({ jsonrpc: mostly(fc.constant('2.0'), '1.0', 2, null), id: maybe(fc.nat()), result: maybe(fc.jsonValue({ maxDepth: 1 })) }),
    fc.jsonValue({ maxDepth: 1 }),
  ),
);
const event = withStray(
  fc.record({
    sessionId: mostly(fc.string({ maxLength: 3 }), 1, null),
    eventId: maybe(mostly(fc.string({ maxLength: 3 }), 2)),
    message: maybe(message),
    end: maybe(mostly(fc.constant(true), false, 'true')),
  }),
);
const request = withStray(
  fc.record({
    messages: mostly(fc.array(message, { minLength: 1, maxLength: 3 }), [], {}, 'm'),
    stream: maybe(mostly(fc.constantFrom('gh.edge.e1.stream.s1', 'gh.edge.e1.stream.'), 'gh.runner.r.x', 3)),
    answerInReply: maybe(mostly(fc.constant(true), false)),
  }),
);
const reply = withStray(
  fc.oneof(
    fc.record({ ok: mostly(fc.constant(true), false, 'true'), events: maybe(mostly(fc.array(event, { maxLength: 3 }), {})) }),
    fc.record({ ok: fc.constant(false), error: fc.record({ code: fc.constantFrom('BAD_REQUEST', 'NOPE'), message: fc.string() }) }),
  ),
);

/** The schema takes the value and gives it back as it was: what a check by hand may accept, and must, to be of use. */
function schemaKeepsAsIs(schema: z.ZodType<unknown>, value: unknown): boolean {
  const result = schema.safeParse(value);
  return result.success && isDeepStrictEqual(result.data, value);
}

const everything = () => true;

describe.each([
  { name: 'isBusJsonRpcMessage', check: isBusJsonRpcMessage, schema: JsonRpcMessageSchema, values: message, covers: everything },
  { name: 'isStreamMessage', check: isStreamMessage, schema: StreamMessageSchema, values: event, covers: everything },
  { name: 'isSessionInRequest', check: isSessionInRequest, schema: SessionInRequestSchema, values: request, covers: everything },
  // Only the reply that takes the messages: a refusal is rare, and its error is the schema's to read.
  {
    name: 'isSessionInTaken',
    check: isSessionInTaken,
    schema: SessionInReplySchema,
    values: reply,
    covers: (v: unknown) => isJsonObject(v) && v.ok === true,
  },
])('$name', ({ check, schema, values, covers }) => {
  it('accepts a parsed payload exactly when its schema accepts it and gives it back unchanged', () => {
    let accepted = 0;
    let refusedByBoth = 0;
    fc.assert(
      fc.property(values, (value) => {
        const expected = covers(value) && schemaKeepsAsIs(schema, value);
        expect(check(value)).toBe(expected);
        if (expected) accepted++;
        else if (!schema.safeParse(value).success) refusedByBoth++;
      }),
      fuzzRun(5_000),
    );
    // Neither side of the property holds because the generator only made one kind of payload.
    expect(accepted).toBeGreaterThan(fuzzRun(5_000).numRuns / 50);
    expect(refusedByBoth).toBeGreaterThan(fuzzRun(5_000).numRuns / 50);
  });
});

describe('isAuditRecord', () => {
  /** Short text, or text of about `max` characters: one under, at, and one over the bound. */
  const textUpTo = (max: number) =>
    maybe(
      fc.oneof(
        fc.string({ maxLength: 4 }),
        fc.constantFrom(max - 1, max, max + 1).map((n) => 'x'.repeat(n)),
        fc.constant(5),
      ),
    );
  /** Not through JSON, as withStray is: the runner checks its records as it made them, NaN and all. */
  const withStrayMember = <T extends object>(value: fc.Arbitrary<T>) =>
    fc.tuple(value, fc.boolean()).map(([v, stray]) => (stray ? { ...v, stray: 1 } : v));
  const count = maybe(mostly(fc.nat(), -1, 0.5, -0, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1'));
  const record = fc.oneof(
    {
      weight: 20,
      arbitrary: withStrayMember(
        fc.record(
          {
            id: maybe(mostly(fc.stringMatching(/^[A-Za-z0-9_-]{16,32}$/), 'short', 'x'.repeat(33), 'with spaces in it, quite long', 7)),
            at: mostly(fc.nat(), -1, 1.5, 2 ** 53, Number.NaN, '1'),
            kind: mostly(fc.constantFrom(...AuditKindSchema.options), 'tools/list', 1),
            outcome: mostly(fc.constantFrom(...AuditOutcomeSchema.options), 'fine'),
            sub: textUpTo(255),
            email: textUpTo(255),
            clientId: textUpTo(2048),
            server: textUpTo(255),
            name: textUpTo(2048),
            arguments: textUpTo(65_600),
            detail: textUpTo(1024),
            durationMs: count,
            requestBytes: count,
            errorCode: maybe(mostly(fc.integer(), 2 ** 53, -(2 ** 53), 1.5, Number.NaN, '1')),
          },
          { requiredKeys: ['at', 'kind', 'outcome'] },
        ),
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom(null, [], 'record', 1) },
  );

  it("gives the schema's verdict on any value", () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(record, (value) => {
        const expected = AuditRecordSchema.safeParse(value).success;
        expect(isAuditRecord(value)).toBe(expected);
        if (expected) accepted++;
        else refused++;
      }),
      fuzzRun(3_000),
    );
    expect(accepted).toBeGreaterThan(fuzzRun(3_000).numRuns / 50);
    expect(refused).toBeGreaterThan(fuzzRun(3_000).numRuns / 50);
  });
});

describe('decode with a check by hand', () => {
  const call = {
    messages: [{ jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'echo' } }],
    stream: 'gh.edge.e1.stream.s1',
  };

  it('takes what the check accepts, and gives the schema anything else, for its verdict and error', () => {
    expect(decode(SessionInRequestSchema, encode(SessionInRequestSchema, call))).toEqual({ ok: true, value: call });
    const stray = new TextEncoder().encode(JSON.stringify({ ...call, stray: 1 }));
    expect(decode(SessionInRequestSchema, stray)).toEqual({ ok: true, value: call });
    const wrong = new TextEncoder().encode(JSON.stringify({ ...call, stream: 'gh.runner.r1.x' }));
    expect(decode(SessionInRequestSchema, wrong)).toEqual({ ok: false, error: expect.stringContaining('stream') });
    const refusal = { ok: false as const, error: { code: 'BAD_REQUEST' as const, message: 'no' } };
    expect(decode(SessionInReplySchema, encode(SessionInReplySchema, refusal))).toEqual({ ok: true, value: refusal });
  });

  it('does not run the schema for a payload its check accepts, and does for one it refuses', () => {
    const safeParse = jest.spyOn(SessionInRequestSchema, 'safeParse');
    try {
      decode(SessionInRequestSchema, new TextEncoder().encode(JSON.stringify(call)));
      expect(safeParse).not.toHaveBeenCalled();
      decode(SessionInRequestSchema, new TextEncoder().encode(JSON.stringify({ ...call, stray: 1 })));
      expect(safeParse).toHaveBeenCalledTimes(1);
    } finally {
      safeParse.mockRestore();
    }
  });
});
