/**
 * Issue 13: rate limits per user, per client address and overall, answered
 * with 429 and a Retry-After; the buckets are in the store, so two API
 * instances on one database share them.
 */
import { expect, it } from 'vitest';
import { onBackends, type Answer } from './harness.js';

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

  it('overall: 100 at once from many addresses and logins, 30 allowed', async () => {
    const p = await portal({ perUser: 1e6, perAddress: 1e6, overall: 30 });
    const burst = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: `u${i}` }, { app: (i % 2) as 0 | 1, ip: `198.51.100.${i + 1}` }),
      ),
    );
    expect(limited(burst)).toHaveLength(70);
  }, 60_000);
});
