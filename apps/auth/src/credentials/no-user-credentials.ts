import type { CredentialStatus, UserCredentials } from './user-credentials.port.js';
import { CredentialRefused } from './user-credentials.port.js';

/**
 * Until the credential store is wired in (branch wip-creds-store), no server needs a credential:
 * the pages show none and refuse every change with a clear message.
 */
export class NoUserCredentials implements UserCredentials {
  list(): Promise<CredentialStatus[]> {
    return Promise.resolve([]);
  }

  setManual(): Promise<void> {
    return Promise.reject(new CredentialRefused('No server here takes a token of yours.'));
  }

  remove(): Promise<void> {
    return Promise.reject(new CredentialRefused('No server here keeps a credential of yours.'));
  }

  beginConnect(): Promise<URL> {
    return Promise.reject(new CredentialRefused('No service here can be connected.'));
  }

  completeConnect(): Promise<string> {
    return Promise.reject(new CredentialRefused('No service here can be connected.'));
  }
}
