/**
 * How the PostgreSQL repositories reach the database: inside a transaction
 * every query goes to that transaction's own client (found through
 * AsyncLocalStorage, so `store.x` called inside `store.transaction()` joins
 * it, as on SQLite's single connection); outside, a pooled connection.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type pg from 'pg';
import type { Dialect } from '../core/dialect.js';
import { dollarNumbers } from '../core/inventory.js';

export type Row = Record<string, unknown>;

export interface TxContext {
  client: pg.PoolClient;
  savepoints: number;
}

export class PgExecutor {
  readonly als = new AsyncLocalStorage<TxContext>();
  constructor(readonly pool: pg.Pool) {}

  get inTransaction(): boolean {
    return this.als.getStore() !== undefined;
  }

  async query<R extends Row = Row>(text: string, params: unknown[] = []): Promise<R[]> {
    const tx = this.als.getStore();
    const res = tx ? await tx.client.query(text, params) : await this.pool.query(text, params);
    return res.rows as R[];
  }

  async one<R extends Row = Row>(text: string, params: unknown[] = []): Promise<R | undefined> {
    return (await this.query<R>(text, params))[0];
  }

  /**
   * Runs a statement that may fail with an expected error (a unique
   * constraint) so that, inside a transaction, the failure undoes only this
   * statement: PostgreSQL would otherwise abort the whole transaction, where
   * SQLite lets the service catch the error and carry on.
   */
  async guarded<T>(fn: () => Promise<T>): Promise<T> {
    const tx = this.als.getStore();
    if (!tx) return fn();
    const name = `ts_sp_${++tx.savepoints}`;
    await tx.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn();
      await tx.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      // A deadlock or serialization failure dooms the transaction: leave it to the retry.
      if (!isRetryable(err)) await tx.client.query(`ROLLBACK TO SAVEPOINT ${name}`);
      throw err;
    }
  }
}

/** PostgreSQL's SQLSTATE of an error, if it is one of its errors. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** serialization_failure and deadlock_detected: the transaction may succeed when run again from the start. */
export function isRetryable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const s = sqlState(e);
    if (s === '40001' || s === '40P01') return true;
  }
  return false;
}

/** The constraint a unique violation (23505) hit, or undefined for any other error. */
export function uniqueViolation(err: unknown): string | undefined {
  if (sqlState(err) !== '23505') return undefined;
  return (err as { constraint?: string }).constraint ?? '';
}

/** A database URL fit for messages: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ':***@');
  }
}

/** The Dialect of src/store/core over an executor. */
export function pgDialect(db: PgExecutor): Dialect {
  return {
    ph: dollarNumbers,
    byteOrder: ' COLLATE "C"',
    inList: (column, placeholder) => `${column} = ANY(${placeholder}::text[])`,
    listValue: (values) => values,
    bool: (v) => Boolean(v),
    all: (sql, params) => db.query(sql, params),
    get: (sql, params) => db.one(sql, params),
    run: async (sql, params) => {
      const tx = db.als.getStore();
      return (tx ? await tx.client.query(sql, params) : await db.pool.query(sql, params)).rowCount ?? 0;
    },
    guarded: (fn) => db.guarded(fn),
    uniqueViolation,
  };
}
