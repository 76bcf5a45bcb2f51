/**
 * Issue 13: input limits at the boundary. Every field has a length limit,
 * names, logins and serials take no control characters, email addresses
 * must be well formed; each refusal is a 400 that names the field.
 */
import { expect, it } from 'vitest';
import { onBackends, PASSWORD, signedIn } from './harness.js';

onBackends('portal input limits', (portal) => {
  it('refuses over-long and control-character logins, passwords and codes at sign-in', async () => {
    const p = await portal();
    for (const [body, field] of [
      [{ login: 'a'.repeat(129), password: 'x' }, 'login'],
      [{ login: 'alice\nadmin', password: 'x' }, 'login'],
      [{ login: 'alice\u0000', password: 'x' }, 'login'],
      [{ login: 'alice', password: 'x'.repeat(1025) }, 'password'],
      [{ login: 'alice', password: PASSWORD, tokenCode: '1'.repeat(17) }, 'tokenCode'],
      [{ login: 'erin', emailCode: '1'.repeat(17) }, 'emailCode'],
    ] as const) {
      const a = await p.post('/api/r/corp/signin', body);
      expect(a.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(a.body.error.message).toContain(`'${field}'`);
    }
    expect((await p.post('/api/r/corp/signin/begin', { login: 'b'.repeat(5000) })).status).toBe(400);
  }, 60_000);

  it('refuses bad serials, names, phones and email addresses in actions', async () => {
    const p = await portal();
    await p.store.resources.update((await p.store.resources.findByName('corp'))!.id, {
      actions: ['enroll', 'assign-existing', 'change-email', 'change-name', 'change-phone'],
    });
    const cookie = await signedIn(p, 'corp', 'alice', PASSWORD);
    for (const [action, body, field] of [
      ['enroll', { serial: 'P1\r\n', code: '123456' }, 'serial'],
      ['enroll', { serial: 'S'.repeat(65), code: '123456' }, 'serial'],
      ['assign-existing', { serial: 'P\u00851' }, 'serial'],
      ['change-name', { name: 'Alice\u0007' }, 'name'],
      ['change-name', { name: 'A'.repeat(201) }, 'name'],
      ['change-phone', { phone: '1'.repeat(33) }, 'phone'],
      ['change-email', { email: 'alice@example.org\r\nBcc: all@example.org' }, 'email'],
      ['change-email', { email: 'alice@localhost' }, 'email'],
      ['change-email', { email: 'alice@@example.org' }, 'email'],
      ['change-email', { email: `${'a'.repeat(250)}@example.org` }, 'email'],
    ] as const) {
      const a = await p.post(`/api/r/corp/actions/${action}`, body, { cookie });
      expect(a.status, `${action} ${JSON.stringify(body).slice(0, 60)}`).toBe(400);
      expect(a.body.error.message).toMatch(new RegExp(`'${field}'|email address`));
    }
    expect(
      (await p.post('/api/r/corp/actions/change-email', { email: 'alice.smith+otp@mail.example.org' }, { cookie }))
        .status,
    ).toBe(200);
    expect((await p.store.users.findByLogin('alice'))!.email).toBe('alice.smith+otp@mail.example.org');
  }, 60_000);
});
