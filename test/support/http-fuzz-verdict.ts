import { jsonNestedDeeperThan } from '#contracts';
import { isAlive, type GatewayProcess } from '#testing';
import type { RawAnswer, RawRequest } from './http-exchange.js';
import { describeRequest } from './http-fuzz-harness.js';
import { errorLines, OutputCursor, type LogLine } from './log-lines.js';

/** A failure the lead knows of: recognised, counted and reported, but not failing the run. */
export interface KnownFailure {
  id: string;
  summary: string;
  matches(raw: RawRequest, answer: RawAnswer, errors: readonly LogLine[]): boolean;
}

/** JSON-RPC the edge relays without refusing it first: nested so deep the bus (64 levels) or JSON.stringify gives up. */
const DEEP_NESTING_AT_THE_EDGE: KnownFailure = {
  id: 'deep-nesting-502',
  summary:
    'a session message nested deeper than the bus carries (over ~60 levels) gets 502 instead of 400; at 10,000 levels ' +
    'JSON.stringify overflows the stack in encode() and the edge logs "MCP request failed" at error level ' +
    '(a client that accepts only SSE gets 200 and a stream that ends without an answer)',
  matches: (raw, answer, errors) =>
    raw.body !== undefined &&
    jsonNestedDeeperThan(Buffer.from(raw.body), 60) &&
    (answer.status === 502 || (answer.status === 200 && answer.stream)) &&
    errors.every((line) => line.raw.includes('Maximum call stack size exceeded')),
};

/** An initialize the backend's SDK refuses (params missing or mistyped) is passed on, a backend started for it, and answered 502. */
const MALFORMED_INITIALIZE: KnownFailure = {
  id: 'malformed-initialize-502',
  summary:
    'an initialize whose params the MCP schema refuses (e.g. no protocolVersion) starts a backend and gets 502 ' +
    '"the backend refused initialize: …" instead of a 400 from the edge',
  matches: (_raw, answer, errors) => answer.status === 502 && errors.length === 0 && answer.body.includes('the backend refused initialize'),
};

export const KNOWN_FAILURES: readonly KnownFailure[] = [DEEP_NESTING_AT_THE_EDGE, MALFORMED_INITIALIZE];

/**
 * The only 5xx the README documents for a healthy gateway: 503 with Retry-After while auth cannot
 * be asked for a signing key. Auth runs in the same process here, so none is expected at all.
 */
function documented5xx(answer: RawAnswer): boolean {
  return answer.status === 503 && answer.headers['retry-after'] !== undefined;
}

interface Exchange {
  startedAt: number;
  raw: RawRequest;
  answer?: RawAnswer;
}

/**
 * Judges each exchange against the properties: no undocumented 5xx, the process alive, no line
 * at error level. A log line is blamed on the request that was in flight when it was logged (by
 * its pino time), even when it reaches the test after the next request started.
 */
export class FuzzVerdict {
  readonly knownHits = new Map<string, { count: number; example: string }>();
  private readonly log: OutputCursor;
  private readonly history: Exchange[] = [];
  private lastAnswerAt = 0;

  constructor(private readonly gateway: GatewayProcess) {
    this.log = new OutputCursor(() => gateway.output());
    this.log.next();
  }

  /**
   * Call before sending a request. It starts in a later millisecond than the previous answer
   * came, so that pino's millisecond times tell which request a line was logged during.
   */
  async started(raw: RawRequest): Promise<void> {
    while (Date.now() <= this.lastAnswerAt) await new Promise((resolve) => setImmediate(resolve));
    this.history.push({ startedAt: Date.now(), raw });
    if (this.history.length > 50) this.history.shift();
  }

  /** The case's problems, or none; known failures are counted instead. */
  judge(raw: RawRequest, answer: RawAnswer): string[] {
    const current = this.history.at(-1);
    if (current?.raw !== raw) throw new Error('judge() without started()');
    this.lastAnswerAt = Date.now();
    current.answer = answer;
    const problems: string[] = [];
    if (!isAlive(this.gateway.pid)) problems.push(`the gateway exited:\n${this.gateway.output().slice(-3000)}`);
    const blamed = this.blame(errorLines(this.log.next()), current);
    const own = blamed.get(current) ?? [];
    const known = answer.status >= 500 || own.length > 0 ? KNOWN_FAILURES.find((k) => k.matches(raw, answer, own)) : undefined;
    if (known) this.countKnown(known, raw);
    else {
      if (answer.status >= 500 && !documented5xx(answer)) problems.push(`HTTP ${answer.status}: ${answer.body.slice(0, 300)}`);
      if (own.length > 0) problems.push(`error-level log lines:\n${lines(own)}`);
    }
    for (const [exchange, late] of blamed) {
      if (exchange === current || (exchange.answer && KNOWN_FAILURES.some((k) => k.matches(exchange.raw, exchange.answer!, late))))
        continue;
      problems.push(`error-level log lines of an earlier request:\n${describeRequest(exchange.raw)}\n${lines(late)}`);
    }
    return problems;
  }

  /** Each line with the exchange in flight when it was logged (the current one if none started before it). */
  private blame(logged: LogLine[], current: Exchange): Map<Exchange, LogLine[]> {
    const blamed = new Map<Exchange, LogLine[]>();
    for (const line of logged) {
      const culprit = [...this.history].reverse().find((e) => e.startedAt <= line.time) ?? current;
      blamed.set(culprit, [...(blamed.get(culprit) ?? []), line]);
    }
    return blamed;
  }

  private countKnown(known: KnownFailure, raw: RawRequest): void {
    const hit = this.knownHits.get(known.id) ?? { count: 0, example: describeRequest(raw) };
    hit.count += 1;
    this.knownHits.set(known.id, hit);
  }
}

function lines(logged: readonly LogLine[]): string {
  return logged.map((l) => l.raw.slice(0, 1500)).join('\n');
}
