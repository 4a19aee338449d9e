import type { NatsConnection } from '@nats-io/transport-node';
import type { z } from 'zod';
import {
  AckReplySchema,
  AttachReplySchema,
  AuthHttpRequestSchema,
  AuthHttpResponseSchema,
  AuthJwksReplySchema,
  AuthJwksRequestSchema,
  DeliveryReplySchema,
  RevocationsListReplySchema,
  RevocationsListRequestSchema,
  RunnerPingReplySchema,
  RunnerPingRequestSchema,
  SessionAttachRequestSchema,
  SessionCloseRequestSchema,
  SessionClosedEventSchema,
  SessionInRequestSchema,
  SessionOpenReplySchema,
  SessionOpenRequestSchema,
  SessionRouteSchema,
  SessionTouchRequestSchema,
  StreamMessageSchema,
  TokenRevokedEventSchema,
} from '#contracts';

/** What a subject carries: its payload's contract, and its reply's when it is a request. */
export interface SubjectContract {
  /** A name for reports. */
  name: string;
  payload: z.ZodType;
  reply?: z.ZodType;
}

/** The subjects Gatehouse's services listen on, recognised by shape (ids vary from run to run). */
const CONTRACTS: [RegExp, SubjectContract][] = [
  [/^gh\.runner\.[^.]+\.session\.open$/, { name: 'session.open', payload: SessionOpenRequestSchema, reply: SessionOpenReplySchema }],
  [/^gh\.runner\.[^.]+\.ping$/, { name: 'runner.ping', payload: RunnerPingRequestSchema, reply: RunnerPingReplySchema }],
  [/^gh\.runner\.[^.]+\.session\.[^.]+\.in$/, { name: 'session.in', payload: SessionInRequestSchema, reply: AckReplySchema }],
  [/^gh\.runner\.[^.]+\.session\.[^.]+\.touch$/, { name: 'session.touch', payload: SessionTouchRequestSchema, reply: AckReplySchema }],
  [
    /^gh\.runner\.[^.]+\.session\.[^.]+\.attach$/,
    { name: 'session.attach', payload: SessionAttachRequestSchema, reply: AttachReplySchema },
  ],
  [/^gh\.runner\.[^.]+\.session\.[^.]+\.close$/, { name: 'session.close', payload: SessionCloseRequestSchema, reply: AckReplySchema }],
  [/^gh\.session\.[^.]+\.closed$/, { name: 'session.closed', payload: SessionClosedEventSchema }],
  [/^gh\.edge\.[^.]+\.stream\.[^.]+$/, { name: 'edge.stream', payload: StreamMessageSchema, reply: DeliveryReplySchema }],
  [/^gh\.auth\.http$/, { name: 'auth.http', payload: AuthHttpRequestSchema, reply: AuthHttpResponseSchema }],
  [/^gh\.auth\.jwks\.get$/, { name: 'auth.jwks', payload: AuthJwksRequestSchema, reply: AuthJwksReplySchema }],
  [/^gh\.auth\.revocations\.list$/, { name: 'auth.revocations', payload: RevocationsListRequestSchema, reply: RevocationsListReplySchema }],
  [/^gh\.auth\.token\.revoked$/, { name: 'auth.token.revoked', payload: TokenRevokedEventSchema }],
  [/^\$KV\.gh-sessions\.[^.]+$/, { name: 'kv.session-route', payload: SessionRouteSchema }],
];

export function contractOf(subject: string): SubjectContract | undefined {
  return CONTRACTS.find(([pattern]) => pattern.test(subject))?.[1];
}

/** A subject seen on the bus while a real client used the gateway, with the last payload it carried. */
export interface BusTarget {
  subject: string;
  sample: Uint8Array;
  contract: SubjectContract | undefined;
}

/**
 * Listens to every subject while `during` runs (a real client's session) and returns the ones
 * Gatehouse's services listen on, with what they carried: real runner, session and stream ids.
 */
export async function sniffTargets(nc: NatsConnection, during: () => Promise<void>): Promise<BusTarget[]> {
  const seen = new Map<string, Uint8Array>();
  const sub = nc.subscribe('>', {
    callback: (err, msg) => {
      if (!err && !msg.subject.startsWith('_INBOX.') && !msg.subject.startsWith('$JS.API.')) seen.set(msg.subject, msg.data);
    },
  });
  try {
    await during();
    await nc.flush();
  } finally {
    sub.unsubscribe();
  }
  return [...seen].map(([subject, sample]) => ({ subject, sample, contract: contractOf(subject) }));
}
