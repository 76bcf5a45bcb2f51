/**
 * Issue 13: rate limits per user, per client address and overall, answered
 * with 429 and a Retry-After; the buckets are in the store, so two API
 * instances on one database share them.
 */
import { expect, it } from 'vitest';
import { onBackends, PASSWORD, type Answer } from './harness.js';

const limited = (as: Answer[]) => as.filter((a) => a.status === 429);

onBackends('portal rate limits', (portal) => {
  it('per client address: 100 at once from one address over two instances, 20 allowed, the rest 429 with Retry-After', async () => {
    const p = await portal({ perUser: 1e6, perAddress: 20, overall: 1e6 });
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: `user${i}` }, { app: (i % 2) as 0 | 1, ip: '203.0.113.7' }),
      ),
    );
    const refused = limited(burst);
    expect(refused).toHaveLength(80);
    for (const a of refused) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(a.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(a.body.error.code).toBe('rate-limited');
    }
    // Another address is not held back; after the window the first one is served again.
    expect((await p.post('/api/r/corp/signin/begin', { login: 'x' }, { ip: '203.0.113.8' })).status).toBe(200);
    p.clock.ms += 60_000;
    expect((await p.post('/api/r/corp/signin/begin', { login: 'x' }, { ip: '203.0.113.7' })).status).toBe(200);
  }, 60_000);

  it('per user: 100 at once for one login from many addresses, 10 allowed', async () => {
    const p = await portal({ perUser: 10, perAddress: 1e6, overall: 1e6 });
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: 'alice' }, { app: (i % 2) as 0 | 1, ip: `198.51.100.${i + 1}` }),
      ),
    );
    expect(limited(burst)).toHaveLength(90);
    expect((await p.post('/api/r/corp/signin/begin', { login: 'mallory' })).status).toBe(200);
  }, 60_000);

  it('overall, with no grace under load: 100 at once from many addresses and logins, 30 allowed', async () => {
    const p = await portal({ perUser: 1e6, perAddress: 1e6, overall: 30, perAddressUnderLoad: 0 });
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: `u${i}` }, { app: (i % 2) as 0 | 1, ip: `198.51.100.${i + 1}` }),
      ),
    );
    expect(limited(burst)).toHaveLength(70);
  }, 60_000);

  it('issue 21 (1): one address over its own limit does not spend the overall budget; under load a newcomer still gets in', async () => {
    const p = await portal({ perUser: 1e6, perAddress: 10, overall: 40, perAddressUnderLoad: 3 });
    const flood = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: `f${i}` }, { app: (i % 2) as 0 | 1, ip: '127.0.0.1' }),
      ),
    );
    expect(limited(flood)).toHaveLength(290);
    expect(limited(flood).every((a) => /this address/.test(a.body.error.message))).toBe(true);
    // The right password from another address: before the fix the refused 290 had filled the overall 40.
    const alice = await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD }, { ip: '127.0.0.2' });
    expect(alice.status, JSON.stringify(alice.body)).toBe(200);
    // Spend the overall budget with many addresses: a newcomer still gets its first few requests through.
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: 'x' }, { ip: `198.51.100.${i + 1}` }),
      ),
    );
    const newcomer = [];
    for (let i = 0; i < 5; i++)
      newcomer.push(await p.post('/api/r/corp/signin/begin', { login: 'y' }, { ip: '192.0.2.9' }));
    expect(newcomer.map((a) => a.status)).toEqual([200, 200, 200, 429, 429]);
    expect(newcomer[3]!.body.error.message).toMatch(/the portal as a whole/);
    // The refusals are counted in the audit log, a row at the 1st, 2nd, 4th ... of a window, not one per request.
    const rows = (await p.store.audit.list()).filter((r) => r.action === 'portal.rate-limited');
    const forAddress = rows
      .filter((r) => r.details.bucket === 'ip:127.0.0.1')
      .map((r) => r.details.refusedSoFar as number)
      .sort((a, b) => a - b);
    expect(forAddress).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256]);
  }, 120_000);
});
