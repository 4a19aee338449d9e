import { escapeHtml, page } from './html.js';

export interface ConsentView {
  /** The gateway's display name (proxy.name). */
  gateway: string;
  clientName: string;
  clientId: string;
  redirectHost: string;
  /** Servers asked for; when `choose` is set, every server the user may pick from. */
  servers: string[];
  /** The client named no resource: the user picks the servers to grant. */
  choose: boolean;
  /** The person is signed in already: allowing sends the application back at once. */
  signedIn?: boolean;
  pendingId: string;
  csrf: string;
  /** The form's action (base path + /oauth/consent). */
  action: string;
  error?: string;
}

/** The page where a person allows (or refuses) an application to use MCP servers in their name. */
export function consentPage(view: ConsentView): string {
  const servers = view.choose
    ? view.servers
        .map((s) => `<li><label><input type="checkbox" name="server" value="${escapeHtml(s)}"> ${escapeHtml(s)}</label></li>`)
        .join('')
    : view.servers.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('');
  const ask = view.choose ? 'Choose the MCP servers it may use in your name:' : 'It asks to use these MCP servers in your name:';
  const error = view.error === undefined ? '' : `<p role="alert"><strong>${escapeHtml(view.error)}</strong></p>`;
  const body = `${error}<p><strong>${escapeHtml(view.clientName)}</strong> wants to connect to ${escapeHtml(view.gateway)}.</p>
<p class="muted">${view.signedIn === true ? 'After you allow it' : 'After you sign in'}, you will be sent back to <span class="host">${escapeHtml(view.redirectHost)}</span>.
Client id: <span class="host">${escapeHtml(view.clientId)}</span></p>
<form method="post" action="${escapeHtml(view.action)}">
<p>${ask}</p><ul>${servers}</ul>
<input type="hidden" name="pending" value="${escapeHtml(view.pendingId)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrf)}">
<button class="primary" type="submit" name="decision" value="approve">${view.signedIn === true ? 'Allow' : 'Allow and sign in'}</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="muted">Only allow applications you started yourself. If you did not just connect an application, choose Deny.</p>`;
  return page(view.gateway, `Allow ${view.clientName}?`, body);
}
