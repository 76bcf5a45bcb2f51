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
  const r = await p.post(
    '/api/r/corp/actions/enroll',
    { serial: 'P1', code: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) },
    { cookie },
  );
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
    const seen: Record<string, string> = {};
    for (const [name, body] of Object.entries(CASES)) {
      const a = await p.post('/api/r/corp/signin', body);
      seen[name] = JSON.stringify({ status: a.status, body: a.body });
    }
    // One answer for all four (status and body), as the client sees it.
    expect(new Set(Object.values(seen)).size, JSON.stringify(seen, null, 1)).toBe(1);
    const one = JSON.parse(Object.values(seen)[0]!);
    expect(one.status).toBe(403);
    for (const secret of ['P1', 'alice', 'bob', 'mallory', 'nobody'])
      expect(JSON.stringify(one.body)).not.toContain(secret);
  }, 120_000);

  it("the first step answers an unknown login and another Resource's user as it answers a user with a password", async () => {
    const p = await portal();
    for (const login of ['nobody', 'bob', 'mallory']) {
      const a = await p.post('/api/r/corp/signin/begin', { login });
      expect(a.body, login).toMatchObject({ resource: 'corp', login, method: 'password' });
      expect(Object.keys(a.body).sort()).toEqual(['login', 'method', 'resource', 'tokenCodeRequired']);
      expect(a.status).toBe(200);
    }
  }, 60_000);

  it('the four failures take about the same time', async () => {
    const p = await portal();
    await enrollAlice(p);
    const fastest: Record<string, number> = {};
    const statuses = new Set<number>();
    for (let round = 0; round < 4; round++) {
      for (const [name, body] of Object.entries(CASES)) {
        const t0 = performance.now();
        statuses.add((await p.post('/api/r/corp/signin', body)).status);
        const ms = performance.now() - t0;
        fastest[name] = Math.min(fastest[name] ?? Infinity, ms);
      }
    }
    const times = Object.values(fastest);
    // One scrypt each: the fastest of four tries of each case within a factor of 3 of the others (was 1-8 ms against 300-750 ms).
    expect(Math.max(...times) / Math.min(...times), JSON.stringify(fastest)).toBeLessThan(3);
    expect([...statuses]).toEqual([403]);
  }, 120_000);
});
