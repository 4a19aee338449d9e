import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jsonNestedDeeperThan, MAX_JSON_DEPTH } from '#contracts';
import { OAuthError } from '../oauth/oauth-error.js';

/**
 * Replaces Fastify's JSON body parser with one that refuses JSON nested deeper than
 * MAX_JSON_DEPTH before it is parsed, so nothing after it (hooks that stringify the body,
 * schemas) can recurse out of stack. Refusals and malformed JSON are the endpoint's OAuth error.
 */
export function parseJsonBodies(fastify: FastifyInstance): void {
  // Fastify's own parser, with its prototype-poisoning checks, does the parsing itself.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser<string>('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonNestedDeeperThan(body)) return done(refusal(req, `JSON bodies may nest at most ${MAX_JSON_DEPTH} levels deep`), undefined);
    parseJson.call(fastify, req, body, (err: Error | null, value?: unknown) => {
      if (err === null) done(null, value);
      else done(refusal(req, 'the body is not valid JSON'), undefined);
    });
  });
}

/** RFC 7591 §3.2.2 names the registration endpoint's error; elsewhere it is a malformed request. */
function refusal(req: FastifyRequest, description: string): OAuthError {
  const path = req.url.split('?')[0] ?? '';
  return new OAuthError(path.endsWith('/register') ? 'invalid_client_metadata' : 'invalid_request', description);
}
