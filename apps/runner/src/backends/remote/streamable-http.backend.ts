import {
  cancelledRequestId,
  errorResponse,
  idKey,
  isRequest,
  isResponse,
  JsonRpcCode,
  type JsonRpcMessage,
  type RequestId,
} from '#contracts';
import { AnswerStream } from './answer-stream.js';
import { RemoteBackend, type RemoteSpec } from './remote-backend.js';
import { StandaloneStream } from './standalone-stream.js';
import { UpstreamFault } from './upstream-http.js';
import { readRefusal } from './upstream-status.js';

type Request = JsonRpcMessage & { id: RequestId; method: string };

/** What became of a message posted upstream; 'unauthorized': a 401 left for the person's credential to be renewed. */
type Posted = 'done' | 'session-gone' | 'unauthorized';

/** Time a DELETE of the upstream session may take when the client session ends. */
const DELETE_TIMEOUT_MS = 2000;

/**
 * A remote server over streamable HTTP (2025-03-26 and later): one upstream session per client
 * session, opened by relaying the client's initialize. Each client message is one POST; answers
 * come back as JSON or an event stream; the GET stream carries what the server sends on its
 * own. An upstream session that expires is renewed once, transparently: the client's initialize
 * and `notifications/initialized` are replayed and the message is posted again.
 */
export class StreamableHttpBackend extends RemoteBackend {
  private sessionId: string | undefined;
  private protocolVersion: string | undefined;
  private initialize: Request | undefined;
  private initialized: JsonRpcMessage | undefined;
  /** Counts upstream sessions: a refusal from an older one is answered by posting again, not by renewing. */
  private generation = 0;
  /** While the upstream session opens or renews, other messages wait for it; false once the session has ended. */
  private opening: Promise<boolean> | undefined;
  private readonly answers = new Set<AnswerStream>();
  private renewingCredential: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
  private standalone: StandaloneStream | undefined;

  constructor(spec: RemoteSpec) {
    super(spec);
  }

  async start(): Promise<void> {
    // Nothing to connect yet: the client's initialize opens the upstream session.
  }

  protected async deliver(message: JsonRpcMessage): Promise<void> {
    if (isRequest(message) && message.method === 'initialize') {
      await this.whileOpening(() => this.open(message));
      return;
    }
    if (this.opening && !(await this.opening)) return;
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) for (const answer of this.answers) answer.forget(cancelled);
    if (message.method === 'notifications/initialized') this.initialized = message;
    await this.postRenewing(message);
  }

  protected async shutdown(): Promise<void> {
    this.standalone?.close();
    const sessionId = this.sessionId;
    if (sessionId === undefined) return;
    // The upstream session goes with the client's; a server that does not allow DELETE answers 405, which is fine.
    const signal = AbortSignal.timeout(DELETE_TIMEOUT_MS);
    try {
      const response = await this.http.request({ method: 'DELETE', url: this.spec.url, headers: this.sessionHeaders(), signal });
      response.body.resume();
      this.log('debug', 'upstream session deleted', { status: response.status });
    } catch (err) {
      this.log('info', 'could not delete the upstream session', { err: err instanceof Error ? err.message : String(err) });
    }
  }

  /** The client's initialize: opens the upstream session and answers the client. */
  private async open(message: Request): Promise<boolean> {
    this.initialize = message;
    let opened = await this.exchangeInitialize(message);
    if (!opened.ok && opened.status === 401 && this.spec.credential) {
      const renewed = await this.renewCredential();
      opened = renewed.ok ? await this.exchangeInitialize(message) : { ok: false, reason: renewed.reason };
    }
    if (!opened.ok) {
      this.end(opened.reason);
      return false;
    }
    this.log('info', 'upstream session opened', { stateless: this.sessionId === undefined });
    this.emit(opened.response);
    return true;
  }

  /** Runs `work` (an open or a renewal) with every other message waiting for it; concurrent callers share one run. */
  private whileOpening(work: () => Promise<boolean>): Promise<boolean> {
    this.opening ??= work().finally(() => (this.opening = undefined));
    return this.opening;
  }

  /** Posts, renewing the session once if the upstream no longer knows it; a second refusal ends the session. */
  private async postRenewing(message: JsonRpcMessage): Promise<void> {
    const sentIn = this.generation;
    const posted = await this.post(message, true);
    if (posted === 'done') {
      if (message.method === 'notifications/initialized') this.openStandalone();
      return;
    }
    if (posted === 'unauthorized') return this.retryWithRenewedCredential(message);
    if (sentIn === this.generation && !(await this.renew())) return;
    if ((await this.post(message)) === 'session-gone') this.end(this.faults.sessionLost(404));
  }

  /**
   * The upstream refused the person's credential (401): auth is asked once for a new one; with it
   * the upstream session is opened again, as after an expiry, and the message posted once more.
   */
  private async retryWithRenewedCredential(message: JsonRpcMessage): Promise<void> {
    const renewed = await this.renewCredential();
    if (!renewed.ok) {
      if (!isRequest(message)) this.log('warn', 'the upstream refused the credential for a notification or response');
      return this.failRequests(isRequest(message) ? [message.id] : [], renewed.reason);
    }
    if (!(await this.renew())) return;
    const posted = await this.post(message);
    if (posted === 'session-gone') this.end(this.faults.sessionLost(404));
  }

  /** One renewal at a time: 401s that arrive together share it. */
  private renewCredential(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const credential = this.spec.credential;
    if (!credential) return Promise.resolve({ ok: false, reason: this.faults.refused(401) });
    this.renewingCredential ??= credential
      .refused()
      .then((renewed) => {
        if (!renewed.ok) return renewed;
        this.headers = renewed.headers;
        this.log('info', "renewed the person's credential after the upstream refused it");
        return { ok: true as const };
      })
      .finally(() => (this.renewingCredential = undefined));
    return this.renewingCredential;
  }

  /** Opens a new upstream session with the client's initialize and initialized; false once the session has ended. */
  private renew(): Promise<boolean> {
    return this.whileOpening(async () => {
      this.standalone?.close();
      this.sessionId = undefined;
      const initialize = this.initialize;
      // No client waits on this initialize with a timeout of its own, so it gets one here.
      const opened = initialize
        ? ((await withDeadline(this.exchangeInitialize(initialize), this.spec.timeoutMs, undefined)) ?? {
            ok: false as const,
            reason: this.faults.noAnswer(this.spec.timeoutMs),
          })
        : { ok: false as const, reason: this.faults.sessionEnded(404) };
      if (!opened.ok) {
        this.end(opened.reason);
        return false;
      }
      this.log('info', 'renewed the upstream session after it expired');
      if (this.initialized && (await this.post(this.initialized)) === 'done') this.openStandalone();
      return true;
    });
  }

  /** Posts initialize without a session; its response is returned, not delivered (a renewal's goes to no one). */
  private async exchangeInitialize(
    message: Request,
  ): Promise<{ ok: true; response: JsonRpcMessage } | { ok: false; reason: string; status?: number }> {
    let response: JsonRpcMessage | undefined;
    let failure: string | undefined;
    const answer = this.answerStream([message.id], {
      deliver: (m) => (isResponse(m) && idKey(m.id) === idKey(message.id) ? (response = m) : this.emit(m)),
      unanswered: (_ids, reason) => (failure = reason),
    });
    try {
      const reply = await this.http.request({
        method: 'POST',
        url: this.spec.url,
        headers: this.postHeaders(),
        body: JSON.stringify(message),
        signal: this.signal,
      });
      if (reply.status < 200 || reply.status > 299)
        return { ok: false, reason: await this.refusalReason(reply, false), status: reply.status };
      this.sessionId = header(reply.headers['mcp-session-id']);
      this.generation++;
      await answer.consume(reply);
    } catch (err) {
      return { ok: false, reason: err instanceof UpstreamFault ? err.message : this.faults.closedMidCall() };
    }
    if (!response) return { ok: false, reason: failure ?? this.faults.unanswered() };
    this.protocolVersion = protocolVersionOf(response);
    return { ok: true, response };
  }

  /** One message to the upstream; requests are answered (or failed) through `emit` before this resolves. */
  private async post(message: JsonRpcMessage, mayRenewCredential = false): Promise<Posted> {
    const requestIds = isRequest(message) ? [message.id] : [];
    const namedSession = this.sessionId !== undefined;
    const fail = (reason: string) => this.failRequests(requestIds, reason);
    try {
      // Only requests may take long to be answered; anything else is acknowledged at once.
      const timeout = requestIds.length === 0 ? { headersTimeoutMs: this.spec.timeoutMs } : {};
      const body = JSON.stringify(message);
      const reply = await this.http.request({
        method: 'POST',
        url: this.spec.url,
        headers: this.postHeaders(),
        body,
        signal: this.signal,
        ...timeout,
      });
      if (reply.status >= 200 && reply.status <= 299) {
        if (requestIds.length === 0) reply.body.resume();
        else await this.consumeAnswer(requestIds, reply);
        return 'done';
      }
      const refusal = await readRefusal(reply, namedSession);
      if (refusal.sessionGone) return 'session-gone';
      if (reply.status === 401 && mayRenewCredential && this.spec.credential) return 'unauthorized';
      const reason =
        reply.status === 401 || reply.status === 403 ? this.faults.refused(reply.status) : this.faults.status(reply.status, refusal.detail);
      if (requestIds.length === 0) this.log('warn', 'the upstream refused a notification or response', { status: reply.status });
      fail(reason);
    } catch (err) {
      const reason = err instanceof UpstreamFault ? err.message : this.faults.closedMidCall();
      if (requestIds.length === 0) this.log('warn', 'a notification or response did not reach the upstream', { reason });
      fail(reason);
    }
    return 'done';
  }

  private async consumeAnswer(requestIds: RequestId[], reply: Parameters<AnswerStream['consume']>[0]): Promise<void> {
    const answer = this.answerStream(requestIds, {});
    this.answers.add(answer);
    try {
      await answer.consume(reply);
    } finally {
      this.answers.delete(answer);
    }
  }

  private answerStream(
    requestIds: RequestId[],
    overrides: Partial<Pick<ConstructorParameters<typeof AnswerStream>[1], 'deliver' | 'unanswered'>>,
  ): AnswerStream {
    return new AnswerStream(requestIds, {
      http: this.http,
      faults: this.faults,
      url: this.spec.url,
      maxMessageBytes: this.spec.maxMessageBytes,
      signal: this.signal,
      sessionHeaders: () => this.sessionHeaders(),
      sessionGone: async (response) => (await readRefusal(response, true)).sessionGone,
      deliver: (m) => this.emit(m),
      unanswered: (ids, reason) => this.failRequests(ids, reason),
      skipped: (what) => this.log('warn', `skipped ${what} from the upstream`),
      ...overrides,
    });
  }

  private openStandalone(): void {
    this.standalone?.close();
    const stream = new StandaloneStream({
      http: this.http,
      url: this.spec.url,
      maxMessageBytes: this.spec.maxMessageBytes,
      signal: this.signal,
      timeoutMs: this.spec.timeoutMs,
      sessionHeaders: () => this.sessionHeaders(),
      deliver: (m) => this.emit(m),
      sessionGone: () => this.log('info', 'the upstream session expired; the next message renews it'),
      fatal: () => this.end(this.faults.tooLarge(this.spec.maxMessageBytes)),
      note: (what) => this.log('info', what),
    });
    this.standalone = stream;
    this.spawn(() => stream.run());
  }

  private failRequests(ids: readonly RequestId[], reason: string): void {
    for (const id of ids) this.emit(errorResponse(id, JsonRpcCode.serverError, reason));
  }

  private sessionHeaders(): Record<string, string> {
    return {
      ...this.headers,
      ...(this.sessionId !== undefined && { 'mcp-session-id': this.sessionId }),
      ...(this.protocolVersion !== undefined && { 'mcp-protocol-version': this.protocolVersion }),
    };
  }

  private postHeaders(): Record<string, string> {
    return { ...this.sessionHeaders(), 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  }

  private async refusalReason(reply: Parameters<typeof readRefusal>[0], namedSession: boolean): Promise<string> {
    const refusal = await readRefusal(reply, namedSession);
    return reply.status === 401 || reply.status === 403
      ? this.faults.refused(reply.status)
      : this.faults.status(reply.status, refusal.detail);
  }
}

/** `work`'s value, or `fallback` once `ms` have passed. */
async function withDeadline<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function protocolVersionOf(response: JsonRpcMessage): string | undefined {
  const result = response.result;
  return typeof result === 'object' && result !== null && 'protocolVersion' in result && typeof result.protocolVersion === 'string'
    ? result.protocolVersion
    : undefined;
}
