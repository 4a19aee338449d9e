import fc from 'fast-check';
import { CONTRACT_SAMPLES } from '../../libs/contracts/src/contract-samples.fixture.js';
import { sometimes } from './fuzz-arbitraries.js';
import type { BusTarget, SubjectContract } from './bus-fuzz-targets.js';
import { contractOf } from './bus-fuzz-targets.js';

/** One message an attacker on the bus sends: to a service's subject, as a request or not. */
export interface BusAction {
  subject: string;
  payload: string | Uint8Array;
  mode: 'request' | 'publish';
  headers?: Record<string, string>;
  /** A reply subject of the attacker's choosing on a publish: the service answers there. */
  reply?: string;
}

const utf8 = new TextEncoder();
const token = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
  fc.stringMatching(/^[a-z0-9]{1,12}$/),
  fc.constantFrom('default', 'gh', 'session', 'in', 'close', 'touch', 'ping', 'open', 'stream', 'x'.repeat(300)),
);

/** The subject with one of its tokens replaced: another session, runner, stream or verb. */
function retargeted(subject: string): fc.Arbitrary<string> {
  const tokens = subject.split('.');
  return fc.tuple(fc.nat({ max: tokens.length - 1 }), token).map(([i, t]) => tokens.map((old, j) => (j === i ? t : old)).join('.'));
}

const randomSubject = fc.oneof(
  fc.array(token, { minLength: 1, maxLength: 6 }).map((tokens) => `gh.${tokens.join('.')}`),
  fc.constantFrom(
    'gh.auth.http',
    'gh.auth.jwks.get',
    'gh.auth.revocations.list',
    'gh.auth.token.revoked',
    'gh.runner.default.session.open',
  ),
);

/** A payload the subject's contract accepts, with values a fuzzer picks. */
function contractValid(contract: SubjectContract | undefined): fc.Arbitrary<string> {
  const samples = Object.values(CONTRACT_SAMPLES).find((s) => s.schema === contract?.payload);
  return (samples?.valid ?? fc.jsonValue()).map((v) => JSON.stringify(v));
}

/** The JSON value with the member at one path dropped or replaced. */
function mutatedJson(sample: Uint8Array): fc.Arbitrary<string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(sample).toString('utf8'));
  } catch {
    return fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from([...sample, ...b]).toString('latin1'));
  }
  const paths = pathsOf(parsed, []);
  return fc
    .tuple(fc.constantFrom(...paths), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant(undefined)))
    .map(([path, value]) => JSON.stringify(replaceAt(parsed, path, value)) ?? 'null');
}

function pathsOf(value: unknown, at: string[]): string[][] {
  if (typeof value !== 'object' || value === null || at.length > 6) return [at];
  return [at, ...Object.entries(value).flatMap(([key, inner]) => pathsOf(inner, [...at, key]))];
}

function replaceAt(value: unknown, path: string[], replacement: unknown): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return replacement;
  if (typeof value !== 'object' || value === null) return value;
  const copy: Record<string, unknown> = Array.isArray(value) ? Object.fromEntries(value.entries()) : { ...value };
  const inner = replaceAt(copy[head], rest, replacement);
  if (inner === undefined) delete copy[head];
  else copy[head] = inner;
  return Array.isArray(value) ? Object.values(copy) : copy;
}

const nested = fc
  .tuple(fc.integer({ min: 60, max: 10_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `{"message":${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}}`);

function payloadFor(target: BusTarget): fc.Arbitrary<string | Uint8Array> {
  return fc.oneof(
    { arbitrary: contractValid(target.contract), weight: 4 },
    { arbitrary: mutatedJson(target.sample), weight: 4 },
    { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 128 }), weight: 1 },
    { arbitrary: nested, weight: 1 },
    { arbitrary: fc.constantFrom('', 'null', '{}', '[]', '"x"', '{"ok":true}'), weight: 1 },
  );
}

const headers = sometimes(
  fc.dictionary(
    fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/),
    fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 }),
    { minKeys: 1, maxKeys: 3 },
  ),
  6,
);
/** Reply subjects a well-behaved client never sets: another service's subject, a wildcard. */
const oddReply = sometimes(fc.constantFrom('gh.auth.http', 'gh.session.x.closed', 'gh.>', 'gh.*.x', 'gh.runner.default.ping'), 12);

const flip = fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 });

/**
 * Messages on every subject the services listen on: mostly the subjects seen in a real session
 * (real ids), some with a token changed, some invented; payloads valid by contract, mutated,
 * arbitrary JSON or bytes, nested 10,000 deep.
 */
export function busActions(targets: readonly BusTarget[]): fc.Arbitrary<BusAction> {
  // Ending the live session costs a new one (a backend start): those subjects get a smaller share.
  const ending = new Set(['session.close', 'session.closed']);
  const target = fc.oneof(...targets.map((t) => ({ arbitrary: fc.constant(t), weight: ending.has(t.contract?.name ?? '') ? 1 : 4 })));
  const seen = target.chain((target) =>
    fc.record({
      subject: fc.oneof({ arbitrary: fc.constant(target.subject), weight: 4 }, { arbitrary: retargeted(target.subject), weight: 1 }),
      payload: payloadFor(target),
      flip,
    }),
  );
  const invented = fc.record({
    subject: randomSubject,
    payload: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 64 }),
    ),
    flip,
  });
  return fc
    .record({ picked: fc.oneof({ arbitrary: seen, weight: 6 }, { arbitrary: invented, weight: 1 }), headers, reply: oddReply })
    .map(({ picked, headers, reply }): BusAction => {
      // Requests where a reply is due, publishes where none is; now and then the other way round.
      const expectsReply = contractOf(picked.subject)?.reply !== undefined;
      const requested = reply === undefined && expectsReply !== picked.flip;
      return {
        subject: picked.subject,
        payload: picked.payload,
        mode: requested ? 'request' : 'publish',
        ...(headers && { headers }),
        ...(reply && { reply }),
      };
    });
}

export function payloadBytes(action: BusAction): Uint8Array {
  return typeof action.payload === 'string' ? utf8.encode(action.payload) : action.payload;
}
