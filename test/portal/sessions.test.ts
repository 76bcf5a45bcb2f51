/**
 * Issue 13's session bullets: the id is the server's (one offered by the
 * client before sign-in is never adopted), a new one at each sign-in,
 * sign-out ends it, a password change needs the current password and ends
 * the user's other sessions, idle and absolute time-outs; and sessions live
 * in the store, so a second API instance on the same database knows them.
 */
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { cookieOf, onBackends, PASSWORD, signedIn } from './harness.js';

const FIXED = 'tokensmith_portal=attacker-chosen-session-id-0000000000000000000';

onBackends('portal sessions', (portal) => {
  it('never adopts the id a client offers before sign-in; a new id at each sign-in', async () => {
    const p = await portal();
    const a = await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD }, { cookie: FIXED });
    expect(a.status).toBe(200);
    expect(cookieOf(a)).toBeDefined();
    expect(cookieOf(a)).not.toBe(FIXED);
    expect((await p.get('/api/r/corp/me', { cookie: FIXED })).status).toBe(401);
    expect((await p.get('/api/r/corp/me', { cookie: cookieOf(a) })).body).toMatchObject({ login: 'alice' });
    // Signing in again with the session cookie gives a new id and ends the old one.
    const again = await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD }, { cookie: cookieOf(a) });
    expect(cookieOf(again)).not.toBe(cookieOf(a));
    expect((await p.get('/api/r/corp/me', { cookie: cookieOf(a) })).status).toBe(401);
    expect(a.setCookie).toMatch(/HttpOnly/);
    expect(a.setCookie).toMatch(/SameSite=Strict/);
  }, 60_000);

  it('stores only the hash of the session id; a malformed cookie is no session, not a failure', async () => {
    const p = await portal();
    const sid = (await signedIn(p, 'corp', 'alice', PASSWORD)).split('=')[1]!;
    const corp = (await p.store.resources.findByName('corp'))!;
    expect(await p.store.portal.touchSession(sid, corp.id, p.clock.ms, 60_000)).toBeNull();
    const hash = createHash('sha256').update(sid).digest('hex');
    expect(await p.store.portal.touchSession(hash, corp.id, p.clock.ms, 60_000)).not.toBeNull();
    for (const cookie of ['tokensmith_portal=%E0%A4%A', 'tokensmith_portal', '=;;=', `tokensmith_portal=${sid}x`]) {
      expect((await p.get('/api/r/corp/me', { cookie })).status, cookie).toBe(401);
    }
  }, 60_000);

  it('a session made on one instance works on the other; sign-out there ends it everywhere', async () => {
    const p = await portal();
    const cookie = await signedIn(p, 'corp', 'alice', PASSWORD, { app: 0 });
    expect((await p.get('/api/r/corp/me', { cookie, app: 1 })).body).toMatchObject({
      login: 'alice',
      resource: 'corp',
    });
    // Not a session of another Resource.
    expect((await p.get('/api/r/lab/me', { cookie, app: 1 })).status).toBe(401);
    expect((await p.post('/api/r/corp/signout', {}, { cookie, app: 1 })).status).toBe(200);
    expect((await p.get('/api/r/corp/me', { cookie, app: 0 })).status).toBe(401);
  }, 60_000);

  it('changing the password needs the current one and ends the other sessions of the user', async () => {
    const p = await portal();
    const mine = await signedIn(p, 'corp', 'alice', PASSWORD);
    const other = await signedIn(p, 'corp', 'alice', PASSWORD, { app: 1 });
    const change = (body: object) => p.post('/api/r/corp/actions/change-password', body, { cookie: mine });
    const noCurrent = await change({ password: 'a new password 3' });
    expect(noCurrent.status).toBe(403);
    expect((await change({ currentPassword: 'not it', password: 'a new password 3' })).status).toBe(403);
    expect((await p.get('/api/r/corp/me', { cookie: other })).status).toBe(200);
    const changed = await change({ currentPassword: PASSWORD, password: 'a new password 3' });
    expect(changed.status).toBe(200);
    expect((await p.get('/api/r/corp/me', { cookie: other, app: 1 })).status).toBe(401);
    // This session goes on under a new id; the old cookie is spent.
    expect((await p.get('/api/r/corp/me', { cookie: mine })).status).toBe(401);
    expect((await p.get('/api/r/corp/me', { cookie: cookieOf(changed) })).status).toBe(200);
    expect((await p.post('/api/r/corp/signin', { login: 'alice', password: 'a new password 3' })).status).toBe(200);
  }, 60_000);

  it('ends a session after 15 minutes without a request, and 8 hours after sign-in whatever happens', async () => {
    const p = await portal();
    const idle = await signedIn(p, 'corp', 'alice', PASSWORD);
    const busy = await signedIn(p, 'corp', 'mallory', PASSWORD);
    p.clock.ms += 14 * 60_000;
    expect((await p.get('/api/r/corp/me', { cookie: idle })).status).toBe(200);
    p.clock.ms += 15 * 60_000 + 1000;
    expect((await p.get('/api/r/corp/me', { cookie: idle })).status).toBe(401);
    // Busy every 10 minutes: still ended at 8 hours.
    let last = 200;
    for (let t = 0; t < 8 * 6 + 1 && last === 200; t++) {
      p.clock.ms += 10 * 60_000;
      last = (await p.get('/api/r/corp/me', { cookie: busy })).status;
    }
    expect(last).toBe(401);
  }, 60_000);
});
