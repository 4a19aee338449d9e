import { isLoopbackRedirect, redirectUriMatches, validateRedirectUri } from './redirect-uri.js';

const production = { devMode: false };

describe('validateRedirectUri', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com:8443/oauth/callback?tenant=a',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:33418/callback',
    'http://[::1]:8080/callback',
    'http://localhost:6274/oauth/callback',
    'http://localhost',
    'com.example.app:/oauth2redirect',
    'com.example.app://callback',
    'cursor://anysphere.cursor-retrieval/oauth/callback',
    'vscode://vscode.github-authentication/did-authenticate',
    'vscode-insiders://vscode.github-authentication/did-authenticate',
    'windsurf://codeium.windsurf/callback',
    'claude://oauth/callback',
  ])('accepts %s', (uri) => {
    expect(validateRedirectUri(uri, production)).toEqual({ ok: true });
  });

  it.each([
    ['javascript:', 'javascript:alert(1)', 'javascript: scheme'],
    ['data:', 'data:text/html,<script>x</script>', 'data: scheme'],
    ['file:', 'file:///etc/passwd', 'file: scheme'],
    ['blob:', 'blob:https://app.example.com/uuid', 'blob: scheme'],
    ['about:', 'about:blank', 'about: scheme'],
    ['vbscript:', 'vbscript:msgbox', 'vbscript: scheme'],
    ['a relative URI', '/callback', 'not an absolute URI'],
    ['a bare word', 'callback', 'not an absolute URI'],
    ['a fragment', 'https://app.example.com/callback#frag', 'fragment'],
    ['an empty fragment', 'https://app.example.com/callback#', 'fragment'],
    ['userinfo on https', 'https://user@app.example.com/callback', 'username or password'],
    ['userinfo on a loopback lookalike', 'http://127.0.0.1:80@evil.example/callback', 'username or password'],
    ['userinfo on an app scheme', 'com.example.app://user:pw@host/cb', 'username or password'],
    ['http on a public host', 'http://app.example.com/callback', 'http only on'],
    ['http on a private address', 'http://10.0.0.1/callback', 'http only on'],
    ['http on a localhost lookalike', 'http://localhost.evil.example/callback', 'http only on'],
    ['http on a shortened loopback address', 'http://127.1/callback', 'http only on'],
    ['a dotless unknown app scheme', 'myapp://callback', 'reverse-domain'],
    ['whitespace', 'https://app.example.com/call back', 'whitespace'],
    ['a newline', 'https://app.example.com/callback\n', 'whitespace'],
    ['a backslash', 'https://app.example.com\\callback', 'backslashes'],
    ['https without an authority', 'https:app.example.com/callback', 'absolute https'],
    ['an overlong URI', `https://app.example.com/${'a'.repeat(2100)}`, 'longer than'],
  ])('refuses %s', (_case, uri, reason) => {
    const verdict = validateRedirectUri(uri, production);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok ? '' : verdict.reason).toContain(reason);
  });

  it('holds https hosts to allowedHosts when it is set, but not loopback or app schemes', () => {
    const options = { devMode: false, allowedHosts: ['claude.ai', 'app.example.com'] };
    expect(validateRedirectUri('https://claude.ai/api/mcp/auth_callback', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://App.Example.com/cb', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://evil.example/cb', options)).toEqual({
      ok: false,
      reason: 'uses the host evil.example, which is not among the allowed redirect URI hosts',
    });
    expect(validateRedirectUri('https://claude.ai.evil.example/cb', options).ok).toBe(false);
    expect(validateRedirectUri('http://127.0.0.1:9000/cb', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://localhost:9000/cb', options)).toEqual({ ok: true });
    expect(validateRedirectUri('cursor://anysphere.cursor-retrieval/oauth/callback', options)).toEqual({ ok: true });
  });

  it('takes origins in allowedHosts as mcp-front writes them: scheme and host, and the port when one is named', () => {
    const options = { devMode: false, allowedHosts: ['https://claude.ai', 'https://app.example.com:8443', 'http://mcp.example.com'] };
    expect(validateRedirectUri('https://claude.ai/api/mcp/auth_callback', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://claude.ai:444/cb', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://app.example.com:8443/cb', options)).toEqual({ ok: true });
    expect(validateRedirectUri('https://app.example.com/cb', options).ok).toBe(false);
    expect(validateRedirectUri('https://app.example.com:9443/cb', options).ok).toBe(false);
    // An http origin never admits an https URI of its host, and http stays loopback-only.
    expect(validateRedirectUri('https://mcp.example.com/cb', options).ok).toBe(false);
    expect(validateRedirectUri('http://mcp.example.com/cb', options).ok).toBe(false);
    expect(validateRedirectUri('https://claude.ai.evil.example/cb', options).ok).toBe(false);
  });

  it('applies the same rules in dev mode', () => {
    expect(validateRedirectUri('http://app.example.com/callback', { devMode: true }).ok).toBe(false);
    expect(validateRedirectUri('http://127.0.0.1:1/callback', { devMode: true }).ok).toBe(true);
  });
});

describe('isLoopbackRedirect', () => {
  it('recognises http on 127.0.0.1, [::1] and localhost only', () => {
    expect(['http://127.0.0.1:1/cb', 'http://[::1]/cb', 'http://localhost:65535?x=1'].map(isLoopbackRedirect)).toEqual([true, true, true]);
    expect(
      ['https://127.0.0.1/cb', 'http://127.0.0.2/cb', 'http://localhost.evil.example/', 'http://127.0.0.1:99999/', 'http://LOCALHOST/'].map(
        isLoopbackRedirect,
      ),
    ).toEqual([false, false, false, false, false]);
  });
});

describe('redirectUriMatches', () => {
  const registered = ['https://app.example.com/callback', 'http://127.0.0.1:3000/callback?x=1', 'http://localhost/cb'];

  it('matches a registered URI exactly', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/callback')).toBe(true);
  });

  it('does not match a URI that differs in anything but a loopback port', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/callback/')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com:443/callback')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/callback?x=1')).toBe(false);
    expect(redirectUriMatches(registered, 'https://APP.example.com/callback')).toBe(false);
  });

  it('matches a loopback URI on another port (RFC 8252 §7.3)', () => {
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback?x=1')).toBe(true);
    expect(redirectUriMatches(registered, 'http://127.0.0.1/callback?x=1')).toBe(true);
    expect(redirectUriMatches(registered, 'http://localhost:8080/cb')).toBe(true);
  });

  it('does not let a loopback port change carry a different host, path, query or scheme', () => {
    expect(redirectUriMatches(registered, 'http://localhost:51234/callback?x=1')).toBe(false);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback?x=2')).toBe(false);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback')).toBe(false);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/other?x=1')).toBe(false);
    expect(redirectUriMatches(registered, 'https://127.0.0.1:51234/callback?x=1')).toBe(false);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback?x=1#f')).toBe(false);
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234@evil.example/callback?x=1')).toBe(false);
  });

  it('does not give a registered https URI port freedom', () => {
    expect(redirectUriMatches(['https://127.0.0.1:3000/cb'], 'https://127.0.0.1:4000/cb')).toBe(false);
    expect(redirectUriMatches(['https://app.example.com/cb'], 'https://app.example.com:8443/cb')).toBe(false);
  });
});
