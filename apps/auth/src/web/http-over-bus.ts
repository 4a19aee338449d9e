import type { FastifyInstance } from 'fastify';
import type { Bus, BusMessage, BusSubscription } from '#bus';
import { AuthHttpRequestSchema, AuthHttpResponseSchema, authHttpQueue, authHttpSubject, decode, encode } from '#contracts';
import type { Logger } from '#observability';

/** Answers edge's relayed HTTP requests with in-process request injection: auth has no port. */
export class HttpOverBus {
  private subscription: BusSubscription | undefined;

  constructor(
    private readonly bus: Bus,
    private readonly fastify: FastifyInstance,
    private readonly log: Logger,
  ) {}

  start(): void {
    // Each request is answered on its own, so a slow one does not hold up the queue behind it.
    this.subscription = this.bus.subscribe(authHttpSubject, (m) => void this.answer(m).catch((err: unknown) => this.failed(m, err)), {
      queue: authHttpQueue,
    });
  }

  stop(): void {
    this.subscription?.unsubscribe();
  }

  private failed(msg: BusMessage, err: unknown): void {
    this.log.error({ err }, 'relayed HTTP request failed');
    msg.respond(encode(AuthHttpResponseSchema, { status: 503, headers: {}, body: '' }));
  }

  private async answer(msg: BusMessage): Promise<void> {
    const request = decode(AuthHttpRequestSchema, msg.data);
    if (!request.ok) {
      this.log.warn({ error: request.error }, 'malformed relayed HTTP request');
      return void msg.respond(encode(AuthHttpResponseSchema, { status: 400, headers: {}, body: '' }));
    }
    const { method, url, headers, body, clientIp } = request.value;
    const response = await this.fastify.inject({ method, url, headers, payload: Buffer.from(body, 'base64'), remoteAddress: clientIp });
    const outHeaders: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(response.headers)) {
      if (value !== undefined) outHeaders[name] = Array.isArray(value) ? value : String(value);
    }
    msg.respond(
      encode(AuthHttpResponseSchema, { status: response.statusCode, headers: outHeaders, body: response.rawPayload.toString('base64') }),
    );
  }
}
