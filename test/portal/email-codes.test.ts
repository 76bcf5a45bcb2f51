/**
 * Issue 13: "email me a code" sent 100 times at once sends one mail; one live
 * code per user; a new one only after the cool-down (it replaces the old);
 * expired codes are deleted from the store.
 */
import { expect, it } from 'vitest';
import { onBackends } from './harness.js';

const codeIn = (text: string) => /is (\d{8})\./.exec(text)![1]!;

onBackends('emailed sign-in codes', (portal) => {
  it('100 requests at once send one mail, and each answer is the same', async () => {
    const p = await portal();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        p.post('/api/r/corp/signin/begin', { login: 'erin' }, { app: (i % 2) as 0 | 1 }),
      ),
    );
    expect(
      answers.every((a) => a.status === 200 && a.body.method === 'email-code' && a.body.sentTo === 'e***@example.org'),
    ).toBe(true);
    expect(p.mails).toHaveLength(1);
    expect(p.mails[0]!.to).toBe('erin@example.org');
  }, 60_000);

  it('a second code only after the cool-down; it replaces the first, which stops working', async () => {
    const p = await portal();
    await p.post('/api/r/corp/signin/begin', { login: 'erin' });
    p.clock.ms += 30_000;
    await p.post('/api/r/corp/signin/begin', { login: 'erin' });
    expect(p.mails).toHaveLength(1);
    p.clock.ms += 31_000;
    await p.post('/api/r/corp/signin/begin', { login: 'erin' });
    expect(p.mails).toHaveLength(2);
    const [first, second] = p.mails.map((m) => codeIn(m.text));
    if (first !== second)
      expect((await p.post('/api/r/corp/signin', { login: 'erin', emailCode: first })).status).toBe(403);
    expect((await p.post('/api/r/corp/signin', { login: 'erin', emailCode: second })).status).toBe(200);
    // Used: gone.
    expect((await p.post('/api/r/corp/signin', { login: 'erin', emailCode: second })).status).toBe(403);
  }, 60_000);

  it('expired codes are deleted from the store', async () => {
    const p = await portal();
    await p.post('/api/r/corp/signin/begin', { login: 'erin' });
    const erin = (await p.store.users.findByLogin('erin'))!;
    const corp = (await p.store.resources.findByName('corp'))!;
    expect(await p.store.portal.tryEmailCode(erin.id, corp.id, p.clock.ms, 1000)).not.toBeNull();
    p.clock.ms += 11 * 60_000;
    // Any request after a minute sweeps the store.
    await p.get('/api/r/corp/me');
    expect(await p.store.portal.tryEmailCode(erin.id, corp.id, 0, 1000)).toBeNull();
  }, 60_000);
});
