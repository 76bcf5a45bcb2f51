/**
 * Issue 21 (3): a user who held a token in a Resource keeps needing a second
 * factor there. Disabling or losing the token, or the user's own reissue or
 * unassign, ends the user's (other) sessions; sign-in then asks for the code
 * of the token the admin assigns next, or is refused with a reason, until the
 * admin says otherwise (`user signout --forget-token`).
 */
import { expect, it } from 'vitest';
import { changeTokenState } from '../../src/provision/lifecycle.js';
import { signOutUser } from '../../src/provision/portal-signout.js';
import { setResourcePermissions } from '../../src/provision/resources.js';
import { assignToken } from '../../src/provision/assign.js';
import { totp, TEST_SEEDS } from '../provision/helpers-ss.js';
import { onBackends, PASSWORD, signedIn, type Portal } from './harness.js';

/** alice signs in and enrolls P1 with its code; returns her session cookie. */
async function aliceEnrolled(p: Portal): Promise<string> {
  const cookie = await signedIn(p, 'corp', 'alice', PASSWORD);
  const a = await p.post(
    '/api/r/corp/actions/enroll',
    { serial: 'P1', code: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) },
    { cookie },
  );
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  p.clock.ms += 60_000;
  return cookie;
}

const withPassword = (p: Portal, extra: Record<string, string> = {}) =>
  p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD, ...extra });

onBackends('the second factor stays (issue 21, 3)', (portal) => {
  for (const action of ['disable', 'lost'] as const) {
    it(`after tokens ${action}: the sessions end, and the password alone does not sign in`, async () => {
      const p = await portal();
      const cookie = await aliceEnrolled(p);
      const other = await signedIn(p, 'corp', 'mallory', PASSWORD);
      await changeTokenState(p.store, 'P1', action);
      expect((await p.get('/api/r/corp/me', { cookie })).status).toBe(401);
      // Another user's session is not touched.
      expect((await p.get('/api/r/corp/me', { cookie: other })).status).toBe(200);
      const a = await withPassword(p);
      expect(a.status).toBe(403);
      expect(a.body.error.code).toBe('second-factor-missing');
      expect(a.body.error.message).toMatch(/ask an admin/);
      // A wrong password still gets the one refusal that tells nothing.
      const wrong = await p.post('/api/r/corp/signin', { login: 'alice', password: 'nope nope' });
      expect(wrong.body.error.code).toBe('sign-in-refused');
      const begun = await p.post('/api/r/corp/signin/begin', { login: 'alice' });
      expect(begun.body.tokenCodeRequired).toBe(true);
    }, 60_000);
  }

  it("after the user's own reissue: the other sessions end; sign-in needs the reissued token's code", async () => {
    const p = await portal();
    await setResourcePermissions(p.store, 'corp', { allow: true, actions: ['reissue', 'unassign'] });
    const phished = await aliceEnrolled(p);
    // With an enrolled token, sign-in asks for its code.
    const code = totp(TEST_SEEDS.p1, new Date(p.clock.ms));
    const signed = await withPassword(p, { tokenCode: code });
    expect(signed.status, JSON.stringify(signed.body)).toBe(200);
    const mine = signed.setCookie!.split(';')[0]!;
    const r = await p.post('/api/r/corp/actions/reissue', {}, { cookie: mine });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await p.get('/api/r/corp/me', { cookie: phished })).status).toBe(401);
    expect((await p.get('/api/r/corp/me', { cookie: mine })).status).toBe(200);
    p.clock.ms += 60_000;
    expect((await withPassword(p)).status).toBe(403);
    const next = await withPassword(p, { tokenCode: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) });
    expect(next.status, JSON.stringify(next.body)).toBe(200);
  }, 60_000);

  it("after the user's own unassign the password alone is refused; the admin's new token, or --forget-token, lets them in", async () => {
    const p = await portal();
    await setResourcePermissions(p.store, 'corp', { allow: true, actions: ['unassign'] });
    await aliceEnrolled(p);
    const signed = await withPassword(p, { tokenCode: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) });
    const cookie = signed.setCookie!.split(';')[0]!;
    expect((await p.post('/api/r/corp/actions/unassign', {}, { cookie })).status).toBe(200);
    p.clock.ms += 60_000;
    expect((await withPassword(p)).body.error.code).toBe('second-factor-missing');
    // The admin assigns P2: its code is the second factor, before it is enrolled.
    await assignToken(p.store, { serial: 'P2', login: 'alice', resource: 'corp' });
    expect((await withPassword(p)).body.error.code).toBe('sign-in-refused');
    const withP2 = await withPassword(p, { tokenCode: totp(TEST_SEEDS.p2, new Date(p.clock.ms)) });
    expect(withP2.status, JSON.stringify(withP2.body)).toBe(200);
    // The admin lets her in on the password alone: the sessions end too.
    await changeTokenState(p.store, 'P2', 'revoke');
    const done = await signOutUser(p.store, 'alice', { resource: 'corp', forgetToken: true });
    expect(done).toMatchObject({ login: 'alice', resource: 'corp', holdsDropped: 1 });
    expect((await withPassword(p)).status).toBe(200);
  }, 60_000);

  it('user signout ends the sessions of the user (in one Resource or all) and no one else', async () => {
    const p = await portal();
    const alice = await signedIn(p, 'corp', 'alice', PASSWORD);
    const mallory = await signedIn(p, 'corp', 'mallory', PASSWORD);
    expect((await signOutUser(p.store, 'alice')).sessionsEnded).toBe(1);
    expect((await p.get('/api/r/corp/me', { cookie: alice })).status).toBe(401);
    expect((await p.get('/api/r/corp/me', { cookie: mallory })).status).toBe(200);
    const row = (await p.store.audit.list()).filter((r) => r.action === 'user.signout').at(-1);
    expect(row?.details).toMatchObject({ resource: null, sessionsEnded: 1 });
  }, 60_000);
});
