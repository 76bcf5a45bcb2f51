// @module-tag daemon
/**
 * Issue 21, the portal's edges over real sockets: the Host a request names
 * (6), X-Forwarded-For parsed and checked (9), a failed mail answered like a
 * sent one (2), Node's own 400/431 with the security headers and a cap on a
 * client's connections (10), the __Host- cookie, two session cookies and
 * actions bound to the page's session (4); issue 26 (4): what / answers.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer, type Mailer } from '../../src/provision/mailer.js';
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
import { call, sessionCookie } from './portal.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-portal-edges-'));
let store: Store;
let server: PortalServer | undefined;

beforeAll(async () => {
  store = memoryStore();
  await createResource(store, { name: 'corp' });
  await setResourcePermissions(store, 'corp', {
    allow: true,
    actions: ['enroll', 'change-name'],
    tokenTypes: 'programmable',
  });
  await createResource(store, { name: 'closed' });
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

const bob = { login: 'bob', password: 'bob-password-1' };

/** What the server writes back to raw bytes, until it closes the socket. */
function raw(origin: string, bytes: string): Promise<string> {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    let got = '';
    const s = connect(Number(u.port), u.hostname, () => s.write(bytes));
    s.setEncoding('utf8').on('data', (d: string) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe('the Host a request names (issue 21, 6)', () => {
  it('a rebound name gets 421 and no cookie; the listen address and --public-url are answered', async () => {
    const s = await start({ publicUrl: 'https://mfa.example.com' });
    const port = new URL(s.origin).port;
    const rebound = await call(`${s.origin}/api/r/corp/signin`, {
      headers: { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
      body: bob,
    });
    expect(rebound.status).toBe(421);
    expect(rebound.json().error?.code).toBe('wrong-host');
    expect(sessionCookie(rebound)).toBeUndefined();
    expect(rebound.headers['content-security-policy']).toBe(PORTAL_CSP);
    expect((await call(`${s.origin}/r/corp`, { headers: { host: 'evil.example' } })).status).toBe(421);
    expect((await call(`${s.origin}/api/r/corp/signin`, { body: bob })).status).toBe(200);
    const viaName = await call(`${s.origin}/api/r/corp/signin`, {
      headers: { host: 'mfa.example.com', origin: 'https://mfa.example.com' },
      body: bob,
    });
    expect(viaName.status, viaName.body).toBe(200);
    expect((await call(`${s.origin}/r/corp`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
  });

  it('behind a trusted proxy, a forwarded Host that is not the portal is refused too', async () => {
    const s = await start({ publicUrl: 'https://mfa.example.com', trustProxy: ['127.0.0.1'] });
    const a = await call(`${s.origin}/r/corp`, {
      headers: { host: 'mfa.example.com', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' },
    });
    expect(a.status).toBe(421);
  });
});

describe('X-Forwarded-For from a trusted proxy (issue 21, 9)', () => {
  it('"ip:port" and "[ipv6]:port" are the address; a non-address is refused and logged as such', async () => {
    const seen: AccessLogEntry[] = [];
    const s = await start({
      trustProxy: ['127.0.0.1'],
      accessLog: (e) => seen.push(e),
      limits: { perAddress: 2, perUser: 1e6, overall: 1e6 },
    });
    const begin = (xff: string) =>
      call(`${s.origin}/api/r/corp/signin/begin`, { headers: { 'x-forwarded-for': xff }, body: { login: 'x' } });
    expect((await begin('203.0.113.7:5555')).status).toBe(200);
    expect((await begin('203.0.113.7')).status).toBe(200);
    // One bucket for the address, however the port was written.
    expect((await begin('203.0.113.7:6666')).status).toBe(429);
    expect((await begin('[2001:db8::1]:443')).status).toBe(200);
    const junk = await begin('not-an-address');
    expect(junk.status).toBe(400);
    expect(junk.json().error?.code).toBe('bad-forwarded-for');
    expect(seen.map((e) => e.ip)).toEqual([
      '203.0.113.7',
      '203.0.113.7',
      '203.0.113.7',
      '2001:db8::1',
      'invalid-forwarded-for',
    ]);
  });
});

describe('a sign-in code that cannot be mailed (issue 21, 2)', () => {
  it('answers as for a code that left, logs the masked address for the operator, and keeps the cool-down', async () => {
    let tries = 0;
    const failing: Mailer = {
      send: async () => {
        tries++;
        throw Object.assign(new Error('550 5.1.1 <erin@example.org>: mailbox unavailable (smtp.internal.example:25)'), {
          code: 'EENVELOPE',
        });
      },
    };
    const logged: string[] = [];
    const s = await start({ mailer: failing, onMailFailure: (m) => logged.push(m) });
    const a = await call(`${s.origin}/api/r/corp/signin/begin`, { body: { login: 'erin' } });
    expect(a.status, a.body).toBe(200);
    expect(a.json()).toEqual({
      resource: 'corp',
      login: 'erin',
      method: 'email-code',
      tokenCodeRequired: false,
      sentTo: 'e***@example.org',
    });
    expect(a.body).not.toMatch(/erin@example\.org|smtp\.internal|550/);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain('e***@example.org');
    expect(logged[0]).not.toContain('erin@example.org');
    // Within the cool-down no second mail is tried.
    expect((await call(`${s.origin}/api/r/corp/signin/begin`, { body: { login: 'erin' } })).status).toBe(200);
    expect(tries).toBe(1);
    const rows = (await store.audit.list()).filter((r) => r.action === 'portal.signin-code-failed');
    expect(rows.at(-1)?.details).toMatchObject({ to: 'e***@example.org', error: 'EENVELOPE' });
  });
});

describe("Node's own answers and held sockets (issue 21, 10)", () => {
  it('a request Node cannot parse (400) or whose headers are too large (431) gets the security headers', async () => {
    const s = await start();
    const bad = await raw(s.origin, 'GARBAGE\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400/);
    expect(bad.toLowerCase()).toContain(`content-security-policy: ${PORTAL_CSP.toLowerCase()}`);
    expect(bad.toLowerCase()).toContain('x-content-type-options: nosniff');
    const big = await raw(s.origin, `GET /r/corp HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    expect(big.toLowerCase()).toContain('content-security-policy:');
  });

  it('one address holds at most 16 connections; the next ones are closed at once', async () => {
    const s = await start();
    const u = new URL(s.origin);
    const sockets: Socket[] = [];
    let closed = 0;
    await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<void>((resolve) => {
            const c = connect(Number(u.port), u.hostname, () => resolve());
            c.on('close', () => closed++);
            c.on('error', () => undefined);
            sockets.push(c);
          }),
      ),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(closed).toBe(4);
    for (const c of sockets) c.destroy();
  });
});

describe('the session cookie (issue 21, 4)', () => {
  it('over https it is a __Host- cookie: Path=/, Secure, no Domain', async () => {
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
    const a = await call(`${s.origin}/api/r/corp/signin`, { body: bob, ca: readFileSync(cert) });
    const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/^__Host-tokensmith_portal=[A-Za-z0-9_-]{43}; Path=\/; /);
    expect(set[0]).toMatch(/; Secure/);
    expect(set[0]).not.toMatch(/Domain=/i);
    const me = await call(`${s.origin}/api/r/corp/me`, {
      headers: { cookie: sessionCookie(a)! },
      ca: readFileSync(cert),
    });
    expect(me.json<{ login: string }>().login).toBe('bob');
  });

  it('two session cookies are refused; an action under another session than the page was loaded with is refused', async () => {
    const s = await start();
    const mine = sessionCookie(await call(`${s.origin}/api/r/corp/signin`, { body: bob }))!;
    const other = sessionCookie(await call(`${s.origin}/api/r/corp/signin`, { body: bob }))!;
    const two = await call(`${s.origin}/api/r/corp/me`, { headers: { cookie: `${other}; ${mine}` } });
    expect(two.status).toBe(400);
    expect(two.json().error?.code).toBe('two-session-cookies');
    const both = await call(`${s.origin}/api/r/corp/actions/change-name`, {
      headers: { cookie: `${other}; ${mine}` },
      body: { name: 'Bob' },
    });
    expect(both.status).toBe(400);
    // The page loaded with `mine` holds its tag; a cookie swapped under it (another session) is refused.
    const me = await call(`${s.origin}/api/r/corp/me`, { headers: { cookie: mine } });
    const tag = me.json<{ sessionTag: string }>().sessionTag;
    expect(tag).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const swapped = await call(`${s.origin}/api/r/corp/actions/change-name`, {
      headers: { cookie: other, 'x-portal-session': tag },
      body: { name: 'Bob' },
    });
    expect(swapped.status).toBe(403);
    expect(swapped.json().error?.code).toBe('session-changed');
    const untagged = await call(`${s.origin}/api/r/corp/actions/change-name`, {
      headers: { cookie: mine, 'x-portal-session': '' },
      body: { name: 'Bob' },
    });
    expect(untagged.status).toBe(403);
    const right = await call(`${s.origin}/api/r/corp/actions/change-name`, {
      headers: { cookie: mine, 'x-portal-session': tag },
      body: { name: 'Bob' },
    });
    expect(right.status, right.body).toBe(200);
  });
});

describe('what / answers (issue 26, 4)', () => {
  it('a plain page naming no Resource; with --list-resources, the Resources that allow self-service', async () => {
    const plain = await call(`${(await start()).origin}/`);
    expect(plain.status).toBe(200);
    expect(plain.headers['content-type']).toMatch(/^text\/html/);
    expect(plain.body).toContain('/r/');
    expect(plain.body).not.toContain('corp');
    expect(plain.headers['content-security-policy']).toBe(PORTAL_CSP);
    await server!.close();
    const listed = await call(`${(await start({ listResources: true })).origin}/`);
    expect(listed.status).toBe(200);
    expect(listed.body).toContain('<a href="/r/corp">corp</a>');
    expect(listed.body).not.toContain('closed');
  });
});
