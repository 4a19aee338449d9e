import { authenticate, type ServiceAuth } from './service-auth.js';

const bearer: ServiceAuth = { type: 'bearer', tokens: ['token-one', 'token-two'] };
const basic: ServiceAuth = { type: 'basic', username: 'alice', password: 's3cret:with:colons' };
const BEARER_CHALLENGE = 'Bearer realm="gatehouse"';
const BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"';

const basicHeader = (userPass: string) => `Basic ${Buffer.from(userPass, 'utf8').toString('base64')}`;

describe('authenticate', () => {
  describe('bearer', () => {
    it('accepts a configured token', () => {
      expect(authenticate('Bearer token-two', [bearer])).toEqual({
        ok: true,
        principal: { sub: expect.stringMatching(/^bearer:/), method: 'bearer', serviceAuth: { server: 'service', index: 0 } },
      });
    });

    it('names which serviceAuth of which server authenticated the caller', () => {
      const result = authenticate('Bearer token-one', [basic, bearer], 'notes');
      expect(result).toMatchObject({ ok: true, principal: { serviceAuth: { server: 'notes', index: 1 } } });
    });

    it('refuses an unknown token with a Bearer challenge', () => {
      expect(authenticate('Bearer token-three', [bearer])).toEqual({ ok: false, challenges: [BEARER_CHALLENGE] });
    });

    it('refuses a missing header', () => {
      expect(authenticate(undefined, [bearer])).toEqual({ ok: false, challenges: [BEARER_CHALLENGE] });
    });

    it('refuses a prefix of a configured token', () => {
      expect(authenticate('Bearer token-on', [bearer]).ok).toBe(false);
    });

    it('gives distinct tokens distinct subs that do not contain the token', () => {
      const one = authenticate('Bearer token-one', [bearer]);
      const two = authenticate('Bearer token-two', [bearer]);
      if (!one.ok || !two.ok) throw new Error('both tokens should be accepted');
      expect(one.principal.sub).not.toBe(two.principal.sub);
      expect(one.principal.sub).not.toContain('token-one');
      expect(two.principal.sub).not.toContain('token-two');
    });

    it('gives the same token the same sub every time', () => {
      expect(authenticate('Bearer token-one', [bearer])).toEqual(authenticate('Bearer token-one', [bearer]));
    });
  });

  describe('basic', () => {
    it('accepts the configured user and password, splitting at the first colon', () => {
      const result = authenticate(basicHeader('alice:s3cret:with:colons'), [basic]);
      expect(result).toEqual({
        ok: true,
        principal: { sub: 'basic:service/0', method: 'basic', serviceAuth: { server: 'service', index: 0 } },
      });
      expect(JSON.stringify(result)).not.toContain('s3cret');
    });

    it('refuses a wrong password', () => {
      expect(authenticate(basicHeader('alice:s3cret'), [basic])).toEqual({ ok: false, challenges: [BASIC_CHALLENGE] });
    });

    it('refuses a wrong user', () => {
      expect(authenticate(basicHeader('bob:s3cret:with:colons'), [basic]).ok).toBe(false);
    });

    it('refuses malformed base64 without throwing', () => {
      expect(authenticate('Basic %%%not-base64%%%', [basic])).toEqual({ ok: false, challenges: [BASIC_CHALLENGE] });
    });

    it('refuses a credential without a colon', () => {
      expect(authenticate(basicHeader('alices3cret'), [basic]).ok).toBe(false);
    });
  });

  it('reads the scheme case-insensitively', () => {
    expect(authenticate('bEaReR token-one', [bearer]).ok).toBe(true);
    expect(authenticate(basicHeader('alice:s3cret:with:colons').replace('Basic', 'BASIC'), [basic]).ok).toBe(true);
  });

  it('does not accept a bearer token under the basic scheme', () => {
    expect(authenticate('Basic token-one', [bearer]).ok).toBe(false);
  });

  it('treats a server without configured credentials as open to anonymous callers', () => {
    const anonymous = { ok: true, principal: { sub: 'anonymous', method: 'anonymous' } };
    expect(authenticate(undefined, [])).toEqual(anonymous);
    expect(authenticate('Bearer anything', [])).toEqual(anonymous);
  });

  it('lists a challenge for each configured type, once', () => {
    const second: ServiceAuth = { type: 'bearer', tokens: ['other'] };
    expect(authenticate('Digest x', [bearer, basic, second])).toEqual({ ok: false, challenges: [BEARER_CHALLENGE, BASIC_CHALLENGE] });
  });

  it('accepts a credential matching any of several configured auths', () => {
    expect(authenticate(basicHeader('alice:s3cret:with:colons'), [bearer, basic])).toMatchObject({
      ok: true,
      principal: { method: 'basic' },
    });
    expect(authenticate('Bearer token-one', [basic, bearer])).toMatchObject({ ok: true, principal: { method: 'bearer' } });
  });
});
