import { IdpError } from './idp-error.js';

/** How long any one call to an identity provider may take. */
export const IDP_TIMEOUT_MS = 10_000;

/** Settles with `work`, or fails with an IdpError once the IdP has had `ms` to answer. */
export async function withinDeadline<T>(work: Promise<T>, what: string, ms = IDP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IdpError('idp_error', `The identity provider did not answer in time (${what}).`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
