// @module-tag daemon
/**
 * The portal server in this process, answering over real sockets: nothing of
 * the station is reachable, every answer (errors too) carries the security
 * headers, https with a throw-away certificate, the session cookie's flags,
 * and X-Forwarded-For/-Proto believed only from the trusted proxies.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer, type MailMessage } from '../../src/provision/mailer.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import {
  PORTAL_CSP,
  startPortalServer,
  type AccessLogEntry,
  type PortalServer,
  type PortalServerOptions,
} from '../../src/web/portal-server.js';
import { memoryStore } from '../provision/helpers-ss.js';
import { call, sessionCookie, type Answer } from './portal.js';
import { toolsMissing } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-portal-server-'));
let store: Store;
let server: PortalServer | undefined;

beforeAll(async () => {
  store = memoryStore();
  await createResource(store, { name: 'corp' });
  await setResourcePermissions(store, 'corp', { allow: true, actions: 'enroll', tokenTypes: 'programmable' });
  await addUser(store, { login: 'bob', password: 'bob-password-1', resources: ['corp'] });
  await addUser(store, { login: 'erin', email: 'erin@example.org', resources: ['corp'] });
});
afterEach(async () => {
  await server?.close();
  server = undefined;
});
afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(opts: Partial<PortalServerOptions> = {}): Promise<PortalServer> {
  server = await startPortalServer({ store, mailer: new OutboxMailer(join(dir, 'outbox')), ...opts });
  return server;
}

function expectSecurityHeaders(a: Answer, what: string): void {
  expect(a.headers['content-security-policy'], what).toBe(PORTAL_CSP);
  expect(a.headers['content-security-policy'], what).toContain("frame-ancestors 'none'");
  expect(a.headers['x-content-type-options'], what).toBe('nosniff');
  expect(a.headers['referrer-policy'], what).toBe('no-referrer');
  expect(a.headers['cache-control'], what).toBe('no-store');
}

const signInBob = (origin: string, opts: Parameters<typeof call>[1] = {}) =>
  call(`${origin}/api/r/corp/signin`, { ...opts, body: { login: 'bob', password: 'bob-password-1' } });

describe('tokensmith portal server', () => {
  it('serves the page and its assets; every station route and asset answers 404, with the security headers', async () => {
    const s = await start();
    const page = await call(`${s.origin}/r/corp`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('src="/assets/selfservice.js"');
    expectSecurityHeaders(page, 'the page');
    expect((await call(`${s.origin}/assets/selfservice.js`)).status).toBe(200);
    const station: [string, string][] = [
      ['GET', '/api/tokens'],
      ['POST', '/api/import'],
      ['GET', '/api/resources'],
      ['GET', '/ws'],
      ['GET', '/assets/station.js'],
      ['GET', '/assets/selfservice.js.map'],
    ];
    for (const [method, path] of station) {
      const a = await call(`${s.origin}${path}`, {
        method,
        headers:
          path === '/ws'
            ? {
                connection: 'Upgrade',
                upgrade: 'websocket',
                'sec-websocket-version': '13',
                'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
              }
            : {},
      });
      expect(a.status, `${method} ${path}`).toBe(404);
      expectSecurityHeaders(a, `${method} ${path}`);
    }
  });

  it('puts the security headers on refusals and malformed requests too', async () => {
    const s = await start();
    const broken = await call(`${s.origin}/api/r/corp/signin`, {
      headers: { 'content-type': 'application/json' },
      body: '{"login": ',
    });
    expect(broken.status).toBe(400);
    expectSecurityHeaders(broken, 'malformed JSON');
    const big = await call(`${s.origin}/api/r/corp/signin`, {
      body: { login: 'bob', password: 'x'.repeat(64 * 1024) },
    });
    expect(big.status).toBe(413);
    expectSecurityHeaders(big, 'too large');
    const foreign = await call(`${s.origin}/api/r/corp/signin`, {
      headers: { origin: 'https://evil.example' },
      body: { login: 'bob', password: 'bob-password-1' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.json().error?.code).toBe('foreign-origin');
    expect(sessionCookie(foreign)).toBeUndefined();
    expectSecurityHeaders(foreign, 'foreign origin');
  });

  it('signs in from its own origin; the cookie is HttpOnly and SameSite=Strict, not Secure over plain http', async () => {
    const s = await start();
    const a = await signInBob(s.origin, { headers: { origin: s.origin } });
    expect(a.status, a.body).toBe(200);
    const sets = ([] as string[])
      .concat(a.headers['set-cookie'] ?? [])
      .filter((c) => c.startsWith('tokensmith_portal='));
    expect(sets, 'one Set-Cookie for the session, not the hardened copy beside the original').toHaveLength(1);
    const set = sets[0]!;
    expect(set).toMatch(/; HttpOnly/);
    expect(set).toMatch(/; SameSite=Strict/);
    expect(set).not.toMatch(/Secure/);
    const me = await call(`${s.origin}/api/r/corp/me`, { headers: { cookie: sessionCookie(a)! } });
    expect(me.json<{ login: string }>().login).toBe('bob');
  });

  const noOpenssl = toolsMissing('the portal over https', 'openssl');
  if (noOpenssl) it.skip(`https: skipped: ${noOpenssl}`, () => undefined);
  const itHttps = noOpenssl ? it.skip : it;
  itHttps('answers over https with a throw-away certificate; the cookie is then Secure and HSTS is sent', async () => {
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const s = await start({ tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    expect(s.origin).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = readFileSync(cert);
    const page = await call(`${s.origin}/r/corp`, { ca });
    expect(page.status).toBe(200);
    expectSecurityHeaders(page, 'https page');
    expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    const signedIn = await signInBob(s.origin, { ca });
    expect(([] as string[]).concat(signedIn.headers['set-cookie'] ?? []).join()).toMatch(
      /tokensmith_portal=[^;]+;.*; Secure/,
    );
    // Plain http to the https port gets no page.
    await expect(call(`${s.origin.replace('https:', 'http:')}/r/corp`)).rejects.toThrow();
  });

  it('believes X-Forwarded-For and -Proto only from a trusted proxy', async () => {
    const seen: AccessLogEntry[] = [];
    const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
    const cases: { trustProxy?: string[]; ip: string; secure: boolean }[] = [
      { trustProxy: ['127.0.0.0/8'], ip: '203.0.113.7', secure: true },
      { trustProxy: ['127.0.0.1'], ip: '203.0.113.7', secure: true },
      { trustProxy: ['10.0.0.0/8'], ip: '127.0.0.1', secure: false },
      { ip: '127.0.0.1', secure: false },
    ];
    for (const c of cases) {
      const s = await start({ trustProxy: c.trustProxy, accessLog: (e) => seen.push(e) });
      seen.length = 0;
      const a = await signInBob(s.origin, { headers: forwarded });
      expect(a.status, a.body).toBe(200);
      const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []).join();
      expect(/; Secure/.test(set), `Secure with trustProxy ${c.trustProxy}`).toBe(c.secure);
      expect(
        seen.map((e) => [e.ip, e.method, e.path, e.status]),
        `trustProxy ${c.trustProxy}`,
      ).toEqual([[c.ip, 'POST', '/api/r/corp/signin', 200]]);
      await s.close();
      server = undefined;
    }
  });

  it('uses --public-url as its address and as the one other origin allowed to post', async () => {
    const s = await start({ publicUrl: 'https://mfa.example.com/' });
    expect(s.url).toBe('https://mfa.example.com');
    expect((await signInBob(s.origin, { headers: { origin: 'https://mfa.example.com' } })).status).toBe(200);
    expect((await signInBob(s.origin, { headers: { origin: 'https://mfa.example.com.evil.example' } })).status).toBe(
      403,
    );
  });

  it("names --public-url in the mail it sends, as the link to the Resource's page", async () => {
    const sent: MailMessage[] = [];
    const s = await start({
      publicUrl: 'https://mfa.example.com',
      mailer: { send: async (m) => (sent.push(m), { delivered: 'memory' }) },
    });
    const begun = await call(`${s.origin}/api/r/corp/signin/begin`, { body: { login: 'erin' } });
    expect(begun.status, begun.body).toBe(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toBe('erin@example.org');
    expect(sent[0]!.text).toMatch(/is \d{8}\./);
    // Issue 26 (4): the link opens the Resource's page, not / (which had no page).
    expect(sent[0]!.text).toContain('The portal: https://mfa.example.com/r/corp\n');
  });
});
