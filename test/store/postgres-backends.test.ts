/**
 * The store's repository contract, run against every backend: SQLite (a temp
 * file) and PostgreSQL (a throw-away cluster). The same calls must give the
 * same records, the same errors (codes and exit codes) and the same audit chain.
 */
import { describe, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { DataError, NotFoundError, TokensmithError } from '../../src/core/errors.js';
import { StoreConflictError } from '../../src/store/errors.js';
import type { Store } from '../../src/store/types.js';
import { keyEnv, postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

async function rejection(p: Promise<unknown>): Promise<TokensmithError> {
  try {
    await p;
  } catch (err) {
    return err as TokensmithError;
  }
  throw new Error('expected a rejection');
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name backend', (backend) => {
  let store: Store;
  const test = useBackend(backend);
  const fresh = async (env?: NodeJS.ProcessEnv) => (store = await backend.fresh(env));

  test('tokens: insert fills defaults, reads back, updates, deletes', async () => {
    await fresh();
    const t = await store.tokens.insert({
      ...baseToken,
      serial: 'T1',
      model: 'c200',
      seed: randomBytes(20),
      attributes: { issued: '2024-01-01' },
    });
    expect(t).toMatchObject({
      serial: 'T1',
      manufacturer: '',
      model: 'c200',
      state: 'in_stock',
      previousState: null,
      driftSteps: 0,
      hasSeed: true,
      locked: false,
      lastUsedStep: null,
      attributes: { issued: '2024-01-01' },
    });
    expect(await store.tokens.get(t.id)).toEqual(t);
    expect(await store.tokens.get(9999)).toBeNull();
    await new Promise((r) => setTimeout(r, 5));
    const u = await store.tokens.update(t.id, {
      state: 'disabled',
      previousState: 'in_stock',
      driftSteps: -2,
      locked: true,
      failedAttempts: 3,
      lastUsedStep: 2_000_000_000_000,
      counter: 5_000_000_000,
      attributes: { a: 1 },
    });
    expect(u).toMatchObject({
      state: 'disabled',
      previousState: 'in_stock',
      driftSteps: -2,
      locked: true,
      failedAttempts: 3,
      lastUsedStep: 2_000_000_000_000,
      counter: 5_000_000_000,
      attributes: { a: 1 },
    });
    expect(u.updatedAt > t.updatedAt).toBe(true);
    expect(await rejection(store.tokens.update(9999, { state: 'lost' }))).toBeInstanceOf(NotFoundError);
    await store.tokens.delete(t.id);
    expect(await store.tokens.get(t.id)).toBeNull();
  });

  test('tokens: serials unique per manufacturer (DataError duplicate-serial), one token per device profile', async () => {
    await fresh();
    await store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'B' });
    await store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'A' });
    const e = await rejection(store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'A' }));
    expect(e).toBeInstanceOf(DataError);
    expect(e.code).toBe('duplicate-serial');
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain('DUP (A)');
    expect((await store.tokens.findBySerial('DUP')).map((t) => t.manufacturer)).toEqual(['A', 'B']);
    expect(await store.tokens.findOne('C', 'DUP')).toBeNull();
    await store.tokens.insert({ ...baseToken, serial: 'D1', deviceSerial: 'M2', profile: 1 });
    await expect(store.tokens.insert({ ...baseToken, serial: 'D2', deviceSerial: 'M2', profile: 1 })).rejects.toThrow();
    await expect(store.tokens.insert({ ...baseToken, serial: 'X', digits: 3 })).rejects.toThrow();
    await expect(store.tokens.insert({ ...baseToken, serial: 'X', state: 'bogus' as 'in_stock' })).rejects.toThrow();
  });

  test('tokens: list, count, iterate and iterateWithSeeds filter and page', async () => {
    await fresh();
    const r = await store.resources.create({ name: 'Staff' });
    const b = await store.batches.create({ kind: 'import', operator: 'test' });
    const seed = randomBytes(20);
    await store.tokens.insert({ ...baseToken, serial: 'L1', resourceId: r.id, batchId: b.id, seed });
    await store.tokens.insert({ ...baseToken, serial: 'L2', state: 'programmed', deviceSerial: 'DEV', profile: 1 });
    await store.tokens.insert({ ...baseToken, serial: 'L3', state: 'programmed', deviceSerial: 'DEV', profile: 2 });
    const serials = (ts: { serial: string }[]) => ts.map((t) => t.serial);
    expect(serials(await store.tokens.list())).toEqual(['L1', 'L2', 'L3']);
    expect(serials(await store.tokens.list({ state: 'programmed' }))).toEqual(['L2', 'L3']);
    expect(serials(await store.tokens.list({ resourceId: r.id }))).toEqual(['L1']);
    expect(serials(await store.tokens.list({ batchId: b.id }))).toEqual(['L1']);
    expect(serials(await store.tokens.list({ serials: ['L3', 'L1', 'nope'] }))).toEqual(['L1', 'L3']);
    expect(serials(await store.tokens.list({ deviceSerial: 'DEV', state: 'programmed' }))).toEqual(['L2', 'L3']);
    expect(await store.tokens.count({ state: 'programmed' })).toBe(2);
    const u = await store.users.create({ login: 'alice' });
    const t1 = (await store.tokens.findOne('', 'L1'))!;
    await store.assignments.create({ tokenId: t1.id, userId: u.id, resourceId: r.id });
    const withSeeds = [];
    for await (const x of store.tokens.iterateWithSeeds({ serials: ['L1', 'L2'] })) withSeeds.push(x);
    expect(
      withSeeds.map((x) => [x.token.serial, x.seed?.toString('hex') ?? null, x.assignment?.userId ?? null]),
    ).toEqual([
      ['L1', seed.toString('hex'), u.id],
      ['L2', null, null],
    ]);
    await store.transaction(async (tx) => {
      for (let i = 0; i < 1100; i++) await tx.tokens.insert({ ...baseToken, serial: `P${String(i).padStart(4, '0')}` });
    });
    const seen = new Set<string>();
    for await (const t of store.tokens.iterate()) seen.add(t.serial);
    expect(seen.size).toBe(1103);
  });

  test('tokens: insertMany leaves existing pairs out and reports their indexes, and seals every seed', async () => {
    await fresh();
    await store.tokens.insert({ ...baseToken, serial: 'M2', manufacturer: 'X' });
    const seeds = [randomBytes(20), randomBytes(20), randomBytes(20), randomBytes(20)];
    const res = await store.tokens.insertMany([
      { ...baseToken, serial: 'M3', manufacturer: 'X', seed: seeds[0] },
      { ...baseToken, serial: 'M2', manufacturer: 'X', seed: seeds[1] },
      { ...baseToken, serial: 'M1', manufacturer: 'X', seed: seeds[2] },
      { ...baseToken, serial: 'M3', manufacturer: 'X', seed: seeds[3] },
    ]);
    expect(res).toEqual({ inserted: 2, existing: [1, 3] });
    expect((await store.tokens.openSeed((await store.tokens.findOne('X', 'M3'))!)).equals(seeds[0]!)).toBe(true);
    expect((await store.tokens.openSeed((await store.tokens.findOne('X', 'M1'))!)).equals(seeds[2]!)).toBe(true);
    expect((await store.tokens.findOne('X', 'M2'))!.hasSeed).toBe(false);
  });

  test('batches, resources and users: create, refuse duplicates with the same codes, update, find', async () => {
    await fresh();
    const b = await store.batches.create({
      kind: 'import',
      sourceName: 'seeds.xml',
      sourceSha256: 'ab'.repeat(32),
      format: 'pskc',
      operator: 'alice',
    });
    expect(b).toMatchObject({ kind: 'import', status: 'open', imported: 0, finishedAt: null });
    expect(await store.batches.finish(b.id, { imported: 10, skipped: 2, failed: 1 })).toMatchObject({
      status: 'done',
      imported: 10,
      skipped: 2,
      failed: 1,
    });
    expect((await store.batches.findBySha256('ab'.repeat(32))).map((x) => x.id)).toEqual([b.id]);
    await expect(store.batches.finish(999, { imported: 0, skipped: 0, failed: 0 })).rejects.toBeInstanceOf(
      NotFoundError,
    );

    const r = await store.resources.create({ name: 'Staff', url: 'https://mfa.example/staff' });
    expect(r).toMatchObject({ lockAfter: 5, window: 2, syncWindow: 1000, actions: [], tokenTypes: [] });
    expect((await rejection(store.resources.create({ name: 'Staff' }))).code).toBe('duplicate-resource');
    expect(
      await store.resources.update(r.id, { actions: ['enroll'], tokenTypes: ['classic'], window: 3, url: null }),
    ).toMatchObject({
      actions: ['enroll'],
      tokenTypes: ['classic'],
      window: 3,
      url: null,
    });
    await store.resources.create({ name: 'admins' });
    await store.resources.create({ name: 'Admins' });
    expect((await store.resources.list()).map((x) => x.name)).toEqual(['Admins', 'Staff', 'admins']);

    const u = await store.users.create({ login: 'alice', email: 'alice@example.org' });
    expect((await rejection(store.users.create({ login: 'alice' }))).code).toBe('duplicate-user');
    const bob = await store.users.create({ login: 'bob' });
    expect((await rejection(store.users.update(bob.id, { login: 'alice' }))).code).toBe('duplicate-user');
    await store.users.addToResource(u.id, r.id);
    await store.users.addToResource(u.id, r.id);
    expect(await store.users.isInResource(u.id, r.id)).toBe(true);
    expect(await store.users.isInResource(bob.id, r.id)).toBe(false);
    expect((await store.users.list({ resourceId: r.id })).map((x) => x.login)).toEqual(['alice']);
    expect((await store.users.resourcesOf(u.id)).map((x) => x.name)).toEqual(['Staff']);
    await store.users.removeFromResource(u.id, r.id);
    expect(await store.users.isInResource(u.id, r.id)).toBe(false);
  });

  test('assignments: one token per user per Resource, one user per token (a StoreConflictError, assignment-conflict)', async () => {
    await fresh();
    const r = await store.resources.create({ name: 'Staff' });
    const r2 = await store.resources.create({ name: 'Other' });
    const alice = await store.users.create({ login: 'alice' });
    const bob = await store.users.create({ login: 'bob' });
    const t1 = await store.tokens.insert({ ...baseToken, serial: 'A1' });
    const t2 = await store.tokens.insert({ ...baseToken, serial: 'A2' });
    const a = await store.assignments.create({ tokenId: t1.id, userId: alice.id, resourceId: r.id });
    for (const clash of [
      { tokenId: t2.id, userId: alice.id, resourceId: r.id },
      { tokenId: t1.id, userId: bob.id, resourceId: r2.id },
    ]) {
      const e = await rejection(store.assignments.create(clash));
      expect(e).toBeInstanceOf(StoreConflictError);
      expect(e.code).toBe('assignment-conflict');
    }
    await store.assignments.markEnrolled(a.id, '2026-01-01T00:00:00.000Z');
    expect((await store.assignments.byToken(t1.id))?.enrolledAt).toBe('2026-01-01T00:00:00.000Z');
    expect((await store.assignments.byUserResource(alice.id, r.id))?.tokenId).toBe(t1.id);
    expect((await store.assignments.list({ resourceId: r.id })).length).toBe(1);
    await store.assignments.delete(a.id);
    expect(await store.assignments.byToken(t1.id)).toBeNull();
    await expect(store.assignments.create({ tokenId: 4242, userId: alice.id, resourceId: r.id })).rejects.toThrow();
  });

  test('a refused statement inside a transaction leaves the transaction usable (the service may carry on)', async () => {
    await fresh();
    const r = await store.resources.create({ name: 'Staff' });
    const u = await store.users.create({ login: 'alice' });
    const t1 = await store.tokens.insert({ ...baseToken, serial: 'S1' });
    const t2 = await store.tokens.insert({ ...baseToken, serial: 'S2' });
    await store.transaction(async (tx) => {
      await tx.assignments.create({ tokenId: t1.id, userId: u.id, resourceId: r.id });
      const e = await rejection(tx.assignments.create({ tokenId: t2.id, userId: u.id, resourceId: r.id }));
      expect(e.code).toBe('assignment-conflict');
      expect((await rejection(tx.tokens.insert({ ...baseToken, serial: 'S1' }))).code).toBe('duplicate-serial');
      await tx.tokens.insert({ ...baseToken, serial: 'S3' });
      await tx.audit.append({ action: 'test', subject: 'token:S3' });
    });
    expect(await store.tokens.count()).toBe(3);
    expect((await store.assignments.list()).length).toBe(1);
  });

  test('portal sign-in codes and failure counters', async () => {
    await fresh();
    const r = await store.resources.create({ name: 'Staff' });
    const u = await store.users.create({ login: 'alice' });
    const c1 = await store.portal.addSignInCode({
      userId: u.id,
      resourceId: r.id,
      codeHash: 'h1',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    const c2 = await store.portal.addSignInCode({
      userId: u.id,
      resourceId: r.id,
      codeHash: 'h2',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect((await store.portal.latestSignInCode(u.id, r.id))?.id).toBe(c2.id);
    await store.portal.updateSignInCode(c2.id, { usedAt: '2026-01-01T00:00:00.000Z', attempts: 2 });
    expect((await store.portal.latestSignInCode(u.id, r.id))?.id).toBe(c1.id);
    expect(await store.portal.signInFailures(u.id, r.id)).toEqual({ failed: 0, lockedUntil: null });
    await store.portal.setSignInFailures(u.id, r.id, 3, '2030-01-01T00:00:00.000Z');
    await store.portal.setSignInFailures(u.id, r.id, 4, null);
    expect(await store.portal.signInFailures(u.id, r.id)).toEqual({ failed: 4, lockedUntil: null });
  });

  test('meta, transactions: a failed one leaves nothing; a nested one joins; concurrent ones keep one audit chain', async () => {
    await fresh();
    expect(await store.meta.get('x')).toBeNull();
    await store.meta.set('x', '1');
    await store.meta.set('x', '2');
    expect(await store.meta.get('x')).toBe('2');
    await expect(
      store.transaction(async (tx) => {
        await tx.tokens.insert({ ...baseToken, serial: 'TX1' });
        await store.transaction(async (inner) => inner.tokens.insert({ ...baseToken, serial: 'TX2' }));
        await tx.audit.append({ action: 'token.add', subject: 'token:TX1' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.tokens.count()).toBe(0);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 0 });
    const run = (serial: string) =>
      store.transaction(async (tx) => {
        await tx.tokens.insert({ ...baseToken, serial });
        await new Promise((r) => setTimeout(r, 5));
        await tx.audit.append({ action: 'token.add', subject: `token:${serial}` });
      });
    await Promise.all(Array.from({ length: 12 }, (_, i) => run(`C${i}`)));
    expect(await store.tokens.count()).toBe(12);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 12 });
    const list = await store.audit.list({ limit: 3 });
    expect(list.map((r) => r.seq)).toEqual([10, 11, 12]);
    expect(list[1]!.prevHash).toBe(list[0]!.hash);
  });

  test('seeds: sealed with the master key, wrong key refused on read and write (exit 4 wrong-master-key)', async () => {
    const env = keyEnv();
    await fresh(env);
    const seed = randomBytes(20);
    const t = await store.tokens.insert({ ...baseToken, serial: 'K1', seed });
    expect((await store.tokens.openSeed(t)).equals(seed)).toBe(true);
    const same = await backend.reopen(env);
    expect((await same.tokens.openSeed(t)).equals(seed)).toBe(true);
    const other = await backend.reopen(keyEnv());
    const e = await rejection(other.tokens.openSeed(t));
    expect(e.code).toBe('wrong-master-key');
    expect(e.exitCode).toBe(4);
    expect((await rejection(other.tokens.insert({ ...baseToken, serial: 'K2', seed }))).code).toBe('wrong-master-key');
    expect(await store.tokens.count()).toBe(1);
  });
});
