import type { Bus } from '#bus';
import { formatUserToken, type ServerConfig } from '#config';
import {
  decode,
  encode,
  userCredentialAad,
  UserCredentialReplySchema,
  UserCredentialRequestSchema,
  userCredentialSubject,
  type Principal,
} from '#contracts';
import type { Envelope } from '#crypto';

/** What a session's backend gets for `$userToken`, or why it gets nothing. */
export type CredentialAnswer =
  /** `token` is already put through the server's tokenFormat. `expiresAt`: ms since epoch, when auth knows it. */
  | { status: 'ok'; token: string; expiresAt?: number }
  /** Nobody has connected it. `connectUrl` is absent for a service caller, which has no page to go to. */
  | { status: 'missing'; connectUrl?: string; message: string }
  /** Worth a retry (auth down, the service's token endpoint failing). */
  | { status: 'unavailable'; message: string };

/** The credential a caller has for one server; `rejected` = sha256Base64Url of a formatted token the upstream refused. */
export interface CredentialLookup {
  get(server: ServerConfig, principal: Principal, rejected?: string): Promise<CredentialAnswer>;
}

export const CREDENTIAL_TIMEOUT_MS = 5000;

/**
 * A person's credential comes from auth over the bus, sealed for (sub, server), and is opened
 * here; a service caller's is its serviceAuth's `userToken`. The plaintext lives only in the answer.
 */
export class BusCredentialLookup implements CredentialLookup {
  constructor(
    private readonly bus: Bus,
    private readonly envelope: Envelope,
    private readonly timeoutMs = CREDENTIAL_TIMEOUT_MS,
  ) {}

  async get(server: ServerConfig, principal: Principal, rejected?: string): Promise<CredentialAnswer> {
    if (principal.method !== 'oauth') return serviceCredential(server, principal);
    const request = encode(UserCredentialRequestSchema, { sub: principal.sub, server: server.name, ...(rejected && { rejected }) });
    let data: Uint8Array;
    try {
      data = (await this.bus.request(userCredentialSubject, request, { timeoutMs: this.timeoutMs })).data;
    } catch {
      // No responder, no answer in time, or the bus itself failing: the same for the person.
      return { status: 'unavailable', message: `the gateway could not look up your credential for ${server.name}; try again` };
    }
    const reply = decode(UserCredentialReplySchema, data);
    if (!reply.ok) return { status: 'unavailable', message: `the gateway sent a malformed credential for ${server.name}; try again` };
    if (reply.value.status !== 'ok') return reply.value;
    try {
      const token = this.envelope.open(reply.value.sealed, userCredentialAad(principal.sub, server.name));
      return { status: 'ok', token, ...(reply.value.expiresAt !== undefined && { expiresAt: reply.value.expiresAt }) };
    } catch {
      // Keys differ between auth and this runner, or the value was altered: nothing a retry mends soon.
      return { status: 'unavailable', message: `your credential for ${server.name} could not be opened on this runner` };
    }
  }
}

/** A bearer or basic caller uses the `userToken` of the serviceAuth that let it in, if that serviceAuth has one. */
function serviceCredential(server: ServerConfig, principal: Principal): CredentialAnswer {
  const own = principal.serviceAuth?.server === server.name ? server.serviceAuths[principal.serviceAuth.index] : undefined;
  if (own?.userToken !== undefined && server.userAuthentication) {
    return { status: 'ok', token: formatUserToken(server.userAuthentication, own.userToken) };
  }
  const which = own ? `serviceAuths[${principal.serviceAuth?.index}]` : 'the credential you used';
  return {
    status: 'missing',
    message: `${server.name} needs a user token, and ${which} has no userToken for it: ask the gateway's administrator to set one, or sign in as a person`,
  };
}
