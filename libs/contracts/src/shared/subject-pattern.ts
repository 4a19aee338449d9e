import { auditAppendSubject } from '../audit-append/index.js';
import { authHttpSubject } from '../auth-http/index.js';
import { authJwksSubject } from '../auth-jwks/index.js';
import { poolCallSubject } from '../pool-call/index.js';
import { runnerPingSubject } from '../runner-ping/index.js';
import { sessionAttachSubject } from '../session-attach/index.js';
import { sessionCloseSubject } from '../session-close/index.js';
import { sessionClosedSubject } from '../session-closed/index.js';
import { sessionInSubject } from '../session-in/index.js';
import { sessionOpenSubject } from '../session-open/index.js';
import { streamSubject } from '../session-stream/index.js';
import { sessionTouchSubject } from '../session-touch/index.js';
import { revocationsListSubject, tokenRevokedSubject } from '../token-revoked/index.js';
import { userCredentialSubject } from '../user-credential/index.js';

/** Every subject of the contracts, its ids (runner, group, session, edge, stream) as `*`. */
const PATTERNS: readonly (readonly string[])[] = [
  runnerPingSubject('*'),
  poolCallSubject('*'),
  sessionOpenSubject('*'),
  sessionInSubject('*', '*'),
  sessionAttachSubject('*', '*'),
  sessionTouchSubject('*', '*'),
  sessionCloseSubject('*', '*'),
  sessionClosedSubject('*'),
  streamSubject('*', '*'),
  authHttpSubject,
  authJwksSubject,
  tokenRevokedSubject,
  revocationsListSubject,
  userCredentialSubject,
  auditAppendSubject,
].map((pattern) => pattern.split('.'));

/**
 * The pattern a concrete subject was made from (`gh.runner.r1.session.s1.in` →
 * `gh.runner.*.session.*.in`), or `other`: a bounded label for metrics, never an id.
 */
export function subjectPattern(subject: string): string {
  const tokens = subject.split('.');
  const found = PATTERNS.find((p) => p.length === tokens.length && p.every((token, i) => token === '*' || token === tokens[i]));
  return found ? found.join('.') : 'other';
}
