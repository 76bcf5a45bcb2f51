/**
 * Issue 13, first hostile bullet: sign-in tries sent at once are each counted
 * (the count is taken in the store with the check, not read before and
 * written as read + 1), so a burst locks at the Resource's limit (5 here)
 * and the right secret inside or after the burst does not get through.
 */
import { expect, it } from 'vitest';
import { totp, TEST_SEEDS } from '../provision/helpers-ss.js';
import { onBackends, PASSWORD, signedIn, type Answer } from './harness.js';

const locked = (a: Answer) => a.status === 403 && /locked/.test(a.body.error.message);

onBackends('sign-in bursts', (portal) => {
  it('200 tries at once (199 wrong passwords, 1 right) check at most 5 and lock; the right password alone is refused after', async () => {
    const p = await portal();
    const tries = Array.from({ length: 200 }, (_, i) =>
      p.post(
        '/api/r/corp/signin',
        { login: 'alice', password: i === 100 ? PASSWORD : `wrong ${i}` },
        { app: (i % 2) as 0 | 1 },
      ),
    );
    const answers = await Promise.all(tries);
    const checked = answers.filter((a) => !locked(a));
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(answers.filter((a) => a.status === 200).length).toBeLessThanOrEqual(1);
    const after = await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD });
    expect(after.status).toBe(403);
    expect(after.body.error.message).toMatch(/locked after 5 failed attempts/);
    // The lock ends after 15 minutes.
    p.clock.ms += 16 * 60_000;
    expect((await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD })).status).toBe(200);
  }, 180_000);

  it('100 wrong token codes at once with the right password lock the sign-in; the right token code is refused after', async () => {
    const p = await portal();
    const cookie = await signedIn(p, 'corp', 'alice', PASSWORD);
    const enrolled = await p.post(
      '/api/r/corp/actions/enroll',
      { serial: 'P1', code: totp(TEST_SEEDS.p1, new Date(p.clock.ms)) },
      { cookie },
    );
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(200);
    p.clock.ms += 60_000;
    const right = totp(TEST_SEEDS.p1, new Date(p.clock.ms));
    const wrong = right === '000000' ? '111111' : '000000';
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post(
          '/api/r/corp/signin',
          { login: 'alice', password: PASSWORD, tokenCode: wrong },
          { app: (i % 2) as 0 | 1 },
        ),
      ),
    );
    expect(answers.filter((a) => !locked(a)).length).toBeLessThanOrEqual(5);
    expect(answers.every((a) => a.status === 403)).toBe(true);
    const after = await p.post('/api/r/corp/signin', { login: 'alice', password: PASSWORD, tokenCode: right });
    expect(after.status).toBe(403);
    expect(after.body.error.message).toMatch(/locked/);
  }, 180_000);

  it('100 wrong emailed codes at once: at most 5 are checked, the sign-in locks, and the real code no longer works', async () => {
    const p = await portal();
    expect((await p.post('/api/r/corp/signin/begin', { login: 'erin' })).body).toMatchObject({ method: 'email-code' });
    const code = /is (\d{8})\./.exec(p.mails[0]!.text)![1]!;
    const wrong = code === '00000000' ? '11111111' : '00000000';
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin', { login: 'erin', emailCode: wrong }, { app: (i % 2) as 0 | 1 }),
      ),
    );
    expect(answers.filter((a) => !locked(a)).length).toBeLessThanOrEqual(5);
    expect((await p.post('/api/r/corp/signin', { login: 'erin', emailCode: code })).status).toBe(403);
  }, 180_000);
});
