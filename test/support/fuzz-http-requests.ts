import fc from 'fast-check';
import { headerText, sometimes } from './fuzz-arbitraries.js';
import { initializeBody, largeBody, mcpBody, protocolVersion, statelessRequest } from './fuzz-json-rpc.js';
import { oauthRequests, otherRequests, type FuzzSite } from './fuzz-oauth-requests.js';

/** The fuzz gateway's servers: static bearer token, basic credentials, OAuth only. */
export const FUZZ_SERVERS = ['bearer', 'basic', 'open'] as const;
export type FuzzServer = (typeof FUZZ_SERVERS)[number];

/**
 * Authorization, symbolically: the generator knows no secrets, the harness fills them in, so a
 * counterexample reads "the right credential of `open`" rather than a token that expired.
 */
export type Credential =
  | { kind: 'none' }
  /** The right credential of the server the path names. */
  | { kind: 'own' }
  | { kind: 'valid'; server: FuzzServer }
  | { kind: 'tampered-token'; at: number }
  | { kind: 'literal'; value: string };

/** A live session of the harness to name in the request, or none. */
export type SessionChoice = { kind: 'none' } | { kind: 'live'; server: FuzzServer; transport: 'streamable-http' | 'sse' };

export interface FuzzRequest {
  method: string;
  /** Path and query; `{session}` stands for the chosen live session's id. */
  path: string;
  headers: Record<string, string>;
  credential: Credential;
  session: SessionChoice;
  body?: string | Uint8Array;
}

/** Usually `usual`, sometimes absent or something else entirely. */
function mostly<T>(usual: fc.Arbitrary<T>, other: fc.Arbitrary<T | undefined>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: usual, weight: 10 }, { arbitrary: other, weight: 1 }, { arbitrary: fc.constant(undefined), weight: 1 });
}

const server = fc.oneof(
  { arbitrary: fc.constantFrom<string>(...FUZZ_SERVERS), weight: 8 },
  { arbitrary: fc.constantFrom('nope', 'BEARER', '%2e%2e', 'a%00b', '..', '%', 'x'.repeat(3000), 'bearer%2Fmcp'), weight: 1 },
  { arbitrary: fc.webSegment(), weight: 1 },
);

const sessionIdLiteral = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9_-]{22}$/),
  fc.constantFrom('a.b.>', '*', '>', 'gh.runner.>', '', ' ', 'x'.repeat(5000), 'AAAAAAAAAAAAAAAAAAAAA.'),
  headerText(30),
);

export const credential: fc.Arbitrary<Credential> = fc.oneof(
  { arbitrary: fc.constant<Credential>({ kind: 'own' }), weight: 40 },
  { arbitrary: fc.constantFrom<FuzzServer>(...FUZZ_SERVERS).map((s): Credential => ({ kind: 'valid', server: s })), weight: 2 },
  { arbitrary: fc.constant<Credential>({ kind: 'none' }), weight: 1 },
  { arbitrary: fc.nat().map((at): Credential => ({ kind: 'tampered-token', at })), weight: 1 },
  {
    arbitrary: fc
      .oneof(
        fc.constantFrom('Bearer', 'Bearer ', 'Basic', 'Basic !!!', 'Basic Og==', 'Digest x', 'bearer  a b', `Bearer ${'x'.repeat(9000)}`),
        fc.constantFrom('Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.', 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.c2ln', 'Bearer a.b.c'),
        headerText(12).map((user) => `Basic ${Buffer.from(`${user}:${user}`).toString('base64')}`),
        headerText(60).map((t) => `Bearer ${t}`),
        headerText(60),
      )
      .map((value): Credential => ({ kind: 'literal', value })),
    weight: 3,
  },
);

/** Headers of an MCP request: mostly what a client sends, now and then anything at all. */
function mcpHeaders(options: { contentType: boolean }) {
  return fc
    .record({
      accept: mostly(
        fc.constantFrom('application/json, text/event-stream', 'application/json', 'text/event-stream', '*/*'),
        fc.oneof(fc.constantFrom('text/html', 'application/*', ''), headerText()),
      ),
      'content-type': options.contentType
        ? mostly(
            fc.constantFrom('application/json', 'application/json; charset=utf-8', 'Application/JSON'),
            fc.oneof(fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x'), headerText()),
          )
        : fc.constant(undefined),
      'mcp-protocol-version': sometimes(protocolVersion, 2),
      origin: sometimes(fc.oneof(fc.constantFrom('https://evil.example', 'null', 'http://127.0.0.1'), headerText()), 6),
      host: sometimes(fc.oneof(fc.constantFrom('evil.example', 'localhost:1', '[::1]', ''), headerText(20)), 10),
      'last-event-id': sometimes(headerText(30), 6),
      traceparent: sometimes(fc.oneof(fc.constant('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), headerText()), 8),
      'content-encoding': sometimes(fc.constantFrom('gzip', 'br', 'identity', 'x'), 30),
    })
    .map(withoutAbsent);
}

function withoutAbsent(headers: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}

/** A live session most of the time, so the fuzz reaches the relay, the runner and the backend. */
const session = (transport: 'streamable-http' | 'sse'): fc.Arbitrary<SessionChoice> =>
  fc.oneof(
    {
      arbitrary: fc.constantFrom<FuzzServer>(...FUZZ_SERVERS).map((s): SessionChoice => ({ kind: 'live', server: s, transport })),
      weight: 6,
    },
    { arbitrary: fc.constant<SessionChoice>({ kind: 'none' }), weight: 1 },
  );

/** The live session's own server and credential usually, someone else's sometimes. */
function sessionPath(choice: SessionChoice, fallback: string): string {
  return choice.kind === 'live' ? choice.server : fallback;
}

const streamablePost = fc
  .record({
    server,
    session: session('streamable-http'),
    literalSession: sometimes(sessionIdLiteral, 8),
    credential,
    headers: mcpHeaders({ contentType: true }),
    body: fc.oneof({ arbitrary: mcpBody, weight: 50 }, { arbitrary: initializeBody, weight: 10 }, { arbitrary: largeBody, weight: 1 }),
    ownServer: fc.oneof({ arbitrary: fc.constant(true), weight: 7 }, { arbitrary: fc.constant(false), weight: 1 }),
  })
  .map(({ server, session, literalSession, credential, headers, body, ownServer }): FuzzRequest => {
    const path = `/${ownServer ? sessionPath(session, server) : server}/mcp`;
    const id = literalSession ?? (session.kind === 'live' ? '{session}' : undefined);
    return { method: 'POST', path, headers: { ...headers, ...(id !== undefined && { 'mcp-session-id': id }) }, credential, session, body };
  });

/** 2026-07-28: no session; headers that mostly mirror the body (Mcp-Name sometimes Base64-encoded), sometimes not. */
const statelessPost = fc
  .record({
    server,
    credential,
    headers: mcpHeaders({ contentType: true }),
    request: statelessRequest,
    version: fc.oneof({ arbitrary: fc.constant('2026-07-28'), weight: 10 }, { arbitrary: protocolVersion, weight: 1 }),
    methodHeader: fc.oneof({ arbitrary: fc.constant(true), weight: 8 }, { arbitrary: sometimes(headerText(20), 2), weight: 1 }),
    nameHeader: fc.oneof(
      { arbitrary: fc.constant<'plain' | 'base64'>('plain'), weight: 8 },
      { arbitrary: fc.constant<'plain' | 'base64'>('base64'), weight: 2 },
      {
        arbitrary: sometimes(fc.oneof(headerText(20), fc.constantFrom('=?base64?!!?=', '=?base64??=', '=?BASE64?ZWNobw==?=')), 2),
        weight: 1,
      },
    ),
  })
  .map(({ server, credential, headers, request, version, methodHeader, nameHeader }): FuzzRequest => {
    const method = methodHeader === true ? request.method : methodHeader;
    const name =
      nameHeader === 'plain'
        ? request.name
        : nameHeader === 'base64'
          ? `=?base64?${Buffer.from(request.name).toString('base64')}?=`
          : nameHeader;
    const mirrored = {
      'mcp-protocol-version': version,
      ...(method !== undefined && { 'mcp-method': method }),
      ...(name !== undefined && { 'mcp-name': name }),
    };
    return {
      method: 'POST',
      path: `/${server}/mcp`,
      headers: { ...headers, ...mirrored },
      credential,
      session: { kind: 'none' },
      body: request.body,
    };
  });

const streamableGetOrDelete = fc
  .record({
    method: fc.constantFrom('GET', 'DELETE', 'GET', 'HEAD', 'PUT', 'PATCH', 'OPTIONS'),
    server,
    session: session('streamable-http'),
    literalSession: sometimes(sessionIdLiteral, 4),
    credential,
    headers: mcpHeaders({ contentType: false }),
  })
  .map(({ method, server, session, literalSession, credential, headers }): FuzzRequest => {
    const id = literalSession ?? (session.kind === 'live' ? '{session}' : undefined);
    const path = `/${sessionPath(session, server)}/mcp`;
    return { method, path, headers: { ...headers, ...(id !== undefined && { 'mcp-session-id': id }) }, credential, session };
  });

const legacyStream = fc
  .record({ method: fc.constantFrom('GET', 'GET', 'POST', 'DELETE'), server, credential, headers: mcpHeaders({ contentType: false }) })
  .map(({ method, server, credential, headers }): FuzzRequest => ({
    method,
    path: `/${server}/sse`,
    headers,
    credential,
    session: { kind: 'none' },
  }));

const legacyMessage = fc
  .record({
    session: session('sse'),
    server,
    query: fc.oneof(
      { arbitrary: fc.constant('?sessionId={session}'), weight: 6 },
      { arbitrary: sessionIdLiteral.map((id) => `?sessionId=${encodeURIComponent(id)}`), weight: 1 },
      { arbitrary: fc.constantFrom('', '?sessionId=', '?sessionId={session}&sessionId=AAAAAAAAAAAAAAAAAAAAAA', '?session=1'), weight: 1 },
    ),
    credential,
    headers: mcpHeaders({ contentType: true }),
    body: mcpBody,
  })
  .map(({ session, server, query, credential, headers, body }): FuzzRequest => ({
    method: 'POST',
    path: `/${sessionPath(session, server)}/message${query}`,
    headers,
    credential,
    session,
    body,
  }));

/** Every route the gateway serves, weighted towards the MCP transports where most of the code is. */
export function fuzzRequests(site: FuzzSite): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { arbitrary: streamablePost, weight: 30 },
    { arbitrary: statelessPost, weight: 12 },
    { arbitrary: streamableGetOrDelete, weight: 8 },
    { arbitrary: legacyStream, weight: 3 },
    { arbitrary: legacyMessage, weight: 12 },
    { arbitrary: oauthRequests(site), weight: 20 },
    { arbitrary: otherRequests, weight: 10 },
  );
}
