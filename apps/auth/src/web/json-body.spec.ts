import Fastify, { type FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH } from '#contracts';
import { OAuthError } from '../oauth/oauth-error.js';
import { parseJsonBodies } from './json-body.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('parseJsonBodies', () => {
  let fastify: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    fastify = Fastify();
    parseJsonBodies(fastify);
    // As auth's hooks do: anything that recurses into the body must only ever see bounded JSON.
    const echo = (req: { body: unknown }) => ({ length: JSON.stringify(req.body).length });
    fastify.post('/gw/register', echo);
    fastify.post('/gw/token', echo);
    // What OAuthErrorFilter answers for an OAuthError.
    fastify.setErrorHandler((err, _req, reply) =>
      err instanceof OAuthError
        ? reply.status(err.status).send({ error: err.code, error_description: err.message })
        : reply.status(500).send({ error: 'server_error' }),
    );
    url = await fastify.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => fastify.close());

  async function post(
    path: string,
    body: string,
    contentType = 'application/json',
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }

  it('parses JSON up to the depth limit', async () => {
    const res = await post('/gw/register', `{"a":${nested(MAX_JSON_DEPTH - 1)}}`);
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ length: 4 + 2 * (MAX_JSON_DEPTH - 1) + 2 });
  });

  it("refuses deeper JSON with 400 and the endpoint's OAuth error, before anything recurses into it", async () => {
    for (const depth of [MAX_JSON_DEPTH + 1, 10_000, 100_000]) {
      const register = await post('/gw/register?x=1', nested(depth));
      expect([register.status, register.json]).toEqual([
        400,
        { error: 'invalid_client_metadata', error_description: `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels deep` },
      ]);
      const token = await post('/gw/token', `{"x":${nested(depth)}}`, 'Application/JSON; charset=utf-8');
      expect([token.status, token.json.error]).toEqual([400, 'invalid_request']);
    }
  });

  it('counts brackets inside strings as text, not nesting', async () => {
    const res = await post('/gw/token', JSON.stringify({ text: nested(10_000) }));
    expect(res.status).toBe(200);
  });

  it("answers malformed JSON, an empty body and prototype poisoning with the endpoint's OAuth error", async () => {
    for (const payload of ['{not json', '', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"admin":true}}}']) {
      const res = await post('/gw/register', payload);
      expect([payload, res.status, res.json]).toEqual([
        payload,
        400,
        { error: 'invalid_client_metadata', error_description: 'the body is not valid JSON' },
      ]);
    }
  });
});
