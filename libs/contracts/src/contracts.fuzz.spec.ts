import fc from 'fast-check';
import { z } from 'zod';
import { assertFuzz, fuzzRun } from '#testing';
import { CONTRACT_SAMPLES } from './contract-samples.fixture.js';
import * as contracts from './index.js';
import { decode, encode } from './shared/codec.js';
import { MAX_JSON_DEPTH } from './shared/json-depth.js';

const RUNS = fuzzRun(150);
const TIME_LIMIT_MS = 20_000;
const utf8 = new TextEncoder();

/** Every zod schema #contracts exports, by name: new contracts are fuzzed without being listed. */
const exportedSchemas: [string, z.ZodType][] = [];
for (const [name, value] of Object.entries(contracts)) if (value instanceof z.ZodType) exportedSchemas.push([name, value]);

/** decode's answer is one of its two shapes, and what it accepts the schema accepts. */
function expectWellFormed(schema: z.ZodType, result: unknown): void {
  const decoded = z.union([
    z.object({ ok: z.literal(true), value: z.unknown() }),
    z.object({ ok: z.literal(false), error: z.string().min(1) }),
  ]);
  const shape = decoded.parse(result);
  if (shape.ok) expect(schema.safeParse(shape.value).success).toBe(true);
}

/** Valid JSON text made of a payload with one value replaced by `depth` nested arrays. */
const deeplyNested = fc
  .tuple(fc.integer({ min: MAX_JSON_DEPTH + 1, max: 10_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `{"jsonrpc":"2.0","id":1,"x":${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}}`);

/** A valid payload's bytes with a few bytes overwritten, inserted or cut. */
function mutatedBytes(valid: fc.Arbitrary<unknown>): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(
      valid,
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('set', 'insert', 'cut')), {
        minLength: 1,
        maxLength: 4,
      }),
    )
    .map(([value, edits]) => {
      const bytes = [...utf8.encode(JSON.stringify(value))];
      for (const [at, byte, edit] of edits) {
        const i = at % (bytes.length + 1);
        if (edit === 'set') bytes[Math.min(i, bytes.length - 1)] = byte;
        else if (edit === 'insert') bytes.splice(i, 0, byte);
        else bytes.splice(i, 1);
      }
      return Uint8Array.from(bytes);
    });
}

describe('bus contracts under fuzzing', () => {
  it('has valid and invalid samples for every exported schema', () => {
    const missing = exportedSchemas.map(([name]) => name).filter((name) => CONTRACT_SAMPLES[name] === undefined);
    expect(missing).toEqual([]);
    expect(exportedSchemas.length).toBeGreaterThanOrEqual(20);
  });

  describe.each(exportedSchemas)('%s', (name, schema) => {
    it('decodes arbitrary bytes without throwing', async () => {
      await assertFuzz(
        fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => expectWellFormed(schema, decode(schema, bytes))),
        RUNS,
        TIME_LIMIT_MS,
      );
    });

    it('accepts arbitrary JSON exactly when the schema does', async () => {
      await assertFuzz(
        fc.property(fc.jsonValue({ maxDepth: 4 }), (json) => {
          const result = decode(schema, utf8.encode(JSON.stringify(json)));
          expectWellFormed(schema, result);
          expect(result.ok).toBe(schema.safeParse(json).success);
        }),
        RUNS,
        TIME_LIMIT_MS,
      );
    });

    it('refuses JSON nested deeper than the limit, up to 10,000 levels, without recursing', async () => {
      await assertFuzz(
        fc.property(deeplyNested, (text) => {
          expect(decode(schema, utf8.encode(text))).toEqual({ ok: false, error: `payload nests deeper than ${MAX_JSON_DEPTH} levels` });
        }),
        { ...RUNS, numRuns: Math.min(RUNS.numRuns, 50) },
        TIME_LIMIT_MS,
      );
    });

    const samples = CONTRACT_SAMPLES[name];
    if (samples === undefined) return;

    it('round-trips valid payloads unchanged', async () => {
      await assertFuzz(
        fc.property(samples.valid, (value) => {
          expect(decode(schema, encode(schema, value))).toEqual({ ok: true, value });
        }),
        RUNS,
        TIME_LIMIT_MS,
      );
    });

    it('refuses payloads that break the contract, saying why', async () => {
      await assertFuzz(
        fc.property(samples.invalid, (value) => {
          const result = decode(schema, utf8.encode(JSON.stringify(value)));
          expect(result).toEqual({ ok: false, error: expect.any(String) });
        }),
        RUNS,
        TIME_LIMIT_MS,
      );
    });

    it('decodes mutated bytes of valid payloads without throwing', async () => {
      await assertFuzz(
        fc.property(mutatedBytes(samples.valid), (bytes) => expectWellFormed(schema, decode(schema, bytes))),
        RUNS,
        TIME_LIMIT_MS,
      );
    });
  });
});
