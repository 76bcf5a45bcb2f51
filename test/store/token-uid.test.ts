/**
 * Protectimus tokens are found by the UID their reader reports (kept in the
 * token's attributes): one indexed query on both backends, not a scan of
 * every token.
 */
import { describe, expect } from 'vitest';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

/** The plan the database picks for the lookup, as text. */
async function planOf(store: Store): Promise<string> {
  if ('pool' in store) {
    const client = await (store as PostgresStore).pool.connect();
    try {
      // A handful of rows would be scanned anyway; with scans off the plan shows whether the index fits the query at all.
      await client.query('SET enable_seqscan = off');
      const rows = (
        await client.query(
          "EXPLAIN SELECT * FROM tokens WHERE (attributes::jsonb) ->> 'uid' = $1 ORDER BY id LIMIT 1",
          ['x'],
        )
      ).rows as { 'QUERY PLAN': string }[];
      await client.query('RESET enable_seqscan');
      return rows.map((r) => r['QUERY PLAN']).join('\n');
    } finally {
      client.release();
    }
  }
  const rows = (store as SqliteStore).db
    .prepare("EXPLAIN QUERY PLAN SELECT * FROM tokens WHERE json_extract(attributes, '$.uid') = ? ORDER BY id LIMIT 1")
    .all('x') as { detail: string }[];
  return rows.map((r) => r.detail).join('\n');
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: tokens by reader UID', (backend) => {
  const test = useBackend(backend);

  test('finds the token whose attributes hold the UID, and nothing for an unknown one', async () => {
    const store = await backend.fresh();
    await store.tokens.insert({ ...baseToken, serial: 'A', attributes: { uid: '04AABBCC' } });
    const b = await store.tokens.insert({
      ...baseToken,
      serial: 'B',
      manufacturer: 'Protectimus',
      attributes: { uid: '04DDEEFF', other: 1 },
    });
    await store.tokens.insert({ ...baseToken, serial: 'C' });
    expect((await store.tokens.findByUid('04DDEEFF'))?.id).toBe(b.id);
    expect(await store.tokens.findByUid('04000000')).toBeNull();
    await store.tokens.update(b.id, { attributes: { uid: '04123456' } });
    expect((await store.tokens.findByUid('04123456'))?.serial).toBe('B');
    expect(await store.tokens.findByUid('04DDEEFF')).toBeNull();
  });

  test('the lookup uses the index tokens_attr_uid', async () => {
    const store = await backend.fresh();
    expect(await planOf(store)).toMatch(/tokens_attr_uid/);
  });
});
