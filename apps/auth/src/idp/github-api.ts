import { z } from 'zod';
import { IDP_TIMEOUT_MS } from './idp-deadline.js';
import { IdpError } from './idp-error.js';

/** A Fetch API function; injectable so tests need no GitHub. */
export type Fetch = typeof fetch;

/** Follows at most this many pages of organisations (100 each). */
export const MAX_ORG_PAGES = 10;

const UserSchema = z.object({ id: z.number(), login: z.string() });
const EmailsSchema = z.array(z.object({ email: z.string(), primary: z.boolean(), verified: z.boolean() }));
const OrgsSchema = z.array(z.object({ login: z.string() }));

/** The GitHub REST API as one signed-in user sees it; `userUrl` is the API's /user (api.github.com or GitHub Enterprise). */
export class GitHubApi {
  constructor(
    private readonly fetchFn: Fetch,
    private readonly userUrl: URL,
    private readonly accessToken: string,
  ) {}

  async user(): Promise<z.infer<typeof UserSchema>> {
    return parsed(UserSchema, await this.get(this.userUrl), 'user');
  }

  /** The primary address, if GitHub has verified it; GitHub lets anyone add an unverified one. */
  async primaryVerifiedEmail(): Promise<string | undefined> {
    const emails = parsed(EmailsSchema, await this.get(this.under('emails')), 'emails');
    return emails.find((entry) => entry.primary && entry.verified)?.email;
  }

  /** Logins (lower-cased) of the user's organisations, page by page along `Link: rel="next"`. */
  async orgLogins(): Promise<string[]> {
    const logins: string[] = [];
    let page: URL | undefined = this.under('orgs');
    page.searchParams.set('per_page', '100');
    for (let count = 0; page !== undefined && count < MAX_ORG_PAGES; count++) {
      const response = await this.get(page);
      logins.push(...parsed(OrgsSchema, response, 'organizations').map((org) => org.login.toLowerCase()));
      page = nextPage(response.headers.get('link'), this.userUrl);
    }
    return logins;
  }

  private under(resource: string): URL {
    return new URL(`${this.userUrl.pathname.replace(/\/$/, '')}/${resource}`, this.userUrl);
  }

  private async get(url: URL): Promise<GitHubResponse> {
    const response = await githubCall(this.fetchFn, url, {
      headers: {
        accept: 'application/vnd.github+json',
        authorization: `Bearer ${this.accessToken}`,
        'x-github-api-version': '2022-11-28',
        'user-agent': 'gatehouse',
      },
    });
    if (!response.ok) throw new IdpError('idp_error', `GitHub refused to share the account's details (HTTP ${response.status}).`);
    return { headers: response.headers, body: await readJson(response) };
  }
}

interface GitHubResponse {
  headers: Headers;
  body: unknown;
}

/** One request to GitHub, bounded in time; network failures become IdpErrors. */
export async function githubCall(fetchFn: Fetch, url: URL, init: RequestInit): Promise<Response> {
  try {
    return await fetchFn(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(IDP_TIMEOUT_MS) });
  } catch {
    throw new IdpError('idp_error', 'GitHub could not be reached.');
  }
}

export async function readJson(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    throw new IdpError('idp_error', 'GitHub answered with something other than JSON.');
  }
}

function parsed<T>(schema: z.ZodType<T>, response: GitHubResponse, what: string): T {
  const result = schema.safeParse(response.body);
  if (!result.success) throw new IdpError('idp_error', `GitHub's answer about the account's ${what} was not understood.`);
  return result.data;
}

/** The rel="next" URL of a Link header, only on the API's own origin: the token must not be sent anywhere else. */
export function nextPage(link: string | null, api: URL): URL | undefined {
  const next = link?.split(',').find((part) => /;\s*rel="?next"?/.test(part));
  const target = next === undefined ? undefined : URL.parse(/<([^>]+)>/.exec(next)?.[1] ?? '');
  return target && target.origin === api.origin ? target : undefined;
}
