import type { FuzzGateway } from './fuzz-gateway.js';
import { FUZZ_SERVERS, type FuzzRequest } from './fuzz-http-requests.js';
import type { LiveSessions } from './fuzz-sessions.js';
import { exchange, type RawAnswer, type RawRequest } from './http-exchange.js';

/** Per request: the time the gateway has to answer (or to send a stream's head). */
export const ANSWER_TIMEOUT_MS = 10_000;

/** What the run saw, for the summary and for the properties over the whole run. */
export interface FuzzTally {
  requests: number;
  byStatus: Map<number, number>;
  /** Sessions fuzzed requests opened (each closed again by the harness). */
  strayOpened: number;
  strayCloseFailed: string[];
}

/**
 * Turns a generated request into bytes on the wire (live session ids and credentials filled
 * in), sends it, and cleans up after it: a session a fuzzed initialize opened is closed again,
 * a live session a fuzzed DELETE ended is forgotten.
 */
export class HttpFuzzHarness {
  readonly tally: FuzzTally = { requests: 0, byStatus: new Map(), strayOpened: 0, strayCloseFailed: [] };
  /** The live session each resolved request names. */
  private readonly liveIds = new WeakMap<RawRequest, string>();

  constructor(
    private readonly gateway: FuzzGateway,
    private readonly sessions: LiveSessions,
  ) {}

  async resolve(request: FuzzRequest): Promise<RawRequest> {
    const sessionId = request.session.kind === 'live' ? await this.sessions.id(request.session) : '';
    const fill = (text: string) => text.replaceAll('{session}', sessionId);
    const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, fill(value)]));
    const target = FUZZ_SERVERS.find((s) => request.path.startsWith(`/${s}/`)) ?? 'open';
    const authorization = this.gateway.authorization(request.credential, target);
    if (authorization !== undefined) headers.authorization = authorization;
    const raw = { method: request.method, path: fill(request.path), headers, ...(request.body !== undefined && { body: request.body }) };
    if (sessionId) this.liveIds.set(raw, sessionId);
    return raw;
  }

  async send(request: FuzzRequest, raw: RawRequest): Promise<RawAnswer> {
    const answer = await exchange(this.gateway.oauth.baseURL, raw, ANSWER_TIMEOUT_MS);
    this.tally.requests += 1;
    this.tally.byStatus.set(answer.status, (this.tally.byStatus.get(answer.status) ?? 0) + 1);
    // FUZZ_TRACE=1 prints every exchange, for seeing where the generators lead.
    if (process.env.FUZZ_TRACE)
      process.stderr.write(`${answer.status} ${describeRequest(raw).slice(0, 600)}\n  → ${answer.body.slice(0, 200)}\n`);
    await this.cleanUp(request, raw, answer);
    return answer;
  }

  private async cleanUp(request: FuzzRequest, raw: RawRequest, answer: RawAnswer): Promise<void> {
    const opened = answer.headers['mcp-session-id'];
    if (typeof opened === 'string' && !(await this.sessions.owns(opened))) await this.closeStray(raw, opened);
    const id = this.liveIds.get(raw);
    if (request.session.kind !== 'live' || id === undefined) return;
    const named = raw.headers['mcp-session-id'] === id || raw.path.includes(`sessionId=${id}`);
    const ownServer = raw.path.startsWith(`/${request.session.server}/`);
    const { credential } = request;
    const ownCredential = credential.kind === 'own' || (credential.kind === 'valid' && credential.server === request.session.server);
    const ended =
      (raw.method === 'DELETE' && answer.status === 200) || (answer.status === 404 && answer.body.includes('Session not found'));
    if (named && ownServer && ownCredential && ended) await this.sessions.end(request.session);
  }

  /** A session a fuzzed initialize opened: closed at once, so backends do not pile up. */
  private async closeStray(raw: RawRequest, sessionId: string): Promise<void> {
    this.tally.strayOpened += 1;
    const server = FUZZ_SERVERS.find((s) => raw.path.startsWith(`/${s}/`));
    const headers: Record<string, string> = { 'mcp-session-id': sessionId };
    if (raw.headers.authorization !== undefined) headers.authorization = raw.headers.authorization;
    const answer = await exchange(
      this.gateway.oauth.baseURL,
      { method: 'DELETE', path: `/${server ?? 'unknown'}/mcp`, headers },
      ANSWER_TIMEOUT_MS,
    );
    if (answer.status !== 200)
      this.tally.strayCloseFailed.push(`${raw.method} ${raw.path} opened ${sessionId}; DELETE got ${answer.status}`);
  }
}

/** A request as a failure report shows it: credentials masked, long bodies cut. */
export function describeRequest(raw: RawRequest): string {
  const headers = { ...raw.headers, ...(raw.headers.authorization !== undefined && { authorization: mask(raw.headers.authorization) }) };
  const body = raw.body === undefined ? '' : typeof raw.body === 'string' ? raw.body : `bytes ${Buffer.from(raw.body).toString('hex')}`;
  const cut = body.length > 400 ? `${body.slice(0, 400)}… (${body.length} chars)` : body;
  return `${raw.method} ${raw.path.slice(0, 300)}\nheaders: ${JSON.stringify(headers).slice(0, 600)}\nbody: ${cut}`;
}

function mask(authorization: string): string {
  const [scheme = ''] = authorization.split(' ');
  return authorization.length > 24 ? `${scheme} …(${authorization.length} chars)` : authorization;
}
