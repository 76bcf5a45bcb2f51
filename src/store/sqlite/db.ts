/**
 * How the SQLite repositories reach better-sqlite3: statements prepared once
 * per connection, and the Dialect of src/store/core over them (synchronous
 * calls behind the async interface).
 */
import type Database from 'better-sqlite3';
import type { Dialect } from '../core/dialect.js';
import { questionMarks } from '../core/inventory.js';
import type { Row } from '../core/rows.js';

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
/** Prepares a statement once per connection: preparing on every call costs more than running it. */
export function prep(db: Database.Database, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

/** True for SQLite's unique-constraint error. */
export function isSqliteUnique(err: unknown): boolean {
  return (err as { code?: string } | null)?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function sqliteDialect(db: Database.Database): Dialect {
  return {
    ph: questionMarks,
    byteOrder: '',
    inList: (column, placeholder) => `${column} IN (SELECT value FROM json_each(${placeholder}))`,
    listValue: (values) => JSON.stringify(values),
    bool: (v) => (v ? 1 : 0),
    all: async <R extends Row = Row>(sql: string, params: unknown[] = []) => prep(db, sql).all(...params) as R[],
    get: async <R extends Row = Row>(sql: string, params: unknown[] = []) =>
      prep(db, sql).get(...params) as R | undefined,
    run: async (sql, params = []) => prep(db, sql).run(...params).changes,
    // A failed statement leaves an SQLite transaction usable: nothing to guard.
    guarded: (fn) => fn(),
    uniqueViolation: (err) => (isSqliteUnique(err) ? '' : undefined),
  };
}
