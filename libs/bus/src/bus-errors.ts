/** Receives handler failures; `subject` is the message's subject. */
export type BusErrorListener = (err: unknown, subject: string) => void;

/** A subject, queue, header, key, bucket name or limit that the bus cannot carry. */
export class BusInvalidArgumentError extends Error {
  readonly code = 'BUS_INVALID_ARGUMENT';
}

/** A payload larger than the broker carries (NATS: the server's max_payload, 1 MiB by default). */
export class BusPayloadTooLargeError extends Error {
  readonly code = 'BUS_PAYLOAD_TOO_LARGE';
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`payload of ${size} bytes exceeds the bus limit of ${limit} bytes`);
  }
}

/** The bus was closed (or is draining) and takes no more work. */
export class BusClosedError extends Error {
  readonly code = 'BUS_CLOSED';
  constructor(options?: ErrorOptions) {
    super('bus is closed', options);
  }
}

/** The first connection to the broker failed; `url` has any credentials masked. */
export class BusConnectError extends Error {
  readonly code = 'BUS_CONNECT_FAILED';
  readonly url: string;
  constructor(servers: string, cause: unknown) {
    const url = servers.replace(/\/\/[^@/]*@/g, '//***@');
    super(`cannot connect to NATS at ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.url = url;
  }
}

/** `listener`, or stderr when none is given, made unable to throw into the delivery loop. */
export function guardListener(listener: BusErrorListener | undefined): BusErrorListener {
  return (err, subject) => {
    try {
      if (listener) listener(err, subject);
      else console.error(`bus handler failed on ${subject}:`, err);
    } catch {
      // a broken listener must not stop delivery
    }
  };
}
