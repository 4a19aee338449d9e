import { withinDeadline } from './idp-deadline.js';

describe('withinDeadline', () => {
  it('passes on what the IdP answered in time', async () => {
    await expect(withinDeadline(Promise.resolve('answer'), 'token request', 50)).resolves.toBe('answer');
    await expect(withinDeadline(Promise.reject(new Error('refused')), 'token request', 50)).rejects.toThrow('refused');
  });

  it('gives up on an IdP that does not answer, with an idp_error naming the step', async () => {
    const started = Date.now();
    const silence = new Promise<never>(() => undefined);
    await expect(withinDeadline(silence, 'token request', 50)).rejects.toMatchObject({
      name: 'IdpError',
      code: 'idp_error',
      message: expect.stringContaining('token request'),
    });
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
