import { consentPage } from './consent-page.js';
import { createHash } from 'node:crypto';
import { errorPage, formTargetOf, page, PAGE_HEADERS, pageHeaders } from './html.js';

describe('pages carry the gateway name (proxy.name)', () => {
  it('shows it, escaped, in the title and above the heading of an error page', () => {
    const html = errorPage('Acme <MCP>', 'Access denied', 'Ask your administrator.', 'https://app.example/cb?error=x&y=1');
    expect(html).toContain('<title>Access denied · Acme &lt;MCP&gt;</title>');
    expect(html).toContain('<p class="muted">Acme &lt;MCP&gt;</p><h1>Access denied</h1>');
    expect(html).toContain('href="https://app.example/cb?error=x&amp;y=1"');
    expect(html).not.toContain('<MCP>');
  });

  it('names the gateway on the consent page', () => {
    const html = consentPage({
      gateway: 'Acme MCP',
      clientName: 'Claude',
      clientId: 'c1',
      redirectHost: 'claude.ai',
      servers: ['db'],
      choose: false,
      pendingId: 'p',
      csrf: 'x',
      action: '/oauth/consent',
    });
    expect(html).toContain('<title>Allow Claude? · Acme MCP</title>');
    expect(html).toContain('wants to connect to Acme MCP.');
  });
});

describe('page headers', () => {
  it("allow no script, only the page's own style (by hash), no framing, and forms to Gatehouse only", () => {
    const csp = PAGE_HEADERS['content-security-policy'] ?? '';
    const style = /<style>([^<]*)<\/style>/.exec(page('g', 't', ''))?.[1] ?? '';
    const hash = createHash('sha256').update(style).digest('base64');
    expect(csp).toBe(`default-src 'none'; style-src 'sha256-${hash}'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'`);
    expect(PAGE_HEADERS['x-frame-options']).toBe('DENY');
  });

  it("add the origins (or app schemes) a form's answer redirects to", () => {
    const targets = [...formTargetOf('http://127.0.0.1:3334/cb?x=1'), ...formTargetOf('cursor://anysphere/cb'), ...formTargetOf('::')];
    expect(targets).toEqual(['http://127.0.0.1:3334', 'cursor:']);
    expect(pageHeaders(targets)['content-security-policy']).toMatch(/; form-action 'self' http:\/\/127\.0\.0\.1:3334 cursor:$/);
  });
});
