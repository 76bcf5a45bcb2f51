/**
 * The audit anchor on both backends: whoever can write the database (but
 * holds no master key) cannot empty the audit log or cut its tail off, even
 * when they also move the chain's head in meta back to match.
 */
import { describe, expect } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { PostgresStore } from '../../src/store/postgres/store.js';
import type { Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';

/** Runs SQL straight on the store's database, as someone with database access but no master key would. */
async function sql(store: Store, text: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
  if ('pool' in store) {
    let i = 0;
    return (
      await (store as PostgresStore).pool.query(
        text.replace(/\?/g, () => `$${++i}`),
        params,
      )
    ).rows as Record<string, unknown>[];
  }
  const stmt = (store as SqliteStore).db.prepare(text);
  return stmt.reader ? (stmt.all(...params) as Record<string, unknown>[]) : (stmt.run(...params), []);
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: audit anchor', (backend) => {
  const test = useBackend(backend);

  const withRows = async (n: number) => {
    const store = await backend.fresh();
    for (let i = 1; i <= n; i++)
      await store.audit.append({ action: 'token.add', subject: `token:S${i}`, details: { n: i } });
    return store;
  };

  test('an untouched store verifies, fresh or written', async () => {
    const empty = await backend.fresh();
    expect(await empty.audit.verify()).toEqual({ ok: true, rows: 0 });
    const store = await withRows(6);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 6 });
  });

  test('a new store is anchored at count 0 before its first row', async () => {
    const store = await backend.fresh();
    expect(await store.meta.get('audit_anchor')).toMatch(/^0:0{64}:[0-9a-f]{64}$/);
    expect(await store.meta.get('audit_anchor_pending')).toBeNull();
  });

  test('all audit rows deleted, head record too: verify fails', async () => {
    const store = await withRows(6);
    await sql(store, 'DELETE FROM audit');
    await sql(store, "DELETE FROM meta WHERE key = 'audit_head'");
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad).toEqual({ seq: 1, problem: 'all 6 audit rows are missing (deleted)' });
  });

  test('all audit rows and the anchor deleted: verify fails', async () => {
    const store = await withRows(3);
    await sql(store, 'DELETE FROM audit');
    await sql(store, "DELETE FROM meta WHERE key IN ('audit_head', 'audit_anchor')");
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.problem).toMatch(/audit anchor is missing/);
  });

  test('the last 3 rows deleted and the head moved back to row 3: verify fails', async () => {
    const store = await withRows(6);
    const [r3] = await sql(store, 'SELECT hash FROM audit WHERE seq = 3');
    await sql(store, 'DELETE FROM audit WHERE seq > 3');
    await sql(store, "UPDATE meta SET value = ? WHERE key = 'audit_head'", [`3:${String(r3!.hash)}`]);
    const v = await store.audit.verify();
    expect(v).toEqual({
      ok: false,
      rows: 3,
      firstBad: { seq: 4, problem: 'rows 4 to 6 are missing from the end (deleted)' },
    });
  });

  test('an anchor rewritten without the master key: verify fails', async () => {
    const store = await withRows(6);
    const [r3] = await sql(store, 'SELECT hash FROM audit WHERE seq = 3');
    await sql(store, 'DELETE FROM audit WHERE seq > 3');
    await sql(store, "UPDATE meta SET value = ? WHERE key = 'audit_head'", [`3:${String(r3!.hash)}`]);
    await sql(store, "UPDATE meta SET value = ? WHERE key = 'audit_anchor'", [
      `3:${String(r3!.hash)}:${'ab'.repeat(32)}`,
    ]);
    expect((await store.audit.verify()).firstBad?.problem).toMatch(/does not carry a valid MAC/);
  });

  test('an anchor from an older copy of the same store (residual risk, documented): rows cut back with it verify', async () => {
    const store = await withRows(3);
    const [old] = await sql(store, "SELECT value FROM meta WHERE key = 'audit_anchor'");
    const [head] = await sql(store, "SELECT value FROM meta WHERE key = 'audit_head'");
    await store.audit.append({ action: 'token.add', subject: 'token:S4' });
    await sql(store, 'DELETE FROM audit WHERE seq > 3');
    await sql(store, "UPDATE meta SET value = ? WHERE key = 'audit_head'", [String(head!.value)]);
    await sql(store, "UPDATE meta SET value = ? WHERE key = 'audit_anchor'", [String(old!.value)]);
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 3 });
  });
});
