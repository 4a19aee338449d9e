import { request, type ClientRequest } from 'node:http';
import type { FuzzServer, SessionChoice } from './fuzz-http-requests.js';

type LiveChoice = SessionChoice & { kind: 'live' };

const HARNESS_INIT_ID = 'fuzz-harness-init';
const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: HARNESS_INIT_ID,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'fuzz-harness', version: '1' } },
});
const initialized = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });
const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A legacy HTTP+SSE session: the held stream and the id its endpoint event named. */
interface LegacySession {
  id: string;
  stream: ClientRequest;
}

/**
 * Real sessions, one per server and transport, that fuzzed requests name so they reach the
 * relay, the runner and the backend. A session the fuzzer ended is opened again on next use.
 */
export class LiveSessions {
  private readonly streamable = new Map<FuzzServer, Promise<string>>();
  private readonly legacy = new Map<FuzzServer, Promise<LegacySession>>();
  /** Sessions opened over the whole run (a fuzzed DELETE or a closed stream costs one more). */
  opened = 0;

  constructor(
    private readonly baseURL: string,
    private readonly authorization: (server: FuzzServer) => string,
  ) {}

  async id(choice: LiveChoice): Promise<string> {
    if (choice.transport === 'sse') return (await this.legacySession(choice.server)).id;
    let opening = this.streamable.get(choice.server);
    if (!opening) {
      opening = this.openStreamable(choice.server);
      this.streamable.set(choice.server, opening);
      // A failed open is reported once, and tried again next time.
      const failed = opening;
      failed.catch(() => this.streamable.get(choice.server) === failed && this.streamable.delete(choice.server));
    }
    return opening;
  }

  /** Whether `sessionId` is one of these sessions (so nobody else may close it). */
  async owns(sessionId: string): Promise<boolean> {
    const opening = [...this.streamable.values(), ...[...this.legacy.values()].map(async (s) => (await s).id)];
    const ids = await Promise.all(opening.map((id) => id.catch(() => undefined)));
    return ids.includes(sessionId);
  }

  /**
   * Ends a session the fuzzer seems to have ended (DELETE it, close its stream: a 404 may have had
   * another cause), so the next request that names it opens a new one.
   */
  async end(choice: LiveChoice): Promise<void> {
    if (choice.transport === 'sse') {
      const legacy = this.legacy.get(choice.server);
      this.legacy.delete(choice.server);
      (await legacy?.catch(() => undefined))?.stream.destroy();
      return;
    }
    const opening = this.streamable.get(choice.server);
    this.streamable.delete(choice.server);
    const id = await opening?.catch(() => undefined);
    if (id === undefined) return;
    const headers = { authorization: this.authorization(choice.server), 'mcp-session-id': id };
    // A gateway that is gone took the session with it.
    const res = await fetch(`${this.baseURL}/${choice.server}/mcp`, { method: 'DELETE', headers }).catch(() => undefined);
    await res?.body?.cancel();
  }

  async closeAll(): Promise<void> {
    const streamable = [...this.streamable.keys()].map((server): LiveChoice => ({ kind: 'live', server, transport: 'streamable-http' }));
    const legacy = [...this.legacy.keys()].map((server): LiveChoice => ({ kind: 'live', server, transport: 'sse' }));
    await Promise.all([...streamable, ...legacy].map((choice) => this.end(choice)));
  }

  private async openStreamable(server: FuzzServer): Promise<string> {
    const headers = { ...JSON_HEADERS, authorization: this.authorization(server) };
    const res = await fetch(`${this.baseURL}/${server}/mcp`, { method: 'POST', headers, body: initialize });
    const text = await res.text();
    const id = res.headers.get('mcp-session-id');
    if (res.status !== 200 || !id) throw new Error(`the harness could not open a session on ${server}: ${res.status} ${text}`);
    const ack = await fetch(`${this.baseURL}/${server}/mcp`, {
      method: 'POST',
      headers: { ...headers, 'mcp-session-id': id },
      body: initialized,
    });
    await ack.body?.cancel();
    this.opened += 1;
    return id;
  }

  private legacySession(server: FuzzServer): Promise<LegacySession> {
    let opening = this.legacy.get(server);
    if (!opening) {
      opening = this.openLegacy(server);
      this.legacy.set(server, opening);
      // A stream the gateway ends takes its session with it.
      void opening.then(
        (session) => session.stream.once('close', () => this.legacy.get(server) === opening && this.legacy.delete(server)),
        () => this.legacy.delete(server),
      );
    }
    return opening;
  }

  /** GET /sse, read the endpoint event, initialize over /message and wait for the answer on the stream. */
  private async openLegacy(server: FuzzServer): Promise<LegacySession> {
    const authorization = this.authorization(server);
    const events = new SseReader();
    const stream = request(`${this.baseURL}/${server}/sse`, { headers: { accept: 'text/event-stream', authorization } });
    stream.on('response', (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => events.push(chunk));
      res.on('error', () => undefined);
    });
    stream.on('error', (err) => events.fail(err));
    stream.end();
    try {
      const endpoint = await events.next((e) => e.event === 'endpoint');
      const id = new URL(endpoint.data, this.baseURL).searchParams.get('sessionId') ?? '';
      const post = (body: string) =>
        fetch(new URL(endpoint.data, this.baseURL), { method: 'POST', headers: { ...JSON_HEADERS, authorization }, body }).then(
          async (res) => {
            await res.body?.cancel();
            if (res.status !== 202) throw new Error(`the harness's legacy message on ${server} got ${res.status}`);
          },
        );
      const answered = events.next((e) => e.data.includes(HARNESS_INIT_ID));
      await post(initialize);
      await answered;
      await post(initialized);
      this.opened += 1;
      return { id, stream };
    } catch (err) {
      stream.destroy();
      throw err;
    }
  }
}

interface SseEvent {
  event: string;
  data: string;
}

/** Splits an event stream into events and hands the first match to whoever waits for it. */
class SseReader {
  private buffer = '';
  private failure: Error | undefined;
  private readonly waiters: { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; reject: (err: Error) => void }[] = [];

  push(chunk: string): void {
    this.buffer += chunk.replace(/\r\n/g, '\n');
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) >= 0) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const field = (name: string) =>
        block
          .split('\n')
          .filter((l) => l.startsWith(`${name}:`))
          .map((l) => l.slice(name.length + 1).trimStart())
          .join('\n');
      this.deliver({ event: field('event') || 'message', data: field('data') });
    }
  }

  fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  next(match: (e: SseEvent) => boolean, timeoutMs = 10_000): Promise<SseEvent> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no such event on the legacy stream in time')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  private deliver(event: SseEvent): void {
    const i = this.waiters.findIndex((w) => w.match(event));
    if (i < 0) return;
    const [waiter] = this.waiters.splice(i, 1);
    waiter?.resolve(event);
  }
}
