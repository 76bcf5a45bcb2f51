import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { DataError, NotFoundError, TokensmithError } from '../../src/core/errors.js';
import { openStore, resolveDbPath } from '../../src/store/index.js';
import { keyFilePath, userDataDir } from '../../src/store/paths.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { StoreConflictError } from '../../src/store/errors.js';
import { baseToken, randomKeyHex, TempStores } from './helpers.js';

const temp = new TempStores();
let store: SqliteStore;
beforeEach(() => {
  store = temp.open(join(temp.dir(), 't.db'));
});
afterEach(() => temp.cleanup());

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('tokens', () => {
  it('insert fills defaults and reads back', async () => {
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
      kind: 'classic',
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      counter: 0,
      state: 'in_stock',
      previousState: null,
      driftSteps: 0,
      hasSeed: true,
      batchId: null,
      resourceId: null,
      deviceSerial: null,
      profile: null,
      failedAttempts: 0,
      locked: false,
      lastUsedStep: null,
      attributes: { issued: '2024-01-01' },
    });
    expect(t.createdAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await store.tokens.get(t.id)).toEqual(t);
    expect(await store.tokens.get(9999)).toBeNull();
  });

  it('serials are unique per manufacturer', async () => {
    await store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'A' });
    await store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'B' });
    const e = await rejection(store.tokens.insert({ ...baseToken, serial: 'DUP', manufacturer: 'A' }));
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).code).toBe('duplicate-serial');
    expect(e.message).toContain('DUP (A)');
    expect((await store.tokens.findBySerial('DUP')).map((t) => t.manufacturer)).toEqual(['A', 'B']);
    expect((await store.tokens.findOne('B', 'DUP'))?.manufacturer).toBe('B');
    expect(await store.tokens.findOne('C', 'DUP')).toBeNull();
  });

  it('update patches fields, bumps updatedAt, and refuses a missing id', async () => {
    const t = await store.tokens.insert({ ...baseToken, serial: 'U1' });
    await new Promise((r) => setTimeout(r, 5));
    const u = await store.tokens.update(t.id, {
      state: 'disabled',
      previousState: 'in_stock',
      driftSteps: -2,
      locked: true,
      failedAttempts: 3,
      lastUsedStep: 100,
      attributes: { a: 1 },
    });
    expect(u).toMatchObject({
      state: 'disabled',
      previousState: 'in_stock',
      driftSteps: -2,
      locked: true,
      failedAttempts: 3,
      lastUsedStep: 100,
      attributes: { a: 1 },
    });
    expect(u.updatedAt > t.updatedAt).toBe(true);
    expect(u.createdAt).toBe(t.createdAt);
    expect(await rejection(store.tokens.update(9999, { state: 'lost' }))).toBeInstanceOf(NotFoundError);
  });

  it('list, count and iterate filter by state, resource, batch, serials and device', async () => {
    const r = await store.resources.create({ name: 'Staff' });
    const b = await store.batches.create({ kind: 'import', operator: 'test' });
    await store.tokens.insert({ ...baseToken, serial: 'L1', resourceId: r.id, batchId: b.id });
    await store.tokens.insert({ ...baseToken, serial: 'L2', state: 'programmed', deviceSerial: 'DEV', profile: 1 });
    await store.tokens.insert({ ...baseToken, serial: 'L3', state: 'programmed', deviceSerial: 'DEV', profile: 2 });
    const serials = (ts: { serial: string }[]) => ts.map((t) => t.serial);
    expect(serials(await store.tokens.list())).toEqual(['L1', 'L2', 'L3']);
    expect(serials(await store.tokens.list({ state: 'programmed' }))).toEqual(['L2', 'L3']);
    expect(serials(await store.tokens.list({ resourceId: r.id }))).toEqual(['L1']);
    expect(serials(await store.tokens.list({ batchId: b.id }))).toEqual(['L1']);
    expect(serials(await store.tokens.list({ serials: ['L3', 'L1', 'nope'] }))).toEqual(['L1', 'L3']);
    expect(serials(await store.tokens.list({ deviceSerial: 'DEV' }))).toEqual(['L2', 'L3']);
    expect(await store.tokens.count({ state: 'programmed' })).toBe(2);
    expect(await store.tokens.count()).toBe(3);
    const it: string[] = [];
    for await (const t of store.tokens.iterate({ state: 'programmed' })) it.push(t.serial);
    expect(it).toEqual(['L2', 'L3']);
  });

  it('iterate pages through more rows than one page', async () => {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 2100; i++) await tx.tokens.insert({ ...baseToken, serial: `P${i}` });
    });
    let n = 0;
    const seen = new Set<string>();
    for await (const t of store.tokens.iterate()) {
      n++;
      seen.add(t.serial);
    }
    expect(n).toBe(2100);
    expect(seen.size).toBe(2100);
  });

  it('a device profile slot holds one token', async () => {
    await store.tokens.insert({ ...baseToken, serial: 'D1', deviceSerial: 'M2', profile: 1 });
    await expect(store.tokens.insert({ ...baseToken, serial: 'D2', deviceSerial: 'M2', profile: 1 })).rejects.toThrow();
  });

  it('refuses out-of-range values at the schema too', async () => {
    await expect(store.tokens.insert({ ...baseToken, serial: 'X', digits: 3 })).rejects.toThrow();
    await expect(store.tokens.insert({ ...baseToken, serial: 'X', state: 'bogus' as 'in_stock' })).rejects.toThrow();
  });

  it('delete removes the row', async () => {
    const t = await store.tokens.insert({ ...baseToken, serial: 'DEL' });
    await store.tokens.delete(t.id);
    expect(await store.tokens.get(t.id)).toBeNull();
  });
});

describe('batches', () => {
  it('create, finish, find by SHA-256, list', async () => {
    const b = await store.batches.create({
      kind: 'import',
      sourceName: 'seeds.xml',
      sourceSha256: 'ab'.repeat(32),
      format: 'pskc',
      operator: 'alice',
    });
    expect(b).toMatchObject({
      kind: 'import',
      sourceName: 'seeds.xml',
      format: 'pskc',
      operator: 'alice',
      status: 'open',
      imported: 0,
      finishedAt: null,
    });
    const f = await store.batches.finish(b.id, { imported: 10, skipped: 2, failed: 1 });
    expect(f).toMatchObject({ status: 'done', imported: 10, skipped: 2, failed: 1 });
    expect(f.finishedAt).not.toBeNull();
    expect((await store.batches.finish(b.id, { imported: 0, skipped: 0, failed: 0 }, 'aborted')).status).toBe(
      'aborted',
    );
    expect((await store.batches.findBySha256('ab'.repeat(32))).map((x) => x.id)).toEqual([b.id]);
    expect(await store.batches.findBySha256('cd'.repeat(32))).toEqual([]);
    await store.batches.create({ kind: 'flash', operator: 'bob' });
    expect((await store.batches.list()).map((x) => x.kind)).toEqual(['import', 'flash']);
    await expect(store.batches.finish(999, { imported: 0, skipped: 0, failed: 0 })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe('resources', () => {
  it('create with defaults, refuse duplicates, update and find', async () => {
    const r = await store.resources.create({ name: 'Staff', url: 'https://mfa.example/staff' });
    expect(r).toMatchObject({
      name: 'Staff',
      url: 'https://mfa.example/staff',
      lockAfter: 5,
      window: 2,
      syncWindow: 1000,
      actions: [],
      tokenTypes: [],
    });
    const dup = await rejection(store.resources.create({ name: 'Staff' }));
    expect((dup as DataError).code).toBe('duplicate-resource');
    const u = await store.resources.update(r.id, {
      actions: ['enroll', 'synchronize'],
      tokenTypes: ['classic'],
      lockAfter: 3,
      url: null,
    });
    expect(u).toMatchObject({ actions: ['enroll', 'synchronize'], tokenTypes: ['classic'], lockAfter: 3, url: null });
    expect((await store.resources.findByName('Staff'))?.id).toBe(r.id);
    expect(await store.resources.findByName('nope')).toBeNull();
    await store.resources.create({ name: 'Admins' });
    expect((await store.resources.list()).map((x) => x.name)).toEqual(['Admins', 'Staff']);
    await expect(store.resources.update(999, { lockAfter: 1 })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('users', () => {
  it('create, refuse duplicate logins, update, and Resource membership', async () => {
    const u = await store.users.create({ login: 'alice', email: 'alice@example.org' });
    expect(u).toMatchObject({ login: 'alice', email: 'alice@example.org', phone: null, passwordHash: null });
    expect(((await rejection(store.users.create({ login: 'alice' }))) as DataError).code).toBe('duplicate-user');
    const bob = await store.users.create({ login: 'bob' });
    expect(((await rejection(store.users.update(bob.id, { login: 'alice' }))) as DataError).code).toBe(
      'duplicate-user',
    );
    expect((await store.users.update(u.id, { phone: '+100', passwordHash: 'scrypt$x' })).phone).toBe('+100');
    const r = await store.resources.create({ name: 'Staff' });
    await store.users.addToResource(u.id, r.id);
    await store.users.addToResource(u.id, r.id); // twice is fine
    expect(await store.users.isInResource(u.id, r.id)).toBe(true);
    expect(await store.users.isInResource(bob.id, r.id)).toBe(false);
    expect((await store.users.list({ resourceId: r.id })).map((x) => x.login)).toEqual(['alice']);
    expect((await store.users.list()).map((x) => x.login)).toEqual(['alice', 'bob']);
    expect((await store.users.resourcesOf(u.id)).map((x) => x.name)).toEqual(['Staff']);
    await store.users.removeFromResource(u.id, r.id);
    expect(await store.users.isInResource(u.id, r.id)).toBe(false);
    expect((await store.users.findByLogin('bob'))?.id).toBe(bob.id);
    expect(await store.users.findByLogin('carol')).toBeNull();
  });
});

describe('assignments', () => {
  it('one token per user per Resource, one user per token (exit 5 on conflict)', async () => {
    const r = await store.resources.create({ name: 'Staff' });
    const r2 = await store.resources.create({ name: 'Other' });
    const alice = await store.users.create({ login: 'alice' });
    const bob = await store.users.create({ login: 'bob' });
    const t1 = await store.tokens.insert({ ...baseToken, serial: 'A1' });
    const t2 = await store.tokens.insert({ ...baseToken, serial: 'A2' });
    const a = await store.assignments.create({ tokenId: t1.id, userId: alice.id, resourceId: r.id });
    expect(a).toMatchObject({ tokenId: t1.id, userId: alice.id, resourceId: r.id, enrolledAt: null });
    for (const clash of [
      { tokenId: t2.id, userId: alice.id, resourceId: r.id }, // alice already has a token in Staff
      { tokenId: t1.id, userId: bob.id, resourceId: r2.id }, // t1 already has a user
    ]) {
      // A fact of the data, not a rule: src/provision turns it into the exit-5 refusal.
      const e = await rejection(store.assignments.create(clash));
      expect(e).toBeInstanceOf(StoreConflictError);
      expect((e as StoreConflictError).conflict).toBe('assignment');
      expect((e as TokensmithError).code).toBe('assignment-conflict');
    }
    await store.assignments.create({ tokenId: t2.id, userId: alice.id, resourceId: r2.id });
    expect((await store.assignments.byToken(t1.id))?.id).toBe(a.id);
    expect((await store.assignments.byUserResource(alice.id, r.id))?.tokenId).toBe(t1.id);
    expect(await store.assignments.byUserResource(bob.id, r.id)).toBeNull();
    await store.assignments.markEnrolled(a.id, '2026-01-01T00:00:00.000Z');
    expect((await store.assignments.byToken(t1.id))?.enrolledAt).toBe('2026-01-01T00:00:00.000Z');
    expect((await store.assignments.list({ userId: alice.id })).length).toBe(2);
    expect((await store.assignments.list({ resourceId: r2.id })).map((x) => x.tokenId)).toEqual([t2.id]);
    await store.assignments.delete(a.id);
    expect(await store.assignments.byToken(t1.id)).toBeNull();
  });

  it('refuses an assignment to a token that does not exist (foreign keys on)', async () => {
    const r = await store.resources.create({ name: 'Staff' });
    const u = await store.users.create({ login: 'alice' });
    await expect(store.assignments.create({ tokenId: 4242, userId: u.id, resourceId: r.id })).rejects.toThrow();
  });
});

describe('meta and transactions', () => {
  it('meta get/set', async () => {
    expect(await store.meta.get('x')).toBeNull();
    await store.meta.set('x', '1');
    await store.meta.set('x', '2');
    expect(await store.meta.get('x')).toBe('2');
  });

  it('a failed transaction leaves nothing behind; a nested one joins the outer', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.tokens.insert({ ...baseToken, serial: 'TX1' });
        await store.transaction(async (inner) => inner.tokens.insert({ ...baseToken, serial: 'TX2' }));
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.tokens.count()).toBe(0);
    await store.transaction(async (tx) => {
      await tx.tokens.insert({ ...baseToken, serial: 'TX1' });
      await store.transaction(async (inner) => inner.tokens.insert({ ...baseToken, serial: 'TX2' }));
    });
    expect(await store.tokens.count()).toBe(2);
  });

  // Bug found by this test: a transaction started while another was running (a second web request)
  // saw the store's "in a transaction" flag, joined the first one, and was rolled back with it.
  it('a transaction started while another is running waits for it instead of joining it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const aStarted = new Promise<void>((r) => (started = r));
    const a = store.transaction(async (tx) => {
      await tx.tokens.insert({ ...baseToken, serial: 'A-ROLLED-BACK' });
      started();
      await gate;
      throw new Error('A fails');
    });
    await aStarted;
    const b = store.transaction(async (tx) => tx.tokens.insert({ ...baseToken, serial: 'B-COMMITTED' }));
    release();
    await expect(a).rejects.toThrow('A fails');
    await b;
    expect((await store.tokens.list()).map((t) => t.serial)).toEqual(['B-COMMITTED']);
  });

  it('concurrent transactions on one store do not interleave', async () => {
    const run = (serial: string) =>
      store.transaction(async (tx) => {
        await tx.tokens.insert({ ...baseToken, serial });
        await new Promise((r) => setTimeout(r, 5));
        await tx.audit.append({ action: 'token.add', subject: `token:${serial}` });
      });
    await Promise.all(['C1', 'C2', 'C3', 'C4'].map(run));
    expect(await store.tokens.count()).toBe(4);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 4 });
  });
});

describe('opening', () => {
  it('resolves --db, then TOKENSMITH_DB, then the XDG data directory', () => {
    expect(resolveDbPath('/x/flag.db', { TOKENSMITH_DB: '/x/env.db' })).toBe('/x/flag.db');
    expect(resolveDbPath(undefined, { TOKENSMITH_DB: '/x/env.db' })).toBe('/x/env.db');
    if (process.platform === 'linux') {
      expect(resolveDbPath(undefined, { XDG_DATA_HOME: '/x/data' })).toBe('/x/data/tokensmith/tokensmith.db');
      expect(userDataDir({})).toMatch(/\.local\/share\/tokensmith$/);
    }
    expect(keyFilePath('/x/t.db')).toBe('/x/t.db.key');
  });

  it('openStore creates the folder; a postgres URL goes to PostgreSQL (unreachable here: exit 4 db-open)', async () => {
    const dir = temp.dir();
    const s = await openStore({
      db: join(dir, 'sub', 'dir', 't.db'),
      env: { TOKENSMITH_MASTER_KEY: randomKeyHex() },
      operator: 'op',
    });
    expect(s.operator).toBe('op');
    expect(s.location).toBe(join(dir, 'sub', 'dir', 't.db'));
    await s.close();
    await expect(openStore({ db: 'postgres://tokensmith:secret@127.0.0.1:1/tokensmith' })).rejects.toMatchObject({
      exitCode: 4,
      code: 'db-open',
    });
    await expect(openStore({ db: 'postgres://tokensmith:secret@127.0.0.1:1/tokensmith' })).rejects.not.toThrow(
      /secret/,
    );
  });
});
