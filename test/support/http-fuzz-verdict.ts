import { isAlive, type GatewayProcess } from '#testing';
import type { RawAnswer, RawRequest } from './http-exchange.js';
import { describeRequest } from './http-fuzz-harness.js';
import { ErrorLogWatch, type LogLine } from './log-lines.js';

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
    if (answer.status >= 500 && !documented5xx(answer)) problems.push(`HTTP ${answer.status}: ${answer.body.slice(0, 300)}`);
    if (own.length > 0) problems.push(`error-level log lines:\n${lines(own)}`);
    return problems;
  }

  /** Files the lines of requests already judged under `late`; returns those of `current`. */
  collectLate(current?: Exchange): LogLine[] {
    const own: LogLine[] = [];
    for (const { culprit, line } of this.log.take()) {
      if (culprit === current || culprit === undefined) own.push(line);
      else this.late.push(`an error-level line logged during\n${describeRequest(culprit.raw)}\n${line.raw.slice(0, 1500)}`);
    }
    if (current === undefined && own.length > 0) this.late.push(`error-level lines logged outside any request:\n${lines(own)}`);
    return own;
  }
}

function lines(logged: readonly LogLine[]): string {
  return logged.map((l) => l.raw.slice(0, 1500)).join('\n');
}
