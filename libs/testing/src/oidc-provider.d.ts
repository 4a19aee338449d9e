/** The part of oidc-provider 9 (which ships no types) that the stand-in IdP uses. */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): AccountClaims | Promise<AccountClaims>;
  }

  /** The Koa context as interaction policy checks see it. */
  export interface PolicyContext {
    oidc: { result?: { login?: unknown } };
  }

  export class Check {
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
    constructor(reason: string, description: string, check: (ctx: PolicyContext) => boolean);
  }

  export interface Prompt {
    name: string;
    checks: Check[];
  }

  export interface InteractionPolicy extends Array<Prompt> {
    get(name: string): Prompt | undefined;
  }

  export const interactionPolicy: { Check: typeof Check; base(): InteractionPolicy };

  export interface Interaction {
    uid: string;
    prompt: { name: string };
    params: Record<string, unknown>;
  }

  export type InteractionResult =
    { login: { accountId: string }; consent: { grantId: string } } | { error: string; error_description?: string };

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    redirect_uris: string[];
    grant_types?: string[];
    response_types?: string[];
    token_endpoint_auth_method?: string;
  }

  export interface ErrorOut {
    error: string;
    error_description?: string;
  }

  export interface Configuration {
    adapter?: unknown;
    clients?: ClientMetadata[];
    jwks?: { keys: object[] };
    cookies?: { keys: string[] };
    claims?: Record<string, string[]>;
    conformIdTokenClaims?: boolean;
    features?: Record<string, { enabled: boolean; [option: string]: unknown }>;
    pkce?: { required: () => boolean };
    findAccount?: (ctx: unknown, sub: string) => Account | undefined | Promise<Account | undefined>;
    interactions?: { url: (ctx: unknown, interaction: Interaction) => string; policy?: InteractionPolicy };
    ttl?: Record<string, number>;
    clientBasedCORS?: () => boolean;
    renderError?: (ctx: { type: string; body: unknown }, out: ErrorOut, error: Error) => void;
    issueRefreshToken?: (ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) => boolean;
    rotateRefreshToken?: () => boolean;
  }

  /** What an event listener is given (only what the stand-in reads). */
  export interface EventContext {
    oidc: { params?: Record<string, unknown> };
  }

  export default class Provider {
    constructor(issuer: string, configuration: Configuration);
    readonly issuer: string;
    readonly Grant: typeof Grant;
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    on(event: 'grant.success', listener: (ctx: EventContext) => void): this;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResult,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
  }
}

/** oidc-provider's own in-memory storage; deep-imported so the stand-in does not trip its "development adapter" warning. */
declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  export function createMemoryAdapter(clockTolerance?: number): unknown;
}
