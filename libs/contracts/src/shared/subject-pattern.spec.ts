import { poolCallSubject, sessionInSubject, sessionOpenSubject, streamSubject, subjectPattern, tokenRevokedSubject } from '../index.js';

describe('subjectPattern', () => {
  it.each([
    [sessionInSubject('r1a2b3', 'sess-9f'), 'gh.runner.*.session.*.in'],
    ['gh.runner.r1.session.s1.attach', 'gh.runner.*.session.*.attach'],
    ['gh.runner.r1.session.s1.touch', 'gh.runner.*.session.*.touch'],
    ['gh.runner.r1.session.s1.close', 'gh.runner.*.session.*.close'],
    [sessionOpenSubject('e2eabc'), 'gh.runner.*.session.open'],
    [poolCallSubject('runner-7'), 'gh.runner.*.pool.call'],
    ['gh.runner.default.ping', 'gh.runner.*.ping'],
    [streamSubject('edge1', 'stream1'), 'gh.edge.*.stream.*'],
    ['gh.session.abc.closed', 'gh.session.*.closed'],
    [tokenRevokedSubject, 'gh.auth.token.revoked'],
    ['gh.auth.http', 'gh.auth.http'],
    ['gh.auth.audit.append', 'gh.auth.audit.append'],
  ])('%s → %s', (subject, pattern) => {
    expect(subjectPattern(subject)).toBe(pattern);
  });

  it('keeps no token of a subject it does not know', () => {
    for (const subject of ['gh.auth.secret-user-id', 'gh.runner.r1.session.s1.in.extra', 'user@example.com', '', 'gh.edge.e1.stream']) {
      expect(subjectPattern(subject)).toBe('other');
    }
  });
});
