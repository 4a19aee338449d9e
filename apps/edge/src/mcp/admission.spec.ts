import { Admission, type EdgeServer } from './admission.js';
import { McpHttpError, type McpHttpRequest } from './http-io.js';

const server: EdgeServer = { name: 'db', serviceAuths: [{ type: 'bearer', tokens: ['tok'] }], runnerGroup: 'default', timeoutMs: 1000 };

function request(headers: Record<string, string>): McpHttpRequest {
  return { method: 'POST', headers, query: new URLSearchParams(), body: undefined, onClose: () => undefined };
}

function refusal(admission: Admission, headers: Record<string, string>, name = 'db'): McpHttpError | undefined {
  try {
    admission.admit(request(headers), name);
    return undefined;
  } catch (err) {
    if (err instanceof McpHttpError) return err;
    throw err;
  }
}

describe('Admission', () => {
  const own = 'https://mcp.example.com';
  const open = new Admission(new Map([['db', server]]), { allowed: [], own });
  const strict = new Admission(new Map([['db', server]]), { allowed: ['https://claude.ai'], own });

  it('admits a caller with a valid credential', () => {
    expect(open.admit(request({ authorization: 'Bearer tok' }), 'db').principal.method).toBe('bearer');
  });

  it('answers an unknown server with 404 naming it', () => {
    const err = refusal(open, { authorization: 'Bearer tok' }, 'nope');
    expect(err?.status).toBe(404);
    expect(err?.message).toContain('"nope"');
  });

  it('answers a bad credential with 401 and the challenge', () => {
    const err = refusal(open, { authorization: 'Bearer nope' });
    expect(err?.status).toBe(401);
    expect(err?.headers).toEqual({ 'www-authenticate': ['Bearer realm="gatehouse"'] });
  });

  it('checks Origin against allowedOrigins when set, before credentials', () => {
    expect(refusal(strict, { authorization: 'Bearer tok', origin: 'https://evil.example' })?.status).toBe(403);
    expect(refusal(strict, { origin: 'https://evil.example' })?.status).toBe(403);
    expect(refusal(strict, { authorization: 'Bearer tok', origin: 'https://claude.ai' })).toBeUndefined();
    expect(refusal(strict, { authorization: 'Bearer tok' })).toBeUndefined();
    expect(refusal(open, { authorization: 'Bearer tok', origin: 'https://anything.example' })).toBeUndefined();
  });

  it('without an allow-list, lets only its own origin reach a server that takes no credentials', () => {
    const anonymous = new Admission(new Map([['open', { ...server, name: 'open', serviceAuths: [] }]]), { allowed: [], own });
    expect(refusal(anonymous, { origin: 'http://evil.example' }, 'open')?.status).toBe(403);
    expect(refusal(anonymous, { origin: own }, 'open')).toBeUndefined();
    expect(refusal(anonymous, {}, 'open')).toBeUndefined();
  });
});
