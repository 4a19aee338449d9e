import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { errorResponse, JsonRpcCode } from '#contracts';
import { pathOf, sendJson } from '../mcp/http-io.js';
import type { HostPolicy } from './host-check.js';
import { MAX_HEADER_COUNT } from './http-limits.js';

/** Past this much of a refused body, the connection is cut instead of read to its end. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/** A request refused before any route sees it: its HTTP status and what its JSON-RPC error says. */
export interface Refusal {
  status: 403 | 413 | 431;
  message: string;
}

/**
 * What every request passes before it is routed, whichever way it is served (Fastify's routes, or
 * the MCP routes below them): a Host the edge answers (DNS rebinding), a declared body within the
 * limit, and no more header fields than the limit (the HTTP server keeps one field over it, so
 * that there is one to count).
 */
export class RequestGate {
  private readonly probes: ReadonlySet<string>;

  constructor(
    private readonly hosts: HostPolicy,
    basePath: string,
    readonly maxBodyBytes: number,
  ) {
    // Orchestrators probe by IP: the probes answer any Host.
    this.probes = new Set([`${basePath}/health`, `${basePath}/ready`]);
  }

  refusal(req: IncomingMessage): Refusal | undefined {
    if (!this.probes.has(pathOf(req.url ?? '')) && !this.hosts.allows(req.headers.host)) {
      return { status: 403, message: 'Forbidden: this Host is not served here (see proxy.allowedHosts)' };
    }
    if (Number(req.headers['content-length'] ?? 0) > this.maxBodyBytes) return this.tooLarge();
    if (req.rawHeaders.length / 2 > MAX_HEADER_COUNT) {
      return { status: 431, message: `Request has more than ${MAX_HEADER_COUNT} header fields` };
    }
    return undefined;
  }

  /** The refusal of a body over the limit, declared or found while reading it. */
  tooLarge(): Refusal {
    return { status: 413, message: `Request body is larger than the limit of ${this.maxBodyBytes} bytes` };
  }

  /** Refuses, as a hook, what `refusal` refuses of Fastify's routes. */
  register(fastify: FastifyInstance): void {
    // Callback-style: an async hook costs a promise and a turn per request.
    fastify.addHook('onRequest', (req, reply, done) => {
      const refused = this.refusal(req.raw);
      if (!refused) return done();
      reply.hijack();
      refuse(req.raw, reply.raw, refused);
    });
  }
}

/**
 * Answers a refusal with its JSON-RPC error, and reads and drops what is left of the request's
 * body, so the connection stays usable and the client reads its answer: closing with input unread
 * makes the kernel reset the connection, and the client often loses the answer. A body past
 * DRAIN_LIMIT_BYTES cuts the connection instead.
 */
export function refuse(req: IncomingMessage, res: ServerResponse, refused: Refusal): void {
  drain(req);
  sendJson(res, refused.status, errorResponse(null, JsonRpcCode.invalidRequest, refused.message));
}

function drain(req: IncomingMessage): void {
  let drained = 0;
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > DRAIN_LIMIT_BYTES) req.destroy();
  });
  req.resume();
}
