import { createHash } from 'node:crypto';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}code,.host{font-family:ui-monospace,monospace;background:#f2f2f4;padding:0 .25rem;border-radius:3px}
ul{padding-left:1.2rem}button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.primary,a.button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}.muted{color:#666;font-size:.9rem}
a.button{display:inline-block;padding:.5rem 1.2rem;border-radius:6px;border:1px solid #888;text-decoration:none}
:focus-visible{outline:3px solid #b45309;outline-offset:2px}label{display:block;margin:.5rem 0 .25rem}
input[type=password]{font:inherit;padding:.4rem;width:100%;box-sizing:border-box;margin-bottom:.5rem}
form.inline{display:inline}section{border-top:1px solid #ddd;padding:.5rem 0 1rem}h2{font-size:1.15rem;margin-top:2rem}
.error{color:#b91c1c;font-weight:600}.notice{background:#ecfdf5;border:1px solid #10b981;padding:.5rem;border-radius:6px}
ul.apps li{margin-bottom:.75rem}`;

const STYLE_HASH = createHash('sha256').update(STYLE).digest('base64');

/**
 * Headers of every page: no script at all, only our own stylesheet (by hash), no framing
 * (clickjacking), forms sent only to Gatehouse, nothing cached. `formTargets` adds the origins a
 * form's answer redirects to (browsers hold redirects after a form to form-action too).
 */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const csp = [
    "default-src 'none'",
    `style-src 'sha256-${STYLE_HASH}'`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
    ["form-action 'self'", ...new Set(formTargets)].join(' '),
  ].join('; ');
  return {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': csp,
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export const PAGE_HEADERS: Readonly<Record<string, string>> = pageHeaders();

/** The CSP source for where a redirect goes: its origin, or its scheme for an app's own (`cursor:`). */
export function formTargetOf(url: string): string[] {
  if (!URL.canParse(url)) return [];
  const { protocol, origin } = new URL(url);
  return protocol === 'http:' || protocol === 'https:' ? [origin] : [protocol];
}

/** A whole page around `body` (already escaped HTML), under the gateway's name (proxy.name). */
export function page(gateway: string, title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(gateway)}</title><style>${STYLE}</style></head><body>
<p class="muted">${escapeHtml(gateway)}</p><h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

/** An error page; `returnUrl`, when given, lets the person go back to the application. */
export function errorPage(gateway: string, title: string, message: string, returnUrl?: string): string {
  const back = returnUrl === undefined ? '' : `<p><a href="${escapeHtml(returnUrl)}">Return to the application</a></p>`;
  return page(gateway, title, `<p>${escapeHtml(message)}</p>${back}`);
}
