const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Headers of every page: no framing (clickjacking), no scripts, nothing cached. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
} as const;

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.4rem}code,.host{font-family:ui-monospace,monospace;background:#f2f2f4;padding:0 .25rem;border-radius:3px}
ul{padding-left:1.2rem}button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:6px;border:1px solid #888;cursor:pointer}
button.primary{background:#1d4ed8;color:#fff;border-color:#1d4ed8}.muted{color:#666;font-size:.9rem}`;

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
