/**
 * The Graph client's HTTP behaviour against a plain local server (Retry-After in seconds and as a date,
 * 503, paging by @odata.nextLink, Graph's error body, a body that is not JSON, the server's clock), and
 * the refusals of what Entra cannot hold, each by name.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphClient, GraphError, retryAfterMs } from '../../src/entra/graph.js';
import { entraRefusal } from '../../src/entra/rules.js';
import type { TokenRecord } from '../../src/store/types.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
let handler: Handler = (_q, r) => r.end();
let server: Server;
let base = '';
const waits: number[] = [];

function client(maxRetries = 3): GraphClient {
  return new GraphClient({
    baseUrl: base,
    token: async () => 'at-test',
    maxRetries,
    backoffBaseMs: 10,
    sleep: async (ms) => void waits.push(ms),
  });
}

beforeAll(async () => {
  server = createServer((q, r) => handler(q, r));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/beta`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('GraphClient', () => {
  it('retries 429 after Retry-After seconds and 503 with backoff, then returns the answer', async () => {
    waits.length = 0;
    const answers: [number, Record<string, string>][] = [
      [429, { 'retry-after': '7' }],
      [503, {}],
      [200, {}],
    ];
    let auth = '';
    handler = (q, r) => {
      auth = q.headers.authorization ?? '';
      const [status, headers] = answers.shift()!;
      r.writeHead(status, { 'content-type': 'application/json', ...headers });
      r.end(
        JSON.stringify(status === 200 ? { ok: true } : { error: { code: 'TooManyRequests', message: 'slow down' } }),
      );
    };
    const c = client();
    const res = await c.request<{ ok: boolean }>('GET', '/x', 'testing');
    expect(res.body).toEqual({ ok: true });
    expect(waits).toEqual([7000, 20]);
    expect(c.retries).toBe(2);
    expect(auth).toBe('Bearer at-test');
  });

  it("gives up after maxRetries with Graph's code and message; the request body is not in the error", async () => {
    handler = (_q, r) => {
      r.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
      r.end(JSON.stringify({ error: { code: 'TooManyRequests', message: 'Too many requests' } }));
    };
    const err = (await client(2)
      .request('POST', '/x', 'creating', { secretKey: 'JBSWY3DPEHPK3PXP' })
      .catch((e: unknown) => e)) as GraphError;
    expect(err).toBeInstanceOf(GraphError);
    expect(err).toMatchObject({ status: 429, graphCode: 'TooManyRequests', graphMessage: 'Too many requests' });
    expect(err.message).toBe('creating: Graph answered 429 TooManyRequests: Too many requests');
    expect(JSON.stringify(err)).not.toContain('JBSWY3DPEHPK3PXP');
  });

  it('reports a 400 at once (no retry) and a body that is not JSON by its status', async () => {
    waits.length = 0;
    handler = (_q, r) => {
      r.writeHead(400, { 'content-type': 'application/json' });
      r.end(JSON.stringify({ error: { code: 'badRequest', message: 'timeIntervalInSeconds must be 30 or 60.' } }));
    };
    await expect(client().request('POST', '/x', 'creating', {})).rejects.toMatchObject({ graphCode: 'badRequest' });
    expect(waits).toEqual([]);
    handler = (_q, r) => {
      r.writeHead(502, 'Bad Gateway', { 'content-type': 'text/html' });
      r.end('<html>proxy</html>');
    };
    await expect(client().request('GET', '/x', 'listing')).rejects.toMatchObject({
      status: 502,
      graphCode: 'http-502',
      graphMessage: 'Bad Gateway',
    });
  });

  it('follows @odata.nextLink page after page', async () => {
    const pages = new Map([
      ['/beta/items', { value: [1, 2], '@odata.nextLink': '' }],
      ['/beta/items?$skiptoken=2', { value: [3, 4], '@odata.nextLink': '' }],
      ['/beta/items?$skiptoken=4', { value: [5] }],
    ]);
    pages.get('/beta/items')!['@odata.nextLink'] = `${base}/items?$skiptoken=2`;
    pages.get('/beta/items?$skiptoken=2')!['@odata.nextLink'] = `${base}/items?$skiptoken=4`;
    const seen: string[] = [];
    handler = (q, r) => {
      seen.push(q.url!);
      r.writeHead(200, { 'content-type': 'application/json' });
      r.end(JSON.stringify(pages.get(q.url!)));
    };
    expect(await client().list<number>('/items', 'listing')).toEqual([1, 2, 3, 4, 5]);
    expect(seen).toEqual(['/beta/items', '/beta/items?$skiptoken=2', '/beta/items?$skiptoken=4']);
  });

  it("keeps the server's clock from its Date header", async () => {
    const serverTime = Date.now() + 90_000;
    handler = (_q, r) => {
      r.writeHead(204, { date: new Date(serverTime).toUTCString() });
      r.end();
    };
    const c = client();
    await c.request('POST', '/x', 'activating', {});
    expect(Math.abs(c.clockOffsetMs - 90_000)).toBeLessThan(1600);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs(new Date(10_000 + 5000).toUTCString(), 10_000)).toBe(5000);
    expect(retryAfterMs('soon')).toBeNull();
    expect(retryAfterMs(null)).toBeNull();
  });
});

describe('what Entra cannot hold', () => {
  const base: TokenRecord = {
    id: 1,
    serial: 'S1',
    manufacturer: 'X',
    model: null,
    kind: 'classic',
    type: 'totp',
    algorithm: 'sha1',
    digits: 6,
    period: 30,
    counter: 0,
    state: 'in_stock',
    previousState: null,
    driftSteps: 0,
    hasSeed: true,
    batchId: null,
    resourceId: null,
    deviceSerial: null,
    profile: null,
    failedAttempts: 0,
    locked: false,
    lastUsedStep: null,
    attributes: {},
    createdAt: '',
    updatedAt: '',
    stateChangedAt: '',
  };
  const seed = Buffer.alloc(20, 1);

  it.each([
    [{ type: 'hotp' as const }, 'HOTP: Entra holds TOTP tokens only'],
    [{ type: 'dpw' as const }, 'DPW: Entra holds TOTP tokens only'],
    [{ digits: 8 }, '8 digits: Entra verifies 6-digit codes only'],
    [{ digits: 7 }, '7 digits: Entra verifies 6-digit codes only'],
    [{ algorithm: 'sha512' as const }, 'SHA-512: Entra takes HMAC-SHA1 or HMAC-SHA256 only'],
    [{ period: 45 }, 'period 45 s: Entra takes a 30 or 60 second step only'],
    [{ t0: 60 }, 'T0 60: Entra counts steps from the Unix epoch only'],
    [{ checkDigit: true }, 'check digit: Entra verifies plain 6-digit codes only'],
  ])('refuses %o by name', (over, reason) => {
    expect(entraRefusal({ ...base, ...over }, seed)).toBe(reason);
  });

  it('takes SHA-1 and SHA-256 at 30 or 60 s, and refuses a missing or too long seed', () => {
    expect(entraRefusal({ ...base, algorithm: 'sha256', period: 60 }, seed)).toBeNull();
    expect(entraRefusal(base, seed)).toBeNull();
    expect(entraRefusal(base, null)).toBe('no seed in the store');
    expect(entraRefusal(base, Buffer.alloc(81))).toBe('seed of 81 bytes: Entra takes at most 128 base32 characters');
    expect(entraRefusal(base, Buffer.alloc(80))).toBeNull();
  });
});
