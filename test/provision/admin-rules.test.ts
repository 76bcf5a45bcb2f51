/**
 * Issue 26 items 10 and 11: the admin is not bound by a Resource's Allowed
 * Actions (those are what users may do in a portal); after `tokens lost`,
 * giving the user a new token names the command that works (`tokens revoke`),
 * or does it in one step with `assign --replace`.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assignToken, unassignToken } from '../../src/provision/assign.js';
import { claimToken } from '../../src/provision/enroll.js';
import { changeTokenState, resyncToken } from '../../src/provision/lifecycle.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken, findToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS, totp } from './helpers-ss.js';

const AT = new Date('2026-03-01T12:00:10Z');
let store: Store;

beforeEach(async () => {
  store = memoryStore();
  await createResource(store, { name: 'vpn' });
  // Users may enroll programmable tokens in the portal; nothing else (no synchronize).
  await setResourcePermissions(store, 'vpn', { allow: true, tokenTypes: 'programmable,classic' });
  await addUser(store, { login: 'alice', email: 'alice@example.com', resources: ['vpn'] });
  for (const [serial, seed] of [
    ['P1', TEST_SEEDS.p1],
    ['P2', TEST_SEEDS.p2],
    ['P3', TEST_SEEDS.p3],
  ] as const)
    await addToken(store, { serial, secret: base32(seed), kind: 'programmable', resource: 'vpn' });
});
afterEach(() => store.close());

describe("the admin and the Resource's Allowed Actions", () => {
  it('tokens resync works although the Resource does not allow synchronize', async () => {
    const codes: [string, string] = [totp(TEST_SEEDS.p1, AT, 14), totp(TEST_SEEDS.p1, AT, 15)];
    const r = await resyncToken(store, 'P1', codes, { at: AT });
    expect(r).toMatchObject({ serial: 'P1', driftSteps: 15, previousDriftSteps: 0 });
    const rows = await store.audit.list({ action: 'token.resync' });
    expect(rows[0]!.details).toEqual({ previousDriftSteps: 0, driftSteps: 15, driftSeconds: 450, via: 'admin' });
  });

  it("the admin's enroll works although enroll is not allowed; the portal's is refused", async () => {
    const code = totp(TEST_SEEDS.p1, AT);
    await expect(
      claimToken(store, { resource: 'vpn', login: 'alice', serial: 'P1', code, at: AT, via: 'portal' }),
    ).rejects.toMatchObject({ code: 'action-not-allowed', exitCode: 5 });
    const r = await claimToken(store, { resource: 'vpn', login: 'alice', serial: 'P1', code, at: AT, via: 'admin' });
    expect(r).toMatchObject({ serial: 'P1', state: 'enrolled' });
  });
});

describe('replacing a lost token', () => {
  beforeEach(async () => {
    await assignToken(store, { serial: 'P1', login: 'alice', resource: 'vpn' });
    await changeTokenState(store, 'P1', 'lost');
  });

  it('assign names tokens revoke and --replace; unassign names tokens revoke', async () => {
    const refused = assignToken(store, { serial: 'P2', login: 'alice', resource: 'vpn' });
    await expect(refused).rejects.toMatchObject({ code: 'one-token-per-resource', exitCode: 5 });
    await expect(refused).rejects.toThrow(
      /already has token P1 \(lost\).*it is lost: revoke it first \(tokensmith tokens revoke P1\), or replace it in one step: tokensmith assign P2 alice --resource vpn --replace/,
    );
    await expect(unassignToken(store, 'P1')).rejects.toThrow(/P1 is lost .*tokensmith tokens revoke P1/);
    // The named command works, and then the assignment does.
    await changeTokenState(store, 'P1', 'revoke');
    expect(await assignToken(store, { serial: 'P2', login: 'alice', resource: 'vpn' })).toMatchObject({
      serial: 'P2',
      state: 'assigned',
    });
  });

  it('assign --replace revokes the lost token and assigns the new one in one step', async () => {
    const v = await assignToken(store, { serial: 'P2', login: 'alice', resource: 'vpn', replace: true });
    expect(v).toMatchObject({ serial: 'P2', user: 'alice', state: 'assigned', replaced: 'P1' });
    const old = await findToken(store, 'P1');
    expect(old.state).toBe('revoked');
    expect(await store.assignments.byToken(old.id)).toBeNull();
    const revoke = (await store.audit.list({ action: 'token.revoke' }))[0]!;
    expect(revoke.details).toMatchObject({ from: 'lost', to: 'revoked', user: 'alice', replacedBy: 'P2' });
  });

  it('a refused --replace leaves the old token as it was', async () => {
    await changeTokenState(store, 'P3', 'retire');
    await expect(
      assignToken(store, { serial: 'P3', login: 'alice', resource: 'vpn', replace: true }),
    ).rejects.toMatchObject({ code: 'illegal-transition' });
    expect((await findToken(store, 'P1')).state).toBe('lost');
  });
});
