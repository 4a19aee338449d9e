import { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import {
  cancelledRequestId,
  errorResponse,
  idKey,
  isNotification,
  isRequest,
  isResponse,
  JsonRpcCode,
  type JsonRpcMessage,
  type Principal,
  type RequestId,
} from '#contracts';
import type { Logger } from '#observability';
import type { BackendConnection, BackendLogContext } from '../backend.port.js';
import type { AggregateHub } from './aggregate-hub.js';
import { MemberDirectory, type Discovery } from './member-directory.js';
import { MemberGone, type MemberInitialize, type MemberServer } from './member-link.js';

export interface AggregateSettings {
  name: string;
  members: readonly MemberServer[];
  delimiter: string;
  discovery: Discovery;
}

type Request = JsonRpcMessage & { id: RequestId; method: string };

/** A call waiting on a member: the client's id to answer with. */
interface PendingCall {
  member: string;
  clientId: RequestId;
}

/**
 * An aggregate server for one client session: it answers initialize itself, lists its members'
 * tools under collision-free names, and routes each call to the member session that has the tool,
 * opened on demand under the caller's identity. Requests a member makes of the client (sampling,
 * elicitation) go to the client under ids of the aggregate's own, and their answers back.
 */
export class AggregateBackend implements BackendConnection {
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: string) => void;
  private directory: MemberDirectory | undefined;
  /** Calls sent to members, by the id the aggregate gave them. */
  private readonly calls = new Map<string, PendingCall>();
  /** Requests members made of the client, by the id the client sees. */
  private readonly fromMembers = new Map<string, { member: string; id: RequestId }>();
  private nextId = 1;

  constructor(
    private readonly settings: AggregateSettings,
    private readonly principal: Principal,
    private readonly hub: AggregateHub,
    private readonly log: Logger,
    private readonly context: BackendLogContext,
  ) {}

  start(): Promise<void> {
    return Promise.resolve();
  }

  send(message: JsonRpcMessage): void {
    if (isRequest(message)) void this.request(message);
    else if (isResponse(message)) this.answerToMember(message);
    else if (isNotification(message)) this.notification(message);
  }

  async close(): Promise<void> {
    await this.directory?.close();
  }

  private async request(request: Request): Promise<void> {
    try {
      this.reply(request, await this.handle(request));
    } catch (err) {
      const message = err instanceof MemberGone ? err.message : 'the aggregate could not complete the request';
      if (!(err instanceof MemberGone)) this.log.error({ ...this.context, err }, 'aggregate request failed');
      this.emit(errorResponse(request.id, JsonRpcCode.serverError, message));
    }
  }

  /** The result to answer with, or undefined when a member answers (a call). */
  private async handle(request: Request): Promise<Record<string, unknown> | undefined> {
    switch (request.method) {
      case 'initialize':
        return this.initialize(request);
      case 'ping':
        return {};
      case 'tools/list': {
        const tools = await this.members().tools();
        // A member whose credential the caller has not connected: its link goes to the client unchanged, so
        // the person connects it (or is asked to, -32042) and the retry lists every member.
        const required = this.members().credentialRequired();
        if (required === undefined) return { tools };
        this.emit({ jsonrpc: '2.0', id: request.id, error: required });
        return undefined;
      }
      case 'tools/call':
        return this.call(request);
      default:
        this.emit(errorResponse(request.id, -32601, `Method not found: ${request.method} (an aggregate serves tools only)`));
        return undefined;
    }
  }

  private initialize(request: Request): Record<string, unknown> {
    const params = record(request.params);
    const asked = typeof params.protocolVersion === 'string' ? params.protocolVersion : LATEST_PROTOCOL_VERSION;
    const protocolVersion = SUPPORTED_PROTOCOL_VERSIONS.includes(asked) ? asked : LATEST_PROTOCOL_VERSION;
    const init: MemberInitialize = { protocolVersion, capabilities: record(params.capabilities), clientInfo: record(params.clientInfo) };
    this.directory = new MemberDirectory(this.settings, this.principal, init, this.hub, {
      message: (member, message) => this.fromMember(member, message),
      gone: (member, reason) => this.memberGone(member, reason),
      log: this.log.child(this.context),
    });
    return {
      protocolVersion,
      capabilities: { tools: { listChanged: true } },
      serverInfo: { name: this.settings.name, version: '1.0.0' },
      instructions: `Tools of ${this.settings.members.map((m) => m.name).join(', ')}, named <server>${this.settings.delimiter}<tool>.`,
    };
  }

  private async call(request: Request): Promise<undefined> {
    const params = record(request.params);
    const name = typeof params.name === 'string' ? params.name : '';
    const target = await this.members().route(name);
    if (!target) {
      this.emit(errorResponse(request.id, JsonRpcCode.invalidParams, `Unknown tool: ${name}`));
      return undefined;
    }
    const id = `a${this.nextId++}`;
    this.calls.set(idKey(id), { member: target.member, clientId: request.id });
    this.members().busy(target.member, true);
    try {
      await this.members().send(target.member, { ...request, id, params: { ...params, name: target.tool } });
    } catch (err) {
      this.settle(id);
      throw err;
    }
    return undefined;
  }

  private notification(message: JsonRpcMessage): void {
    const cancelled = cancelledRequestId(message);
    if (cancelled !== undefined) {
      for (const [key, call] of this.calls) {
        if (call.clientId !== cancelled) continue;
        const id = key.slice(2);
        this.settle(id);
        const cancel = { ...message, params: { ...record(message.params), requestId: id } };
        void this.members()
          .send(call.member, cancel)
          .catch(() => undefined);
      }
      return;
    }
    if (message.method === 'notifications/roots/list_changed') this.directory?.broadcast(message);
  }

  /** The client answered a request a member made of it. */
  private answerToMember(response: JsonRpcMessage & { id: RequestId }): void {
    const origin = this.fromMembers.get(idKey(response.id));
    if (!origin) return;
    this.fromMembers.delete(idKey(response.id));
    void this.members()
      .send(origin.member, { ...response, id: origin.id })
      .catch(() => undefined);
  }

  private fromMember(member: string, message: JsonRpcMessage): void {
    if (isResponse(message)) {
      const call = this.calls.get(idKey(message.id));
      if (!call) return;
      this.settle(String(message.id));
      return this.emit({ ...message, id: call.clientId });
    }
    if (isRequest(message)) {
      const id = `m${this.nextId++}`;
      this.fromMembers.set(idKey(id), { member, id: message.id });
      return this.emit({ ...message, id });
    }
    if (message.method === 'notifications/tools/list_changed') {
      this.directory?.stale(member);
      return this.emit({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    }
    this.emit(message); // progress (the client's own token), logging, other notifications
  }

  private memberGone(member: string, reason: string): void {
    for (const [key, call] of this.calls) {
      if (call.member !== member) continue;
      this.settle(key.slice(2));
      this.emit(errorResponse(call.clientId, JsonRpcCode.serverError, `${reason} during the call`));
    }
  }

  private settle(id: string): void {
    const call = this.calls.get(idKey(id));
    if (!call) return;
    this.calls.delete(idKey(id));
    if (![...this.calls.values()].some((c) => c.member === call.member)) this.directory?.busy(call.member, false);
  }

  private reply(request: Request, result: Record<string, unknown> | undefined): void {
    if (result !== undefined) this.emit({ jsonrpc: '2.0', id: request.id, result });
  }

  private members(): MemberDirectory {
    if (!this.directory) throw new MemberGone('the aggregate session is not initialized');
    return this.directory;
  }

  private emit(message: JsonRpcMessage): void {
    this.onmessage?.(message);
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? Object.fromEntries(Object.entries(value)) : {};
}
