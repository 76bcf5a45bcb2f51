/**
 * A small Microsoft Graph client: JSON over fetch with a bearer token, 429 and 503 retried with backoff that
 * honours Retry-After, paging through @odata.nextLink, and Graph's error body ({error: {code, message}})
 * turned into a GraphError. Request bodies (which hold secrets) never go into an error or a log.
 */
import { TokensmithError } from '../core/errors.js';

export class GraphError extends TokensmithError {
  constructor(
    readonly status: number,
    readonly graphCode: string,
    readonly graphMessage: string,
    readonly what: string,
  ) {
    super(`${what}: Graph answered ${status} ${graphCode}: ${graphMessage}`, { code: 'graph' });
  }
}

export interface GraphResponse<T> {
  status: number;
  body: T;
  /** The server's clock (its Date header) at the answer, in epoch ms; null when it sent none. */
  serverTimeMs: number | null;
}

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/beta */
  baseUrl: string;
  /** A bearer token, fetched again when it runs out. */
  token: () => Promise<string>;
  /** How many times a 429/503 is retried before it is reported. */
  maxRetries?: number;
  /** Backoff without Retry-After: base * 2^attempt ms, capped. */
  backoffBaseMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

const RETRYABLE = new Set([429, 503]);
const MAX_WAIT_MS = 120_000;

/** Retry-After in ms: delta-seconds or an HTTP date; null when absent or unreadable. */
export function retryAfterMs(value: string | null, nowMs = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

export class GraphClient {
  /** The server's clock minus ours, from the last Date header seen (ms). */
  clockOffsetMs = 0;
  /** Retries made so far (429/503), for the report. */
  retries = 0;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly opts: GraphClientOptions) {
    this.sleep = opts.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : this.opts.baseUrl.replace(/\/$/, '') + path;
  }

  /** One request, retried on 429/503; throws GraphError for any other non-2xx answer. */
  async request<T>(method: string, path: string, what: string, body?: unknown): Promise<GraphResponse<T>> {
    const maxRetries = this.opts.maxRetries ?? 6;
    for (let attempt = 0; ; attempt++) {
      const res = await this.send(method, path, what, body);
      this.noteClock(res.headers.get('date'));
      if (res.ok) {
        const text = await res.text();
        const parsed = (text ? JSON.parse(text) : null) as T;
        return { status: res.status, body: parsed, serverTimeMs: Date.now() + this.clockOffsetMs };
      }
      if (RETRYABLE.has(res.status) && attempt < maxRetries) {
        await res.text();
        this.retries++;
        await this.sleep(this.backoff(attempt, res.headers.get('retry-after')));
        continue;
      }
      throw await graphErrorOf(res, what);
    }
  }

  /** Every item of a collection, following @odata.nextLink page after page. */
  async list<T>(path: string, what: string): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    while (next) {
      const page: GraphResponse<{ value?: T[]; '@odata.nextLink'?: string }> = await this.request('GET', next, what);
      items.push(...(page.body.value ?? []));
      next = page.body['@odata.nextLink'];
    }
    return items;
  }

  private async send(method: string, path: string, what: string, body: unknown): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${await this.opts.token()}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      return await fetch(this.url(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      // The cause names the host and the socket error only; never the request body.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new GraphError(0, 'network', cause?.code ?? cause?.message ?? (err as Error).message, what);
    }
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const told = retryAfterMs(retryAfter);
    const base = this.opts.backoffBaseMs ?? 1000;
    return Math.min(MAX_WAIT_MS, told ?? base * 2 ** attempt);
  }

  private noteClock(date: string | null): void {
    const at = date ? Date.parse(date) : NaN;
    // The Date header has whole seconds: half a second is added so the mean error is zero.
    if (!Number.isNaN(at)) this.clockOffsetMs = at + 500 - Date.now();
  }
}

async function graphErrorOf(res: Response, what: string): Promise<GraphError> {
  const text = await res.text().catch(() => '');
  let code = `http-${res.status}`;
  let message = res.statusText || 'no message';
  try {
    const e = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (e?.code) code = e.code;
    if (e?.message) message = e.message;
  } catch {
    // Not JSON (a proxy's page): status and status text only.
  }
  return new GraphError(res.status, code, message.slice(0, 500), what);
}
