import type { NatsConnection } from '@nats-io/transport-node';
import type { BusAction } from './bus-fuzz-actions.js';
import type { BusTarget } from './bus-fuzz-targets.js';
import { connectStreamable } from './mcp-clients.js';

/** Where the bystander's session lives on the bus: its runner, its id, and the edge stream its client holds. */
export interface LiveIds {
  runnerId: string;
  sessionId: string;
  /** The subject of the GET stream the client keeps open. */
  stream: string;
}

const OPEN_TIMEOUT_MS = 15_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A real MCP client with a live session and an open GET stream, for the bus fuzz to aim at. When
 * the fuzz ends the session (a close, a closed event), the next `ensure` opens another one.
 */
export class Bystander {
  renewals = 0;
  private connected: Awaited<ReturnType<typeof connectStreamable>> | undefined;
  private ids: LiveIds | undefined;
  private suspect = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly url: string,
    private readonly authorization: string,
  ) {}

  /** The live session's ids, after opening a new session if the last one is gone. */
  async ensure(): Promise<LiveIds> {
    if (this.ids && !this.suspect && (await this.runnerHolds(this.ids))) return this.ids;
    await this.close();
    this.ids = await this.open();
    this.suspect = false;
    this.renewals += 1;
    return this.ids;
  }

  /** A closed event for the session ends it at the edge (its stream too), though its runner still holds it. */
  sawAction(action: BusAction): void {
    if (this.ids && action.subject === `gh.session.${this.ids.sessionId}.closed`) this.suspect = true;
  }

  async close(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    this.ids = undefined;
    await connected?.transport.terminateSession().catch(() => undefined);
    await connected?.client.close().catch(() => undefined);
  }

  private async runnerHolds(ids: LiveIds): Promise<boolean> {
    const reply = await this.nc
      .request(`gh.runner.${ids.runnerId}.session.${ids.sessionId}.touch`, '{}', { timeout: 2000 })
      .catch(() => undefined);
    return reply !== undefined && decoder.decode(reply.data).includes('"ok":true');
  }

  /** Connects the real client and learns its ids from the message that attaches its GET stream. */
  private async open(): Promise<LiveIds> {
    const touches = this.nc.subscribe('gh.runner.*.session.*.attach', { max: 100 });
    await this.nc.flush();
    const attached = (async () => {
      for await (const msg of touches) {
        const attach = /"attach":"([^"]+)"/.exec(decoder.decode(msg.data))?.[1];
        const [, , runnerId, , sessionId] = msg.subject.split('.');
        if (attach && runnerId && sessionId) return { runnerId, sessionId, stream: attach };
      }
      throw new Error('the bystander client attached no stream');
    })();
    const timer = setTimeout(() => touches.unsubscribe(), OPEN_TIMEOUT_MS);
    try {
      this.connected = await connectStreamable(this.url, this.authorization);
      await this.connected.client.callTool({ name: 'echo', arguments: { message: 'bystander' } });
      const ids = await attached;
      if (ids.sessionId !== this.connected.transport.sessionId) throw new Error('another session attached a stream first');
      return ids;
    } finally {
      clearTimeout(timer);
      touches.unsubscribe();
    }
  }
}

/**
 * Sniffed targets with every session's ids replaced by placeholders (one target per subject), so
 * that each aims at the bystander's live session, whichever it is when the message goes.
 */
export function templated(targets: readonly BusTarget[], ids: LiveIds): BusTarget[] {
  const sessions = new Set<string>();
  const runners = new Set<string>();
  for (const { subject } of targets) {
    const onRunner = /^gh\.runner\.([^.]+)\.session\.([^.]+)\.[^.]+$/.exec(subject);
    if (onRunner?.[1] && onRunner[2]) {
      runners.add(onRunner[1]);
      sessions.add(onRunner[2]);
    }
    const elsewhere = /^gh\.session\.([^.]+)\.closed$/.exec(subject)?.[1] ?? /^\$KV\.gh-sessions\.([^.]+)$/.exec(subject)?.[1];
    if (elsewhere) sessions.add(elsewhere);
  }
  const template = (text: string) => {
    let out = text.replaceAll(ids.stream, '{stream}');
    for (const runner of runners) out = out.replaceAll(`gh.runner.${runner}.session.`, 'gh.runner.{runner}.session.');
    for (const session of sessions) out = out.replaceAll(session, '{session}');
    return out;
  };
  const bySubject = new Map<string, BusTarget>();
  for (const t of targets) {
    const subject = template(t.subject);
    if (!bySubject.has(subject)) bySubject.set(subject, { ...t, subject, sample: encoder.encode(template(decoder.decode(t.sample))) });
  }
  return [...bySubject.values()];
}

/** The action with the live session's ids filled in. */
export function resolved(action: BusAction, ids: LiveIds): BusAction {
  const fill = (text: string) =>
    text.replaceAll('{stream}', ids.stream).replaceAll('{runner}', ids.runnerId).replaceAll('{session}', ids.sessionId);
  return { ...action, subject: fill(action.subject), payload: typeof action.payload === 'string' ? fill(action.payload) : action.payload };
}
