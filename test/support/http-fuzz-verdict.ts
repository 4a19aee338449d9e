import { jsonNestedDeeperThan } from '#contracts';
import { isAlive, type GatewayProcess } from '#testing';
import type { RawAnswer, RawRequest } from './http-exchange.js';
import { describeRequest } from './http-fuzz-harness.js';
import { ErrorLogWatch, type LogLine } from './log-lines.js';

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
  raw: RawRequest;
  answer?: RawAnswer;
}

/**
 * Judges each exchange against the properties: no undocumented 5xx, the process alive, no line
 * at error level. A line is blamed on the request in flight when it was logged; one that reaches
 * the test only after its request was judged is kept in `late` (with that request), not blamed
 * on the current case, so that fast-check's shrinking follows the case that broke.
 */
export class FuzzVerdict {
  readonly knownHits = new Map<string, { count: number; example: string }>();
  /** Error-level lines that came after their request was judged, each with that request. */
  readonly late: string[] = [];
  private readonly log: ErrorLogWatch<Exchange>;
  private current: Exchange | undefined;

  constructor(private readonly gateway: GatewayProcess) {
    this.log = new ErrorLogWatch([{ name: 'serve', output: () => gateway.output() }]);
  }

  /** Call before sending a request. */
  async started(raw: RawRequest): Promise<void> {
    this.collectLate();
    this.current = { raw };
    await this.log.started(this.current);
  }

  /** The case's problems, or none. */
  judge(raw: RawRequest, answer: RawAnswer): string[] {
    const current = this.current;
    if (current?.raw !== raw) throw new Error('judge() without started()');
    this.log.ended();
    current.answer = answer;
    const problems: string[] = [];
    if (!isAlive(this.gateway.pid)) problems.push(`the gateway exited:\n${this.gateway.output().slice(-3000)}`);
    const own = this.collectLate(current);
    const known = answer.status >= 500 || own.length > 0 ? KNOWN_FAILURES.find((k) => k.matches(raw, answer, own)) : undefined;
    if (known) this.countKnown(known, raw);
    else {
      if (answer.status >= 500 && !documented5xx(answer)) problems.push(`HTTP ${answer.status}: ${answer.body.slice(0, 300)}`);
      if (own.length > 0) problems.push(`error-level log lines:\n${lines(own)}`);
    }
    return problems;
  }

  /** Files the lines of requests already judged under `late`; returns those of `current`. */
  collectLate(current?: Exchange): LogLine[] {
    const own: LogLine[] = [];
    for (const { culprit, line } of this.log.take()) {
      if (culprit === current || culprit === undefined) own.push(line);
      else if (!isKnown(culprit, line))
        this.late.push(`an error-level line logged during\n${describeRequest(culprit.raw)}\n${line.raw.slice(0, 1500)}`);
    }
    if (current === undefined && own.length > 0) this.late.push(`error-level lines logged outside any request:\n${lines(own)}`);
    return own;
  }

  private countKnown(known: KnownFailure, raw: RawRequest): void {
    const hit = this.knownHits.get(known.id) ?? { count: 0, example: describeRequest(raw) };
    hit.count += 1;
    this.knownHits.set(known.id, hit);
  }
}

function isKnown(exchange: Exchange, line: LogLine): boolean {
  const { raw, answer } = exchange;
  return answer !== undefined && KNOWN_FAILURES.some((k) => k.matches(raw, answer, [line]));
}

function lines(logged: readonly LogLine[]): string {
  return logged.map((l) => l.raw.slice(0, 1500)).join('\n');
}
