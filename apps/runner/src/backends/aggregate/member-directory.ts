import { idKey, isResponse, type JsonRpcMessage, type Principal } from '#contracts';
import type { Logger } from '#observability';
import { isCredentialRequired } from '../credential/missing-credential.js';
import type { AggregateHub } from './aggregate-hub.js';
import { MemberGone, MemberLink, type MemberInitialize, type MemberServer } from './member-link.js';
import { ToolRoutes, type ToolTarget } from './tool-names.js';

export interface Discovery {
  /** A member that has not listed its tools by then is left out. */
  timeoutMs: number;
  /** How long a member's tool list is reused. */
  cacheTtlMs: number;
  /** Member sessions one identity may hold through aggregates on this runner; 0 = no limit. */
  maxConnsPerUser: number;
}

export interface DirectoryHandlers {
  /** A message a member sent that is not the answer to a listing. */
  message(member: string, message: JsonRpcMessage): void;
  /** A member session went away while calls waited on it. */
  gone(member: string, reason: string): void;
  log: Logger;
}

type Tool = Record<string, unknown> & { name: string };

/** Pages of a member's tools/list followed at most. */
const MAX_PAGES = 20;

/**
 * An aggregate session's members: their sessions (opened on first use), their tools under the
 * names the client sees, cached for `cacheTtlMs`, and the route from each name back to its member.
 */
export class MemberDirectory {
  private readonly links = new Map<string, MemberLink>();
  private readonly listed = new Map<string, { at: number; tools: Tool[] }>();
  private readonly routes = new ToolRoutes();
  private readonly listings = new Map<string, (answer: JsonRpcMessage) => void>();
  /** Members whose last listing said the caller must connect a credential first: that error, as the member sent it. */
  private readonly needsCredential = new Map<string, unknown>();
  private nextId = 1;

  constructor(
    private readonly settings: { members: readonly MemberServer[]; delimiter: string; discovery: Discovery },
    private readonly principal: Principal,
    private readonly init: MemberInitialize,
    private readonly hub: AggregateHub,
    private readonly handlers: DirectoryHandlers,
    private readonly now: () => number = Date.now,
  ) {}

  /** The error of the first member (in order) that needs the caller's credential before it lists anything. */
  credentialRequired(): unknown {
    return this.settings.members.map((member) => this.needsCredential.get(member.name)).find((error) => error !== undefined);
  }

  /** Every member's tools, as the client sees them; a member that fails or is slow is left out. */
  async tools(): Promise<Tool[]> {
    await Promise.all(this.settings.members.map((member) => this.refresh(member.name)));
    return this.settings.members.flatMap((member) => this.listed.get(member.name)?.tools ?? []);
  }

  /** The member tool a shown name stands for; lists again once when the name is not known yet. */
  async route(name: string): Promise<ToolTarget | undefined> {
    if (!this.routes.resolve(name)) await this.tools();
    return this.routes.resolve(name);
  }

  send(member: string, message: JsonRpcMessage): Promise<void> {
    return this.link(member).send(message);
  }

  busy(member: string, waiting: boolean): void {
    this.links.get(member)?.busy(waiting);
  }

  /**
   * The member's tools changed: listed again on next use. What was listed stays shown until then,
   * so a listing under way when the change arrives still includes the member.
   */
  stale(member: string): void {
    const listed = this.listed.get(member);
    if (listed) this.listed.set(member, { ...listed, at: Number.NEGATIVE_INFINITY });
  }

  /** To every member session that is open. */
  broadcast(message: JsonRpcMessage): void {
    for (const link of this.links.values()) void link.send(message).catch(() => undefined);
  }

  async close(): Promise<void> {
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((link) => link.close().catch(() => undefined)));
    links.forEach(() => this.hub.release(this.principal.sub));
  }

  private async refresh(member: string): Promise<void> {
    const cached = this.listed.get(member);
    if (cached && this.now() - cached.at < this.settings.discovery.cacheTtlMs) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new MemberGone(`${member} did not list its tools within ${this.settings.discovery.timeoutMs} ms`)),
        this.settings.discovery.timeoutMs,
      );
    });
    try {
      const tools = await Promise.race([this.list(member), timeout]);
      this.routes.dropMember(member);
      const shown = tools.map((tool) => ({ ...tool, name: this.routes.add(member, tool.name, this.settings.delimiter) }));
      this.listed.set(member, { at: this.now(), tools: shown });
      this.needsCredential.delete(member);
    } catch (err) {
      // One member failing leaves the others' tools in place.
      this.listed.delete(member);
      if (err instanceof CredentialRequired) this.needsCredential.set(member, err.error);
      else this.needsCredential.delete(member);
      this.routes.dropMember(member);
      this.handlers.log.warn(
        { member, reason: err instanceof Error ? err.message : String(err) },
        'aggregate member left out of the tool list',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private async list(member: string): Promise<Tool[]> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const result = await this.ask(member, 'tools/list', cursor === undefined ? {} : { cursor });
      const listed: unknown[] = Array.isArray(result.tools) ? result.tools : [];
      for (const tool of listed) if (isTool(tool)) tools.push(tool);
      cursor = typeof result.nextCursor === 'string' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return tools;
  }

  /** A request of the aggregate's own to a member; resolves with its result. */
  private async ask(member: string, method: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = `d${this.nextId++}`;
    const answered = new Promise<JsonRpcMessage>((resolve) => this.listings.set(idKey(id), resolve));
    try {
      await this.link(member).send({ jsonrpc: '2.0', id, method, params });
      const answer = await answered;
      if (answer.error !== undefined && isCredentialRequired(answer.error)) throw new CredentialRequired(member, answer.error);
      if (answer.error !== undefined) throw new MemberGone(`${member} refused ${method}`);
      return typeof answer.result === 'object' && answer.result !== null ? Object.fromEntries(Object.entries(answer.result)) : {};
    } finally {
      this.listings.delete(idKey(id));
    }
  }

  private link(member: string): MemberLink {
    const existing = this.links.get(member);
    if (existing) return existing;
    const server = this.settings.members.find((m) => m.name === member);
    if (!server) throw new MemberGone(`no member named ${member}`);
    if (!this.hub.reserve(this.principal.sub, this.settings.discovery.maxConnsPerUser)) {
      throw new MemberGone(`${member}: the limit of ${this.settings.discovery.maxConnsPerUser} member connections per user is reached`);
    }
    const link = new MemberLink(server, this.principal, this.init, this.hub);
    link.onmessage = (message) => {
      const listing = isResponse(message) ? this.listings.get(idKey(message.id)) : undefined;
      if (listing) listing(message);
      else this.handlers.message(member, message);
    };
    link.ongone = (reason) => this.handlers.gone(member, reason);
    this.links.set(member, link);
    return link;
  }
}

function isTool(value: unknown): value is Tool {
  return typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string';
}

/** A member's gate answered: the caller has not connected the member's credential yet. */
class CredentialRequired extends Error {
  constructor(
    member: string,
    readonly error: unknown,
  ) {
    super(`${member} needs the caller's credential`);
  }
}
