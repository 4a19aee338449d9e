import { consentPage } from './consent-page.js';
import { errorPage } from './html.js';

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
