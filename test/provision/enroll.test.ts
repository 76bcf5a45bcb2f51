import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimToken, startSoftwareToken } from '../../src/provision/enroll.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import { addToken, findToken } from '../../src/provision/tokens.js';
import { unlockToken } from '../../src/provision/lifecycle.js';
import type { Store } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS, totp } from './helpers-ss.js';

const AT = new Date('2026-03-01T12:00:10Z');
let store: Store;

async function setup() {
  await createResource(store, { name: 'vpn' });
  await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll', tokenTypes: 'programmable' });
  for (const login of ['alice', 'bob', 'carol'])
    await addUser(store, { login, email: `${login}@example.com`, resources: ['vpn'] });
  await createResource(store, { name: 'wiki' });
  await addUser(store, { login: 'dave', email: 'dave@example.com', resources: ['wiki'] });
  await addToken(store, { serial: 'P1', secret: base32(TEST_SEEDS.p1), kind: 'programmable', resource: 'vpn' });
  await addToken(store, { serial: 'P2', secret: base32(TEST_SEEDS.p2), kind: 'programmable', resource: 'vpn' });
  await addToken(store, { serial: 'P3', secret: base32(TEST_SEEDS.p3), kind: 'programmable', resource: 'vpn' });
  await addToken(store, { serial: 'C1', secret: base32(TEST_SEEDS.c1), kind: 'classic', resource: 'vpn' });
}

const claim = (login: string, serial: string, code: string, at = AT) =>
  claimToken(store, { resource: 'vpn', login, serial, code, at, via: 'admin' });

beforeEach(async () => {
  store = memoryStore();
  await setup();
});
afterEach(async () => store.close());

describe('claiming a token (the enrollment flow)', () => {
  it('enrolls an in-stock token with a valid code, drift 0; the same code again is refused', async () => {
    const r = await claim('alice', 'P1', totp(TEST_SEEDS.p1, AT));
    expect(r).toMatchObject({ serial: 'P1', user: 'alice', resource: 'vpn', state: 'enrolled', driftSteps: 0 });
    const t = await findToken(store, 'P1');
    expect(t.state).toBe('enrolled');
    expect(t.driftSteps).toBe(0);
    const a = await store.assignments.byToken(t.id);
    // The time the enrollment was recorded (AT is only the time the code is checked against), never before the assignment.
    expect(a!.enrolledAt! >= a!.createdAt).toBe(true);
    await expect(claim('alice', 'P1', totp(TEST_SEEDS.p1, AT))).rejects.toMatchObject({
      code: 'code-already-used',
      exitCode: 5,
    });
    // An earlier code of the window is refused too.
    await expect(claim('alice', 'P1', totp(TEST_SEEDS.p1, AT, -1))).rejects.toMatchObject({
      code: 'code-already-used',
    });
  });

  it('stores the measured drift: +2 accepted, ±3 and 5 steps away refused with the rule', async () => {
    expect((await claim('bob', 'P2', totp(TEST_SEEDS.p2, AT, 2))).driftSteps).toBe(2);
    expect((await findToken(store, 'P2')).driftSteps).toBe(2);
    await expect(claim('carol', 'P3', totp(TEST_SEEDS.p3, AT, 5))).rejects.toThrow(
      /within ±2 steps.*rule: a code must be valid within the Resource's window/,
    );
    await expect(claim('carol', 'P3', totp(TEST_SEEDS.p3, AT, -3))).rejects.toMatchObject({
      code: 'code-rejected',
      exitCode: 5,
    });
    expect((await claim('carol', 'P3', totp(TEST_SEEDS.p3, AT, -2))).driftSteps).toBe(-2);
  });

  it('refuses a user outside the Resource, a type not allowed, a second token, a token of someone else', async () => {
    await expect(
      claimToken(store, {
        resource: 'vpn',
        login: 'dave',
        serial: 'P1',
        code: totp(TEST_SEEDS.p1, AT),
        at: AT,
        via: 'admin',
      }),
    ).rejects.toMatchObject({
      code: 'user-not-in-resource',
      exitCode: 5,
    });
    await expect(claim('alice', 'C1', totp(TEST_SEEDS.c1, AT))).rejects.toMatchObject({
      code: 'token-type-not-allowed',
      exitCode: 5,
    });
    await claim('alice', 'P1', totp(TEST_SEEDS.p1, AT));
    await expect(claim('alice', 'P2', totp(TEST_SEEDS.p2, AT))).rejects.toMatchObject({
      code: 'one-token-per-resource',
      exitCode: 5,
    });
    await expect(claim('bob', 'P1', totp(TEST_SEEDS.p1, AT, 1))).rejects.toMatchObject({
      code: 'token-has-other-user',
      exitCode: 5,
    });
    // No refusal wrote anything but the audit rows of the one success (assign + enroll).
    expect(
      (await store.audit.list())
        .filter((r) => r.action.startsWith('token.enroll') || r.action === 'token.assign')
        .map((r) => r.action),
    ).toEqual(['token.assign', 'token.enroll']);
  });

  it('refuses when enroll is not allowed, and a token outside the Resource stock', async () => {
    await setResourcePermissions(store, 'vpn', { allow: false, actions: 'enroll' });
    // In the portal; the admin acting for the user is not bound by the Allowed Actions (admin-rules.test.ts).
    await expect(
      claimToken(store, {
        resource: 'vpn',
        login: 'alice',
        serial: 'P1',
        code: totp(TEST_SEEDS.p1, AT),
        at: AT,
        via: 'portal',
      }),
    ).rejects.toMatchObject({ code: 'action-not-allowed' });
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll' });
    await addToken(store, { serial: 'LOOSE', secret: base32(TEST_SEEDS.p2), kind: 'programmable' });
    await expect(claim('alice', 'LOOSE', totp(TEST_SEEDS.p2, AT))).rejects.toMatchObject({
      code: 'token-not-in-stock',
    });
  });

  it('locks the token after lock-after failed codes until an admin unlocks it', async () => {
    for (let i = 1; i <= 4; i++)
      await expect(claim('carol', 'P3', '000000')).rejects.toThrow(new RegExp(`${5 - i} attempt\\(s\\) left`));
    await expect(claim('carol', 'P3', '000000')).rejects.toThrow(/now locked.*tokens unlock P3/);
    expect((await findToken(store, 'P3')).locked).toBe(true);
    await expect(claim('carol', 'P3', totp(TEST_SEEDS.p3, AT))).rejects.toMatchObject({
      code: 'token-locked',
      exitCode: 5,
    });
    const u = await unlockToken(store, 'P3');
    expect(u).toEqual({ serial: 'P3', wasLocked: true, failedAttempts: 5 });
    expect((await claim('carol', 'P3', totp(TEST_SEEDS.p3, AT))).state).toBe('enrolled');
    const failed = await store.audit.list({ action: 'token.enroll-failed' });
    expect(failed.map((r) => r.details.failedAttempts)).toEqual([1, 2, 3, 4, 5]);
    expect(failed.at(-1)!.details.locked).toBe(true);
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('a malformed code is bad input (exit 4) and is not counted', async () => {
    await expect(claim('alice', 'P1', '12ab56')).rejects.toMatchObject({ code: 'bad-code', exitCode: 4 });
    expect((await findToken(store, 'P1')).failedAttempts).toBe(0);
  });

  it('confirms a token the admin assigned (pending) with the user’s code', async () => {
    const { assignToken } = await import('../../src/provision/assign.js');
    await assignToken(store, { serial: 'P2', login: 'bob', resource: 'vpn' });
    expect((await findToken(store, 'P2')).state).toBe('assigned');
    await expect(claim('alice', 'P2', totp(TEST_SEEDS.p2, AT))).rejects.toMatchObject({ code: 'token-has-other-user' });
    expect((await claim('bob', 'P2', totp(TEST_SEEDS.p2, AT, 1))).driftSteps).toBe(1);
  });

  it('starts a software token and confirms it with its first code', async () => {
    await expect(startSoftwareToken(store, { resource: 'vpn', login: 'alice', via: 'admin' })).rejects.toMatchObject({
      code: 'token-type-not-allowed',
    });
    await setResourcePermissions(store, 'vpn', { allow: true, tokenTypes: 'software' });
    const first = await startSoftwareToken(store, { resource: 'vpn', login: 'alice', via: 'admin' });
    // Starting again replaces the pending one.
    const s = await startSoftwareToken(store, { resource: 'vpn', login: 'alice', via: 'admin' });
    expect((await findToken(store, first.serial)).state).toBe('revoked');
    expect(s.otpauthUri).toMatch(new RegExp(`^otpauth://totp/vpn:alice\\?.*secret=${s.secret}`));
    const seed = Buffer.from(decodeB32(s.secret));
    const r = await claim('alice', s.serial, totp(seed, AT));
    expect(r.state).toBe('enrolled');
    const t = await findToken(store, s.serial);
    expect(t.attributes.software).toBe(true);
  });
});

function decodeB32(s: string): Uint8Array {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of s.replace(/=+$/, '')) {
    value = (value << 5) | A.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}
