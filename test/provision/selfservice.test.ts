import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutboxMailer } from '../../src/provision/mailer.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { beginSignIn, signIn } from '../../src/provision/selfservice.js';
import { addToken, findToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import { verifyPassword } from '../../src/core/password.js';
import type { Store } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS, totp } from './helpers-ss.js';

const AT = new Date('2026-03-01T12:00:10Z');
let store: Store;
let dir: string;
let mailer: OutboxMailer;

function lastCodeIn(outbox: string): string {
  const files = readdirSync(outbox).sort();
  const text = readFileSync(join(outbox, files.at(-1)!), 'utf8');
  return /code to sign in .* is (\d{8})/.exec(text)![1]!;
}

beforeEach(async () => {
  store = memoryStore();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-portal-'));
  mailer = new OutboxMailer(join(dir, 'outbox'));
  await createResource(store, { name: 'vpn', lockAfter: 3 });
  await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll', tokenTypes: 'programmable' });
  await addUser(store, { login: 'alice', email: 'alice@example.com', resources: ['vpn'] });
  await addUser(store, { login: 'bob', password: 'bob-password-1', resources: ['vpn'] });
  await addUser(store, { login: 'nomail', resources: ['vpn'] });
  await addUser(store, { login: 'dave', email: 'dave@example.com', resources: ['vpn'] });
  await createResource(store, { name: 'wiki' });
  await addToken(store, { serial: 'P1', secret: base32(TEST_SEEDS.p1), kind: 'programmable', resource: 'vpn' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('portal sign-in', () => {
  it('signs in with a password, refuses a wrong one and locks after lock-after failures', async () => {
    const ch = await beginSignIn(store, mailer, { resource: 'vpn', login: 'bob', at: AT });
    expect(ch).toEqual({ resource: 'vpn', login: 'bob', method: 'password', tokenCodeRequired: false });
    const s = await signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT });
    expect(s.login).toBe('bob');
    for (let i = 0; i < 3; i++)
      await expect(signIn(store, { resource: 'vpn', login: 'bob', password: 'nope', at: AT })).rejects.toMatchObject({
        code: 'sign-in-refused',
        exitCode: 5,
      });
    await expect(signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT })).rejects.toThrow(
      /locked after 3 failed attempts/,
    );
    // The lock ends after 15 minutes.
    expect(
      (
        await signIn(store, {
          resource: 'vpn',
          login: 'bob',
          password: 'bob-password-1',
          at: new Date(AT.getTime() + 16 * 60_000),
        })
      ).login,
    ).toBe('bob');
  });

  it('sends a one-time code to the email when there is no password; it works once', async () => {
    const ch = await beginSignIn(store, mailer, { resource: 'vpn', login: 'alice', at: AT });
    expect(ch).toMatchObject({ method: 'email-code', sentTo: 'a***@example.com' });
    const msg = readFileSync(join(dir, 'outbox', readdirSync(join(dir, 'outbox'))[0]!), 'utf8');
    expect(msg).toMatch(/^From: .*\r\nTo: alice@example.com\r\nSubject: Your sign-in code for vpn\r\n/);
    const code = lastCodeIn(join(dir, 'outbox'));
    const wrong = code === '000000' ? '111111' : '000000';
    await expect(signIn(store, { resource: 'vpn', login: 'alice', emailCode: wrong, at: AT })).rejects.toThrow(
      /unknown login, or wrong password or code/,
    );
    expect((await signIn(store, { resource: 'vpn', login: 'alice', emailCode: code, at: AT })).login).toBe('alice');
    await expect(signIn(store, { resource: 'vpn', login: 'alice', emailCode: code, at: AT })).rejects.toThrow(
      /unknown login, or wrong password or code/,
    );
    // The client hears one refusal; the audit log keeps why.
    const reasons = (await store.audit.list({ action: 'portal.signin-failed' })).map((a) => a.details.reason);
    expect(reasons).toEqual(['wrong emailed code', 'no valid emailed code']);
    // The code hash is stored, never the code.
    expect(JSON.stringify(await store.audit.list())).not.toContain(code);
  });

  it('an emailed code expires after 10 minutes', async () => {
    await beginSignIn(store, mailer, { resource: 'vpn', login: 'alice', at: AT });
    const code = lastCodeIn(join(dir, 'outbox'));
    await expect(
      signIn(store, { resource: 'vpn', login: 'alice', emailCode: code, at: new Date(AT.getTime() + 11 * 60_000) }),
    ).rejects.toThrow(/unknown login, or wrong password or code/);
  });

  it('answers users outside the Resource and users with neither password nor email as it answers an unknown login, and signs neither in', async () => {
    for (const [resource, login] of [
      ['wiki', 'alice'],
      ['vpn', 'nomail'],
      ['vpn', 'nobody'],
    ]) {
      expect(await beginSignIn(store, mailer, { resource: resource!, login: login!, at: AT })).toMatchObject({
        resource,
        login,
        method: 'password',
      });
      await expect(
        signIn(store, { resource: resource!, login: login!, password: 'whatever-1', at: AT }),
      ).rejects.toMatchObject({ code: 'sign-in-refused', exitCode: 5 });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('asks the code of the enrolled token too, and never takes the same code twice', async () => {
    const s = await signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT });
    await s.enroll('P1', totp(TEST_SEEDS.p1, AT), AT);
    expect((await beginSignIn(store, mailer, { resource: 'vpn', login: 'bob', at: AT })).tokenCodeRequired).toBe(true);
    await expect(signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT })).rejects.toThrow(
      /unknown login, or wrong password or code/,
    );
    const later = new Date(AT.getTime() + 60_000);
    await expect(
      signIn(store, {
        resource: 'vpn',
        login: 'bob',
        password: 'bob-password-1',
        tokenCode: totp(TEST_SEEDS.p1, AT),
        at: later,
      }),
    ).rejects.toThrow(/unknown login, or wrong password or code/);
    expect(
      (
        await signIn(store, {
          resource: 'vpn',
          login: 'bob',
          password: 'bob-password-1',
          tokenCode: totp(TEST_SEEDS.p1, later),
          at: later,
        })
      ).login,
    ).toBe('bob');
  });
});

describe('portal actions', () => {
  it('allows each action only when the Resource allows it', async () => {
    const s = await signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT });
    await s.enroll('P1', totp(TEST_SEEDS.p1, AT), AT);
    const at2 = new Date(AT.getTime() + 10 * 30_000);
    const codes: [string, string] = [totp(TEST_SEEDS.p1, at2, 7), totp(TEST_SEEDS.p1, at2, 8)];
    await expect(s.synchronize(codes, at2)).rejects.toMatchObject({ code: 'action-not-allowed', exitCode: 5 });
    await expect(s.unassign()).rejects.toMatchObject({ code: 'action-not-allowed' });
    await expect(s.changePassword('bob-password-1', 'a-new-password')).rejects.toMatchObject({
      code: 'action-not-allowed',
    });
    await setResourcePermissions(store, 'vpn', {
      allow: true,
      actions: ['synchronize', 'reissue', 'unassign', 'change-password', 'change-email', 'change-login'],
    });
    expect(await s.synchronize(codes, at2)).toMatchObject({ serial: 'P1', driftSteps: 8, previousDriftSteps: 0 });
    expect((await findToken(store, 'P1')).driftSteps).toBe(8);
    // The same pair again is a replay.
    await expect(s.synchronize(codes, at2)).rejects.toMatchObject({ code: 'code-already-used' });
    expect(await s.reissue()).toEqual({ serial: 'P1', state: 'assigned' });
    expect(await s.unassign()).toEqual({ serial: 'P1', state: 'programmed' });
    const s2 = await s.changeLogin('robert');
    expect(s2.login).toBe('robert');
    await s2.changePassword('bob-password-1', 'a-new-password');
    const u = await store.users.findByLogin('robert');
    expect(await verifyPassword('a-new-password', u!.passwordHash!)).toBe(true);
    await expect(s2.changeEmail('not-an-email')).rejects.toMatchObject({ code: 'bad-email' });
    expect((await store.audit.verify()).ok).toBe(true);
    const actions = (await store.audit.list()).map((r) => r.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'token.resync',
        'token.reissue',
        'token.unassign',
        'user.change-login',
        'user.change-password',
      ]),
    );
  });

  it('lets a user take an existing token with assign-existing and enroll it', async () => {
    const s = await signIn(store, { resource: 'vpn', login: 'bob', password: 'bob-password-1', at: AT });
    await expect(s.assignExisting('P1')).rejects.toMatchObject({ code: 'action-not-allowed' });
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'assign-existing' });
    expect(await s.assignExisting('P1')).toEqual({ serial: 'P1', state: 'assigned' });
    expect((await s.overview()).token).toEqual({ serial: 'P1', state: 'assigned', type: 'programmable' });
    expect((await s.enroll('P1', totp(TEST_SEEDS.p1, AT), AT)).state).toBe('enrolled');
  });
});
