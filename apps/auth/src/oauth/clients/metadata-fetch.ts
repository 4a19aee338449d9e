import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { ClientMetadataError } from './client-metadata.error.js';
import { guardedLookup, ipLiteral, isAllowedAddress, type AddressRule } from './outbound-address.js';

/** How a client metadata document may be fetched. */
export interface FetchLimits {
  devMode: boolean;
  /** For the whole fetch: lookup, connect, TLS, headers and body. */
  timeoutMs: number;
  maxBytes: number;
  lookup: LookupFunction;
}

/** A 200 response's headers and its body, within the limits. */
export interface FetchedDocument {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Refusals that only concern the address, worded per rule; they never name the address. */
const REFUSED_ADDRESS: Record<Exclude<AddressRule, 'any'>, string> = {
  public: 'resolves to a private or reserved address, which is not allowed',
  loopback: 'resolves to an address that is not loopback, which http allows only on this machine',
};

/** Dev mode: http only to loopback, https anywhere; otherwise https to public addresses only. */
export function addressRuleFor(url: URL, devMode: boolean): AddressRule {
  if (!devMode) return 'public';
  return url.protocol === 'http:' ? 'loopback' : 'any';
}

export function describeBytes(bytes: number): string {
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

export function describeDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * GETs a client metadata document without following redirects, connecting only to addresses the
 * rule allows. Fails with a ClientMetadataError on a refused address, a non-200 answer, a body over
 * the limit, a transport error or the timeout.
 */
export function fetchMetadataDocument(clientId: string, url: URL, limits: FetchLimits): Promise<FetchedDocument> {
  const failure = (detail: string) => new ClientMetadataError(`client metadata document at ${clientId} ${detail}`);
  const rule = addressRuleFor(url, limits.devMode);
  const refused = rule === 'any' ? undefined : failure(REFUSED_ADDRESS[rule]);
  const literal = ipLiteral(url.hostname);
  // Sockets skip the lookup for IP literals, so those are checked here.
  if (literal !== undefined && refused !== undefined && !isAllowedAddress(literal, rule)) return Promise.reject(refused);
  return new Promise((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      agent: false,
      lookup: guardedLookup(limits.lookup, rule, () => refused ?? failure('could not be resolved')),
    });
    const timer = setTimeout(
      () => abort(failure(`could not be fetched: timed out after ${describeDuration(limits.timeoutMs)}`)),
      limits.timeoutMs,
    );
    let settled = false;
    const settle = (outcome: Error | FetchedDocument) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const abort = (err: Error) => {
      settle(err);
      request.destroy();
    };
    request.on('error', (err) => settle(transportFailure(err, failure)));
    request.on('response', (response) => readResponse(response, limits.maxBytes, { settle, abort, failure }));
    request.end();
  });
}

interface Outcome {
  settle: (outcome: Error | FetchedDocument) => void;
  abort: (err: Error) => void;
  failure: (detail: string) => ClientMetadataError;
}

function readResponse(response: IncomingMessage, maxBytes: number, outcome: Outcome): void {
  const { settle, abort, failure } = outcome;
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    return abort(failure(`could not be fetched: it answered with a redirect (HTTP ${status}), and redirects are not followed`));
  }
  if (status !== 200) return abort(failure(`could not be fetched: it answered HTTP ${status} (expected 200)`));
  const declared = Number(response.headers['content-length']);
  if (declared > maxBytes) return abort(failure(`is ${declared} bytes, over the ${describeBytes(maxBytes)} limit`));
  const chunks: Buffer[] = [];
  let received = 0;
  response.on('data', (chunk: Buffer) => {
    received += chunk.length;
    if (received > maxBytes) abort(failure(`is over the ${describeBytes(maxBytes)} limit`));
    else chunks.push(chunk);
  });
  response.on('end', () => settle({ headers: response.headers, body: Buffer.concat(chunks) }));
  response.on('error', (err) => settle(transportFailure(err, failure)));
}

/** Our own refusals pass through; other errors are named by their code, whose message could carry an address. */
function transportFailure(err: Error, failure: (detail: string) => ClientMetadataError): Error {
  if (err instanceof ClientMetadataError) return err;
  const code = 'code' in err && typeof err.code === 'string' ? err.code : 'network error';
  return failure(`could not be fetched: ${code}`);
}
