/**
 * Issue 26 item 7 and issue 21 item 19 at the store, on both backends: when a
 * token was assigned, enrolled and last changed state; "assigned before" in SQL;
 * the inventory read page by page gives the same rows as the one-statement listing.
 */
import { describe, expect } from 'vitest';
import { claimToken } from '../../src/provision/enroll.js';
import { assignToken } from '../../src/provision/assign.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { iterateTokens, listTokens, viewToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { TEST_SEEDS, totp } from '../provision/helpers-ss.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function vpnWithUser(store: Store): Promise<void> {
  await createResource(store, { name: 'vpn' });
  await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll', tokenTypes: 'programmable,classic' });
  await addUser(store, { login: 'alice', email: 'alice@example.com', resources: ['vpn'] });
  await addUser(store, { login: 'bob', email: 'bob@example.com', resources: ['vpn'] });
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: token times', (backend) => {
  const test = useBackend(backend);

  test('the token JSON has assignedAt, enrolledAt and lastStateChangeAt; a patch to the same state keeps the time', async () => {
    const store = await backend.fresh();
    await vpnWithUser(store);
    const t = await store.tokens.insert({ ...baseToken, serial: 'T1', seed: TEST_SEEDS.p1, resourceId: 1 });
    expect(t.stateChangedAt).toBe(t.createdAt);
    let v = await viewToken(store, t);
    expect(v).toMatchObject({ assignedAt: null, enrolledAt: null, lastStateChangeAt: t.createdAt });
    await sleep(5);
    await assignToken(store, { serial: 'T1', login: 'alice', resource: 'vpn' });
    const assigned = (await store.tokens.get(t.id))!;
    expect(assigned.stateChangedAt > t.createdAt).toBe(true);
    v = await viewToken(store, assigned);
    expect(v.assignedAt).not.toBeNull();
    expect(v.lastStateChangeAt).toBe(assigned.stateChangedAt);
    await sleep(5);
    const same = await store.tokens.update(t.id, { state: 'assigned', counter: 3 });
    expect(same.stateChangedAt).toBe(assigned.stateChangedAt);
    expect(same.updatedAt > assigned.stateChangedAt).toBe(true);
    const [row] = await listTokens(store, {});
    expect(row).toMatchObject({ serial: 'T1', user: 'alice', assignedAt: v.assignedAt, enrolledAt: null });
  });

  test('enrolledAt is never before assignedAt when the code is checked against an earlier time', async () => {
    const store = await backend.fresh();
    await vpnWithUser(store);
    await store.tokens.insert({
      ...baseToken,
      kind: 'programmable',
      state: 'programmed',
      serial: 'P1',
      seed: TEST_SEEDS.p1,
      resourceId: 1,
    });
    // The portal takes its clock at the start of the request; the assignment is written later in the same claim.
    const at = new Date(Date.now() - 20_000);
    const r = await claimToken(store, {
      resource: 'vpn',
      login: 'alice',
      serial: 'P1',
      code: totp(TEST_SEEDS.p1, at),
      via: 'portal',
      at,
    });
    const v = (await listTokens(store, { user: 'alice' }))[0]!;
    expect(v.assignedAt).not.toBeNull();
    expect(v.enrolledAt).toBe(r.enrolledAt);
    expect(v.enrolledAt! >= v.assignedAt!).toBe(true);
    expect(v.lastStateChangeAt >= v.assignedAt!).toBe(true);
  });

  test('--assigned-before finds tokens assigned before a time and never enrolled', async () => {
    const store = await backend.fresh();
    await vpnWithUser(store);
    for (const serial of ['A1', 'B1'])
      await store.tokens.insert({ ...baseToken, serial, seed: TEST_SEEDS.c1, resourceId: 1 });
    await assignToken(store, { serial: 'A1', login: 'alice', resource: 'vpn' });
    await sleep(5);
    const between = new Date().toISOString();
    await sleep(5);
    await assignToken(store, { serial: 'B1', login: 'bob', resource: 'vpn' });
    const before = await listTokens(store, { state: 'assigned', assignedBefore: between });
    expect(before.map((v) => v.serial)).toEqual(['A1']);
    expect((await listTokens(store, { assignedBefore: '2000-01-01' })).length).toBe(0);
    const all = await collect(iterateTokens(store, { assignedBefore: '2999-01-01' }));
    expect(all.map((v) => v.serial)).toEqual(['A1', 'B1']);
    await expect(collect(iterateTokens(store, { assignedBefore: 'last week' }))).rejects.toThrow(/not a date/);
  });

  test('the inventory read page by page equals the one-statement listing, across page boundaries', async () => {
    const store = await backend.fresh();
    await vpnWithUser(store);
    await store.tokens.insertMany(
      Array.from({ length: 2503 }, (_, i) => ({
        ...baseToken,
        serial: `S${String(i).padStart(5, '0')}`,
        resourceId: i % 2 ? 1 : null,
      })),
    );
    await assignToken(store, { serial: 'S01001', login: 'alice', resource: 'vpn' });
    const paged = await collect(iterateTokens(store, {}));
    expect(paged.length).toBe(2503);
    expect(paged).toEqual(await listTokens(store, {}));
    const vpn = await collect(iterateTokens(store, { resource: 'vpn' }));
    expect(vpn.length).toBe(1251); // the odd ones, S01001 among them
    await expect(collect(iterateTokens(store, { resource: 'nope' }))).rejects.toThrow(/no resource named 'nope'/);
  });
});
