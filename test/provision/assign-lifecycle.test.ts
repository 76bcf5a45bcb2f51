import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assignFromCsv, assignToken, createAssignment, unassignToken } from '../../src/provision/assign.js';
import { PolicyError } from '../../src/core/errors.js';
import { changeTokenState, parseCodePair, resyncToken } from '../../src/provision/lifecycle.js';
import { createResource } from '../../src/provision/resources.js';
import { addToken, findToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS, totp } from './helpers-ss.js';

let store: Store;
let dir: string;

beforeEach(async () => {
  store = memoryStore();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-assign-'));
  await createResource(store, { name: 'vpn' });
  await createResource(store, { name: 'wiki' });
  await addUser(store, { login: 'alice', email: 'a@example.com', resources: ['vpn', 'wiki'] });
  await addUser(store, { login: 'bob', email: 'b@example.com', resources: ['vpn'] });
  await addToken(store, { serial: 'P1', secret: base32(TEST_SEEDS.p1), kind: 'programmable' });
  await addToken(store, { serial: 'P2', secret: base32(TEST_SEEDS.p2), kind: 'programmable' });
  await addToken(store, { serial: 'C1', secret: base32(TEST_SEEDS.c1), kind: 'classic' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('assign and unassign', () => {
  it('assigns, enforces one token per user per Resource and one user per token, and unassigns by kind', async () => {
    expect(await assignToken(store, { serial: 'P1', login: 'alice', resource: 'vpn' })).toEqual({
      serial: 'P1',
      user: 'alice',
      resource: 'vpn',
      state: 'assigned',
      enrolled: false,
    });
    await expect(assignToken(store, { serial: 'P2', login: 'alice', resource: 'vpn' })).rejects.toMatchObject({
      code: 'one-token-per-resource',
      exitCode: 5,
    });
    await expect(assignToken(store, { serial: 'P1', login: 'bob', resource: 'vpn' })).rejects.toMatchObject({
      code: 'token-has-other-user',
      exitCode: 5,
    });
    await expect(assignToken(store, { serial: 'C1', login: 'bob', resource: 'wiki' })).rejects.toMatchObject({
      code: 'user-not-in-resource',
      exitCode: 5,
    });
    await assignToken(store, { serial: 'C1', login: 'alice', resource: 'wiki' });
    expect(await unassignToken(store, 'P1')).toEqual({
      serial: 'P1',
      state: 'programmed',
      user: 'alice',
      resource: 'vpn',
    });
    expect(await unassignToken(store, 'C1')).toMatchObject({ state: 'in_stock' });
    await expect(unassignToken(store, 'C1')).rejects.toMatchObject({ code: 'not-assigned', exitCode: 4 });
    // Back in the Resource's stock.
    expect((await findToken(store, 'P1')).resourceId).toBe((await store.resources.findByName('vpn'))!.id);
    expect(
      (await store.audit.list()).filter((r) => r.action === 'token.assign' || r.action === 'token.unassign'),
    ).toHaveLength(4);
  });

  it('assign --from: all or nothing, naming every bad line', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'serial,login,resource\nP1,alice,vpn\nP2,alice,vpn\nNOPE,bob,vpn\n');
    const r = await assignFromCsv(store, bad);
    expect(r.assigned).toBe(0);
    expect(r.errors.map((e) => e.where)).toEqual(['bad.csv:3', 'bad.csv:4']);
    expect(r.errors[0]!.message).toMatch(/one user has at most one token per Resource/);
    expect(await store.assignments.list()).toHaveLength(0);
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'serial,login,resource\r\nP1,alice,vpn\r\n"P2",bob,vpn\r\n');
    expect((await assignFromCsv(store, good)).assigned).toBe(2);
  });
});

describe('life cycle', () => {
  it('disable/enable returns to the state before; lost keeps, revoke ends the assignment; retire is final', async () => {
    await assignToken(store, { serial: 'P1', login: 'alice', resource: 'vpn' });
    expect(await changeTokenState(store, 'P1', 'disable')).toMatchObject({
      from: 'assigned',
      to: 'disabled',
      user: 'alice',
    });
    expect(await changeTokenState(store, 'P1', 'lost')).toMatchObject({ from: 'disabled', to: 'lost' });
    expect(await changeTokenState(store, 'P1', 'enable')).toMatchObject({
      from: 'lost',
      to: 'assigned',
      user: 'alice',
    });
    await changeTokenState(store, 'P1', 'lost');
    expect(await changeTokenState(store, 'P1', 'revoke')).toMatchObject({ to: 'revoked' });
    expect(await store.assignments.byToken((await findToken(store, 'P1')).id)).toBeNull();
    await expect(changeTokenState(store, 'P1', 'enable')).rejects.toMatchObject({
      code: 'illegal-transition',
      exitCode: 4,
    });
    expect(await changeTokenState(store, 'P1', 'retire')).toMatchObject({ to: 'retired' });
    await expect(changeTokenState(store, 'P1', 'disable')).rejects.toThrow(/retired token is final/);
    // Alice can get another token in vpn now.
    await assignToken(store, { serial: 'P2', login: 'alice', resource: 'vpn' });
    expect((await store.audit.verify()).ok).toBe(true);
  });

  it('resync finds two consecutive codes within the sync window (the admin, whatever the Allowed Actions)', async () => {
    const at = new Date('2026-03-01T12:00:00Z');
    await assignToken(store, { serial: 'P1', login: 'alice', resource: 'vpn' });
    const codes: [string, string] = [totp(TEST_SEEDS.p1, at, 40), totp(TEST_SEEDS.p1, at, 41)];
    expect(await resyncToken(store, 'P1', codes, { at })).toEqual({
      serial: 'P1',
      driftSteps: 41,
      previousDriftSteps: 0,
    });
    await expect(resyncToken(store, 'P1', ['000000', '000001'], { at })).rejects.toMatchObject({
      code: 'resync-failed',
      exitCode: 4,
    });
    expect((await store.audit.list({ action: 'token.resync-failed' })).length).toBe(1);
    // A token in no Resource needs no permission.
    expect(
      (await resyncToken(store, 'C1', [totp(TEST_SEEDS.c1, at, -3), totp(TEST_SEEDS.c1, at, -2)], { at })).driftSteps,
    ).toBe(-2);
    expect(() => parseCodePair('123456')).toThrow(/two consecutive codes/);
    expect(parseCodePair('123456, 654321')).toEqual(['123456', '654321']);
  });
});

describe('the assignment rule the database enforces last', () => {
  it('is refused here, in provision, as the exit-5 assignment-conflict the user always saw', async () => {
    const vpn = (await store.resources.findByName('vpn'))!;
    const alice = (await store.users.findByLogin('alice'))!;
    const p1 = await findToken(store, 'P1');
    const p2 = await findToken(store, 'P2');
    await createAssignment(store, { tokenId: p1.id, userId: alice.id, resourceId: vpn.id });
    // Past every check (as when another station wrote first): only the unique constraint stops it.
    const err = await createAssignment(store, { tokenId: p2.id, userId: alice.id, resourceId: vpn.id }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PolicyError);
    expect(err).toMatchObject({
      exitCode: 5,
      code: 'assignment-conflict',
      message: 'the token already has a user, or the user already has a token in this Resource',
    });
  });
});
