import { OAuthError } from './oauth-error.js';

/** A parameter that may appear at most once (RFC 6749 §3.1, §3.2); undefined when absent or empty. */
export function single(params: URLSearchParams, name: string): string | undefined {
  const values = params.getAll(name);
  if (values.length > 1) throw new OAuthError('invalid_request', `${name} must not be repeated`);
  return values[0] === '' ? undefined : values[0];
}

/** Like `single`, but required. */
export function required(params: URLSearchParams, name: string): string {
  const value = single(params, name);
  if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

/** The query of a request URL. */
export function queryOf(url: string): URLSearchParams {
  return new URL(url, 'http://query.invalid').searchParams;
}

/** A form body as parsed by auth's content-type parser; anything else reads as empty. */
export function formOf(body: unknown): URLSearchParams {
  return body instanceof URLSearchParams ? body : new URLSearchParams();
}
