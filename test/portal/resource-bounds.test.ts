/**
 * Issue 13: every portal action stays inside the Resource. assign-existing
 * and enroll take only the Resource's own stock (or the user's own token),
 * refusals name no other user, and a burst of wrong codes on a stock token
 * counts against the user who typed them, not the token.
 */
import { expect, it } from 'vitest';
import { totp, TEST_SEEDS } from '../provision/helpers-ss.js';
import { BOB_PASSWORD, onBackends, PASSWORD, signedIn } from './harness.js';

onBackends('portal actions inside the Resource', (portal) => {
  it("assign-existing cannot take another Resource's stock; the token stays where it was", async () => {
    const p = await portal();
    const cookie = await signedIn(p, 'corp', 'alice', PASSWORD);
    const a = await p.post('/api/r/corp/actions/assign-existing', { serial: 'P3' }, { cookie });
    expect(a.status).toBe(403);
    expect(a.body.error.code).toBe('token-not-in-stock');
    const p3 = (await p.store.tokens.findBySerial('P3'))[0]!;
    expect(p3.resourceId).toBe((await p.store.resources.findByName('lab'))!.id);
    expect(await p.store.assignments.byToken(p3.id)).toBeNull();
    // The own stock is fine.
    expect((await p.post('/api/r/corp/actions/assign-existing', { serial: 'P2' }, { cookie })).body).toEqual({
      serial: 'P2',
      state: 'assigned',
    });
  }, 60_000);

  it('a token someone else holds is refused like an unknown serial, naming nobody', async () => {
    const p = await portal();
    const bob = await signedIn(p, 'lab', 'bob', BOB_PASSWORD);
    expect((await p.post('/api/r/lab/actions/assign-existing', { serial: 'P3' }, { cookie: bob })).status).toBe(200);
    const alice = await signedIn(p, 'corp', 'alice', PASSWORD);
    const mallory = await signedIn(p, 'corp', 'mallory', PASSWORD);
    expect((await p.post('/api/r/corp/actions/assign-existing', { serial: 'P2' }, { cookie: mallory })).status).toBe(
      200,
    );
    const refusals = [];
    for (const [action, body] of [
      ['assign-existing', { serial: 'P2' }],
      ['assign-existing', { serial: 'P3' }],
      ['enroll', { serial: 'P2', code: totp(TEST_SEEDS.p2, new Date(p.clock.ms)) }],
      ['enroll', { serial: 'P3', code: totp(TEST_SEEDS.p3, new Date(p.clock.ms)) }],
      ['enroll', { serial: 'NOSUCH', code: '123456' }],
    ] as const) {
      const a = await p.post(`/api/r/corp/actions/${action}`, body, { cookie: alice });
      expect(a.status, `${action} ${body.serial}`).toBe(403);
      expect(JSON.stringify(a.body)).not.toMatch(/mallory|bob/);
      refusals.push(a.body.error.code);
    }
    expect(new Set(refusals)).toEqual(new Set(['token-not-in-stock']));
  }, 60_000);

  it('100 wrong codes at once on a stock token lock the guesser, not the token: its owner-to-be enrolls it', async () => {
    const p = await portal();
    const mallory = await signedIn(p, 'corp', 'mallory', PASSWORD);
    const right = totp(TEST_SEEDS.p1, new Date(p.clock.ms));
    const wrong = right === '000000' ? '111111' : '000000';
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/actions/enroll', { serial: 'P1', code: wrong }, { cookie: mallory, app: (i % 2) as 0 | 1 }),
      ),
    );
    expect(burst.every((a) => a.status === 403)).toBe(true);
    const p1 = (await p.store.tokens.findBySerial('P1'))[0]!;
    expect(p1).toMatchObject({ locked: false, failedAttempts: 0 });
    // Mallory is locked out of enrolling, even with the right code now.
    expect(
      (await p.post('/api/r/corp/actions/enroll', { serial: 'P1', code: right }, { cookie: mallory })).status,
    ).toBe(403);
    const alice = await signedIn(p, 'corp', 'alice', PASSWORD);
    const mine = await p.post('/api/r/corp/actions/enroll', { serial: 'P1', code: right }, { cookie: alice });
    expect(mine.status, JSON.stringify(mine.body)).toBe(200);
    expect(mine.body).toMatchObject({ serial: 'P1', user: 'alice', state: 'enrolled' });
  }, 120_000);
});
