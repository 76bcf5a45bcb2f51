/**
 * Issue 13: sign-in answers do not tell who exists. An unknown login, a user
 * of another Resource, a wrong password and the right password without the
 * token's code get the same status and words (no serial, no login of anyone)
 * and take about the same time (each costs one scrypt).
 */
import { performance } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { totp, TEST_SEEDS } from '../provision/helpers-ss.js';
import { onBackends, PASSWORD, signedIn, type Portal } from './harness.js';

async function enrollAlice(p: Portal): Promise<void> {
  const cookie = await signedIn(p, 'corp', 'alice', PASSWORD);
  const r = await p.post('/api/r/corp/actions/enroll', { serial: 'P1', code: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) }, { cookie });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  p.clock.ms += 60_000;
}

const CASES = {
  'unknown login': { login: 'nobody', password: PASSWORD },
  'user of another Resource': { login: 'bob', password: PASSWORD },
  'wrong password': { login: 'mallory', password: 'not the password' },
  'right password, no token code': { login: 'alice', password: PASSWORD },
};

onBackends('sign-in answers', (portal) => {
  it('the four failures look the same to the client, naming no serial and no login', async () => {
    const p = await portal();
    await enrollAlice(p);
    const bodies: Record<string, unknown> = {};
    for (const [name, body] of Object.entries(CASES)) {
      const a = await p.post('/api/r/corp/signin', body);
      expect(a.status, name).toBe(403);
      const text = JSON.stringify(a.body);
      for (const secret of ['P1', 'alice', 'bob', 'mallory', 'nobody']) expect(text, `${name} names ${secret}`).not.toContain(secret);
      bodies[name] = a.body;
    }
    expect(new Set(Object.values(bodies).map((b) => JSON.stringify(b))).size).toBe(1);
  }, 120_000);

  it('the first step answers an unknown login and another Resource\'s user as it answers a user with a password', async () => {
    const p = await portal();
    for (const login of ['nobody', 'bob', 'mallory']) {
      const a = await p.post('/api/r/corp/signin/begin', { login });
      expect(a.status, login).toBe(200);
      expect(Object.keys(a.body).sort()).toEqual(['login', 'method', 'resource', 'tokenCodeRequired']);
      expect(a.body).toMatchObject({ resource: 'corp', login, method: 'password' });
    }
  }, 60_000);

  it('the four failures take about the same time', async () => {
    const p = await portal();
    await enrollAlice(p);
    const fastest: Record<string, number> = {};
    for (let round = 0; round < 3; round++) {
      for (const [name, body] of Object.entries(CASES)) {
        const t0 = performance.now();
        expect((await p.post('/api/r/corp/signin', body)).status).toBe(403);
        const ms = performance.now() - t0;
        fastest[name] = Math.min(fastest[name] ?? Infinity, ms);
      }
    }
    const times = Object.values(fastest);
    // One scrypt each: the fastest of three tries of each case within a factor of 2 of the others (was 8 ms against 170-350 ms).
    expect(Math.max(...times) / Math.min(...times), JSON.stringify(fastest)).toBeLessThan(2);
  }, 120_000);
});
