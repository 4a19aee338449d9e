import { isLoopbackHostname } from '#config';
import { IdpError } from './idp-error.js';

/** Whether plain http may be used: only in dev mode, and only toward this machine. */
function plainHttpAllowed(url: URL, devMode: boolean): boolean {
  return devMode && isLoopbackHostname(url.hostname);
}

/** An identity provider's URL from the settings or its metadata: https, or http on loopback in dev mode. */
export function idpUrl(value: string, devMode: boolean, name: string): URL {
  const url = URL.parse(value);
  if (url === null) throw new IdpError('misconfigured', `The identity provider's ${name} is not a valid URL.`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && plainHttpAllowed(url, devMode)) return url;
  const rule = devMode ? 'https (plain http only on a loopback host)' : 'https';
  throw new IdpError('misconfigured', `The identity provider's ${name} must use ${rule}.`);
}
