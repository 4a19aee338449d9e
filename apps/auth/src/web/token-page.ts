import type { CredentialStatus } from '../credentials/user-credentials.port.js';
import { escapeHtml, page } from './html.js';

/** One application the person has authorized: its live grants taken together. */
export interface AuthorizedApplication {
  clientId: string;
  clientName: string;
  servers: string[];
  /** The earliest live grant (ms since epoch). */
  since: number;
}

export interface TokenPageView {
  gateway: string;
  basePath: string;
  /** Who is signed in, as shown. */
  person: string;
  csrf: string;
  credentials: CredentialStatus[];
  applications: AuthorizedApplication[];
  /** What the last change did, shown at the top. */
  notice?: string;
  /** A refused change, shown beside the server's form. */
  error?: { server: string; message: string };
}

/** A time as people read it, and as machines do in `datetime`. */
export function timeHtml(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

function postForm(view: TokenPageView, action: string, fields: Record<string, string>, button: string): string {
  const inputs = Object.entries(fields).map(([name, value]) => hidden(name, value));
  return `<form method="post" action="${escapeHtml(view.basePath + action)}" class="inline">${hidden('csrf', view.csrf)}${inputs.join('')}<button type="submit">${escapeHtml(button)}</button></form>`;
}

function manualForms(view: TokenPageView, status: CredentialStatus, error: string | undefined): string {
  const id = `token-${status.server}`;
  const help =
    status.helpUrl === undefined ? '' : ` <a href="${escapeHtml(status.helpUrl)}" rel="noopener noreferrer">Where to find it</a>`;
  const instructions =
    status.instructions === undefined ? '' : `<p id="${escapeHtml(id)}-help">${escapeHtml(status.instructions)}${help}</p>`;
  const describedBy = [status.instructions === undefined ? '' : `${id}-help`, error === undefined ? '' : `${id}-error`]
    .filter(Boolean)
    .join(' ');
  const alert = error === undefined ? '' : `<p id="${escapeHtml(id)}-error" class="error" role="alert">${escapeHtml(error)}</p>`;
  const set = `<form method="post" action="${escapeHtml(view.basePath)}/my/tokens/set">${hidden('csrf', view.csrf)}${hidden('server', status.server)}
<label for="${escapeHtml(id)}">${escapeHtml(status.connected ? `New token for ${status.displayName}` : `Token for ${status.displayName}`)}</label>
<input type="password" id="${escapeHtml(id)}" name="token" required autocomplete="off" spellcheck="false"${describedBy === '' ? '' : ` aria-describedby="${escapeHtml(describedBy)}"`}${error === undefined ? '' : ' aria-invalid="true" autofocus'}>
<button class="primary" type="submit">${status.connected ? 'Replace token' : 'Save token'}</button></form>`;
  const remove = status.connected ? postForm(view, '/my/tokens/delete', { server: status.server }, 'Delete token') : '';
  return `${instructions}${alert}${set}${remove}`;
}

function oauthForms(view: TokenPageView, status: CredentialStatus, error: string | undefined): string {
  const alert = error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(error)}</p>`;
  if (status.connected) return alert + postForm(view, '/oauth/disconnect', { service: status.server }, 'Disconnect');
  const href = `${view.basePath}/oauth/connect?service=${encodeURIComponent(status.server)}`;
  return `${alert}<p><a class="button primary" href="${escapeHtml(href)}">Connect ${escapeHtml(status.displayName)}</a></p>`;
}

function credentialSection(view: TokenPageView, status: CredentialStatus): string {
  const state = status.connected
    ? `Connected${status.updatedAt === undefined ? '' : ` since ${timeHtml(status.updatedAt)}`}`
    : 'Not connected';
  const error = view.error?.server === status.server ? view.error.message : undefined;
  const forms = status.type === 'manual' ? manualForms(view, status, error) : oauthForms(view, status, error);
  const heading = `${escapeHtml(status.displayName)}${status.displayName === status.server ? '' : ` <span class="muted">(${escapeHtml(status.server)})</span>`}`;
  return `<section aria-labelledby="server-${escapeHtml(status.server)}"><h3 id="server-${escapeHtml(status.server)}">${heading}</h3>
<p class="status">${state}</p>${forms}</section>`;
}

function applicationItem(view: TokenPageView, app: AuthorizedApplication): string {
  const servers = app.servers.map((s) => `<code>${escapeHtml(s)}</code>`).join(', ');
  return `<li><strong>${escapeHtml(app.clientName)}</strong>: ${servers}, since ${timeHtml(app.since)}
${postForm(view, '/my/applications/revoke', { client: app.clientId }, `Revoke ${app.clientName}`)}</li>`;
}

/** /my/tokens: the person's credentials for the servers that need one, and the applications they authorized. */
export function tokenPage(view: TokenPageView): string {
  const notice = view.notice === undefined ? '' : `<p class="notice" role="status">${escapeHtml(view.notice)}</p>`;
  const credentials =
    view.credentials.length === 0
      ? '<p>No server here needs a credential of yours.</p>'
      : view.credentials.map((status) => credentialSection(view, status)).join('');
  const applications =
    view.applications.length === 0
      ? '<p>No application can use your access.</p>'
      : `<ul class="apps">${view.applications.map((app) => applicationItem(view, app)).join('')}</ul>`;
  // A div: a form may not sit inside a paragraph.
  const body = `<div>Signed in as <strong>${escapeHtml(view.person)}</strong>. ${postForm(view, '/my/logout', {}, 'Sign out')}</div>${notice}
<h2>Your service credentials</h2><p class="muted">Servers that act in your name with your own account or key. They are stored encrypted and used only for your sessions.</p>${credentials}
<h2>Applications you have authorized</h2><p class="muted">Revoking one ends its access at once; it must ask you again.</p>${applications}`;
  return page(view.gateway, 'Your tokens', body);
}

/** /oauth/complete: the service is connected; the person goes back to their application. */
export function connectedPage(gateway: string, basePath: string, displayName: string): string {
  const body = `<p class="notice" role="status">${escapeHtml(displayName)} is connected to your account.</p>
<p>Go back to your application and try again: it will now work with your ${escapeHtml(displayName)} account.</p>
<p><a href="${escapeHtml(basePath)}/my/tokens">See all your tokens</a></p>`;
  return page(gateway, `${displayName} connected`, body);
}
