/**
 * Findings of a hostile pass over `tokensmith portal`, each pinned down over
 * real sockets: an unknown Resource is an unknown page (404, no admin hint),
 * a sign-in sets its cookie once, and a session ends when its user leaves the
 * Resource.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../src/provision/mailer.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addUser, setMembership } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { startPortalServer, type PortalServer } from '../../src/web/portal-server.js';
import { memoryStore } from '../provision/helpers-ss.js';
import { call, sessionCookie } from './portal.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-portal-redteam-'));
let store: Store;
let server: PortalServer;

beforeAll(async () => {
  store = memoryStore();
  await createResource(store, { name: 'corp' });
  await setResourcePermissions(store, 'corp', {
    allow: true,
    actions: 'enroll,change-name,change-password',
    tokenTypes: 'programmable',
  });
  await addUser(store, { login: 'dave', password: 'dave-password-1', resources: ['corp'] });
  server = await startPortalServer({ store, mailer: new OutboxMailer(join(dir, 'outbox')) });
});
afterAll(async () => {
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const signIn = () =>
  call(`${server.origin}/api/r/corp/signin`, { body: { login: 'dave', password: 'dave-password-1' } });

describe('portal red-team findings', () => {
  afterEach(async () => {
    const dave = await store.users.findByLogin('dave');
    if (dave && !(await store.users.isInResource(dave.id, (await store.resources.findByName('corp'))!.id)))
      await setMembership(store, 'dave', 'corp', true);
  });

  it('an unknown Resource answers 404 like any unknown page, page and API, without telling users how an admin creates it', async () => {
    const answers = [
      await call(`${server.origin}/r/nope`),
      await call(`${server.origin}/api/r/nope/me`),
      await call(`${server.origin}/api/r/nope/signin/begin`, { body: { login: 'dave' } }),
      await call(`${server.origin}/api/r/nope/signin`, { body: { login: 'dave', password: 'x' } }),
    ];
    for (const a of answers) {
      expect(a.status, a.body).toBe(404);
      expect(a.body).not.toContain('tokensmith resource create');
      expect(a.headers['content-security-policy']).toBeDefined();
    }
    expect((await call(`${server.origin}/r/corp`)).status).toBe(200);
  });

  it('a sign-in sets the session cookie once, hardened (not a hardened copy beside the original)', async () => {
    const a = await signIn();
    expect(a.status).toBe(200);
    const set = ([] as string[]).concat(a.headers['set-cookie'] ?? []);
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/HttpOnly; SameSite=Strict$/);
    const out = await call(`${server.origin}/api/r/corp/signout`, { body: {}, headers: { cookie: sessionCookie(a)! } });
    expect(([] as string[]).concat(out.headers['set-cookie'] ?? [])).toHaveLength(1);
  });

  it('a session ends when its user is taken out of the Resource', async () => {
    const cookie = sessionCookie(await signIn())!;
    expect((await call(`${server.origin}/api/r/corp/me`, { headers: { cookie } })).status).toBe(200);
    await setMembership(store, 'dave', 'corp', false);
    const me = await call(`${server.origin}/api/r/corp/me`, { headers: { cookie } });
    expect(me.status, me.body).toBe(401);
  });

  it('a malformed or overlong address gets the security headers and the portal error form, without the address echoed', async () => {
    const long = 'a'.repeat(300);
    for (const path of ['/r/%ZZ', `/api/r/corp/actions/${long}`, `/r/${long}`]) {
      const a = await call(`${server.origin}${path}`, path.includes('actions') ? { body: {} } : {});
      expect(a.status, path).toBeGreaterThanOrEqual(400);
      expect(a.status, path).toBeLessThan(500);
      expect(a.headers['content-security-policy'], path).toBeDefined();
      expect(a.headers['x-frame-options'], path).toBe('DENY');
      expect(a.headers['cache-control'], path).toBe('no-store');
      expect(a.json().error?.code, path).toBe('bad-request');
      expect(a.body, path).not.toContain(long);
    }
  });

  it('changing the password gives this session a new id: a copy of the old cookie stops working', async () => {
    const old = sessionCookie(await signIn())!;
    const changed = await call(`${server.origin}/api/r/corp/actions/change-password`, {
      headers: { cookie: old },
      body: { currentPassword: 'dave-password-1', password: 'dave-password-2' },
    });
    expect(changed.status, changed.body).toBe(200);
    const fresh = sessionCookie(changed);
    expect(fresh).toMatch(/^tokensmith_portal=[A-Za-z0-9_-]{43}$/);
    expect(fresh).not.toBe(old);
    expect((await call(`${server.origin}/api/r/corp/me`, { headers: { cookie: old } })).status).toBe(401);
    expect((await call(`${server.origin}/api/r/corp/me`, { headers: { cookie: fresh! } })).status).toBe(200);
    const back = await call(`${server.origin}/api/r/corp/actions/change-password`, {
      headers: { cookie: fresh! },
      body: { currentPassword: 'dave-password-2', password: 'dave-password-1' },
    });
    expect(back.status).toBe(200);
  });
});
