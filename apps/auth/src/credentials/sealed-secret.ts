import { z } from 'zod';
import type { Envelope } from '#crypto';
import type { UserCredentialRecord, UserCredentialRepository } from '../persistence/auth-store.port.js';

/** The secret part of a stored credential: sealed as one value, bound to (sub, server). */
export interface StoredSecret {
  token: string;
  /** oauth, when the service gave one. */
  refreshToken?: string;
  /** oauth: the scope the service granted. */
  scope?: string;
}

const StoredSecretSchema = z.object({ token: z.string().min(1), refreshToken: z.string().optional(), scope: z.string().optional() });

/** Distinct from the runner's userCredentialAad: a value sealed for storage never opens as a reply on the bus, nor the other way. */
const storedCredentialAad = (sub: string, server: string) => `stored-user-credential\u0000${sub}\u0000${server}`;

/** Seals and opens stored credentials, and re-seals one under the current key when it was sealed by a key since replaced. */
export class SealedSecrets {
  constructor(
    private readonly envelope: Envelope,
    private readonly credentials: UserCredentialRepository,
  ) {}

  seal(sub: string, server: string, secret: StoredSecret): string {
    return this.envelope.seal(JSON.stringify(secret), storedCredentialAad(sub, server));
  }

  /** Opens the record's secret (EnvelopeError when it will not) and, after rotation, stores it re-sealed under the current key. */
  async open(record: UserCredentialRecord): Promise<StoredSecret> {
    return (await this.openRecord(record)).secret;
  }

  /** As open(), with the record as now stored: carrying the re-sealed secret when it was re-sealed (not another replica's refresh). */
  async openRecord(record: UserCredentialRecord): Promise<{ record: UserCredentialRecord; secret: StoredSecret }> {
    const { sub, server, sealedSecret } = record;
    const secret = StoredSecretSchema.parse(JSON.parse(this.envelope.open(sealedSecret, storedCredentialAad(sub, server))));
    let current = record;
    if (!this.envelope.isCurrent(sealedSecret)) {
      const resealed = this.seal(sub, server, secret);
      if (await this.credentials.reseal(sub, server, sealedSecret, resealed)) current = { ...record, sealedSecret: resealed };
    }
    return {
      record: current,
      secret: {
        token: secret.token,
        ...(secret.refreshToken && { refreshToken: secret.refreshToken }),
        ...(secret.scope && { scope: secret.scope }),
      },
    };
  }

  /** For values that are not credentials (PKCE verifiers, client secrets): sealed with their own context. */
  sealValue(value: string, context: string): string {
    return this.envelope.seal(value, context);
  }

  openValue(sealed: string, context: string): string {
    return this.envelope.open(sealed, context);
  }

  /** False when it was sealed under a key since replaced: the caller re-seals what it opened. */
  isCurrent(sealed: string): boolean {
    return this.envelope.isCurrent(sealed);
  }
}
