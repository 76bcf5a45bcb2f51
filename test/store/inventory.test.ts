/**
 * The inventory (tokens list, /api/tokens) in one SQL statement on both
 * backends: the same views as the per-token lookups gave (viewToken, filtered
 * in memory, as the code did before), and one statement per listing.
 */
import { describe, expect } from 'vitest';
import { listTokens, tokenView, viewToken, type TokenView } from '../../src/provision/tokens.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

async function fixture(store: Store): Promise<void> {
  const staff = await store.resources.create({ name: 'Staff' });
  const lab = await store.resources.create({ name: 'Lab_50%' });
  const ann = await store.users.create({ login: 'ann' });
  const bob = await store.users.create({ login: 'Bob.Smith' });
  const mk = (serial: string, more: Record<string, unknown> = {}) =>
    store.tokens.insert({ ...baseToken, serial, ...more });
  const t1 = await mk('TS0001', { model: 'c202', manufacturer: 'Token2', resourceId: staff.id });
  const t2 = await mk('TS0002', { model: 'c202', manufacturer: 'Token2', resourceId: staff.id, state: 'assigned' });
  await mk('PR-77', { model: 'Slim mini', manufacturer: 'Protectimus', resourceId: lab.id });
  const t4 = await mk('PR-78', {
    model: 'Slim mini',
    manufacturer: 'Protectimus',
    resourceId: lab.id,
    state: 'enrolled',
  });
  await mk('LOOSE', { model: null });
  await store.assignments.create({ tokenId: t2.id, userId: ann.id, resourceId: staff.id });
  await store.assignments.create({ tokenId: t4.id, userId: bob.id, resourceId: lab.id });
  void t1;
}

/** The listing as it was built before: every token, three lookups each, the search filtered in memory. */
async function oldListing(
  store: Store,
  f: { state?: string; resource?: string; search?: string },
): Promise<TokenView[]> {
  const resourceId = f.resource ? (await store.resources.findByName(f.resource))!.id : undefined;
  const tokens = await store.tokens.list({ state: f.state as never, resourceId });
  const all = await Promise.all(tokens.map((t) => viewToken(store, t)));
  const needle = (f.search ?? '').trim().toLowerCase();
  const hit = (v: string | null | undefined) => Boolean(v && v.toLowerCase().includes(needle));
  return needle
    ? all.filter((t) => hit(t.serial) || hit(t.user) || hit(t.model) || hit(t.manufacturer) || hit(t.resource))
    : all;
}

/** Counts the SQL statements the store runs while `fn` runs. */
async function countStatements(store: Store, fn: () => Promise<unknown>): Promise<number> {
  let n = 0;
  if ('pool' in store) {
    const pool = (store as PostgresStore).pool;
    const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<unknown>;
    (pool as unknown as { query: unknown }).query = (...a: unknown[]) => (n++, query(...a));
    try {
      await fn();
    } finally {
      (pool as unknown as { query: unknown }).query = query;
    }
    return n;
  }
  const proto = Object.getPrototypeOf((store as SqliteStore).db.prepare('SELECT 1')) as Record<
    string,
    (...a: unknown[]) => unknown
  >;
  const saved = { all: proto.all!, get: proto.get!, run: proto.run!, iterate: proto.iterate! };
  for (const k of Object.keys(saved) as (keyof typeof saved)[]) {
    proto[k] = function (this: unknown, ...a: unknown[]) {
      n++;
      return saved[k].apply(this, a);
    };
  }
  try {
    await fn();
  } finally {
    Object.assign(proto, saved);
  }
  return n;
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: inventory', (backend) => {
  const test = useBackend(backend);

  test('gives the same views as the per-token lookups, for every filter', async () => {
    const store = await backend.fresh();
    await fixture(store);
    const cases = [
      {},
      { state: 'assigned' },
      { resource: 'Staff' },
      { resource: 'Lab_50%', state: 'enrolled' },
      { search: 'bob' },
      { search: 'SLIM' },
      { search: '50%' },
      { search: '_' },
      { search: 'token2' },
      { search: 'nothing-matches' },
      { state: 'in_stock', search: 'ts' },
    ];
    for (const f of cases) expect(await listTokens(store, f), JSON.stringify(f)).toEqual(await oldListing(store, f));
    expect((await listTokens(store, {})).map((v) => [v.serial, v.resource, v.user])).toEqual([
      ['TS0001', 'Staff', null],
      ['TS0002', 'Staff', 'ann'],
      ['PR-77', 'Lab_50%', null],
      ['PR-78', 'Lab_50%', 'Bob.Smith'],
      ['LOOSE', null, null],
    ]);
  });

  test('filters by model and user in SQL too', async () => {
    const store = await backend.fresh();
    await fixture(store);
    expect((await listTokens(store, { model: 'c202' })).map((v) => v.serial)).toEqual(['TS0001', 'TS0002']);
    expect((await listTokens(store, { user: 'Bob.Smith' })).map((v) => v.serial)).toEqual(['PR-78']);
    const rows = await store.tokens.inventory({ search: 'ann' });
    expect(rows.map((r) => tokenView(r.token, r))).toEqual(await listTokens(store, { search: 'ann' }));
  });

  test('runs one statement per listing, however many tokens', async () => {
    const store = await backend.fresh();
    await fixture(store);
    expect(await countStatements(store, () => listTokens(store, {}))).toBe(1);
    expect(await countStatements(store, () => listTokens(store, { resource: 'Staff', search: 'ts' }))).toBe(1);
    expect(await countStatements(store, () => oldListing(store, {}))).toBeGreaterThan(5);
  });

  test('a comma list of states takes any of them, in the inventory and in the token filter', async () => {
    const store = await backend.fresh();
    await fixture(store);
    expect((await listTokens(store, { state: 'assigned,enrolled' })).map((v) => v.serial)).toEqual(['TS0002', 'PR-78']);
    expect((await store.tokens.list({ states: ['assigned', 'enrolled'] })).map((t) => t.serial)).toEqual([
      'TS0002',
      'PR-78',
    ]);
    expect(await store.tokens.count({ states: ['in_stock', 'enrolled'] })).toBe(4);
    await expect(listTokens(store, { state: 'assigned,nope' })).rejects.toMatchObject({ exitCode: 2 });
  });

  test('an unknown Resource is still named', async () => {
    const store = await backend.fresh();
    await fixture(store);
    await expect(listTokens(store, { resource: 'Nope' })).rejects.toMatchObject({
      code: 'not-found',
      message: "no resource named 'Nope'",
    });
  });
});
