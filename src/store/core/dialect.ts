/**
 * What differs between SQLite and PostgreSQL, behind one small async
 * interface: everything else (the repositories' SQL, filters, mappers) is
 * written once in src/store/core/ against it. better-sqlite3 is synchronous
 * and node-postgres is not; the interface is async over both.
 */
import type { Placeholder } from './inventory.js';
import type { Row } from './rows.js';

/** The dialect's SQL text: placeholders and the few expressions that are spelled differently. */
export interface SqlText {
  /** `?` (SQLite) or `$n` (PostgreSQL) for the n-th parameter. */
  readonly ph: Placeholder;
  /** Appended to ORDER BY on text so both backends sort by bytes (PostgreSQL's default collation follows the locale). */
  readonly byteOrder: string;
  /** `column` is one of a list bound as one parameter at `placeholder`. */
  inList(column: string, placeholder: string): string;
  /** The parameter value for inList. */
  listValue(values: string[]): unknown;
  /** A boolean as the column stores it (0/1 on SQLite, a boolean on PostgreSQL). */
  bool(v: unknown): unknown;
}

export interface Dialect extends SqlText {
  all<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R[]>;
  get<R extends Row = Row>(sql: string, params?: unknown[]): Promise<R | undefined>;
  /** Runs a statement; the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
  /** Runs a statement that may fail with a unique violation without spoiling the open transaction (a savepoint on PostgreSQL). */
  guarded<T>(fn: () => Promise<T>): Promise<T>;
  /** The constraint a unique violation hit ('' when the dialect does not say), or undefined for any other error. */
  uniqueViolation(err: unknown): string | undefined;
}

/** Builds a parameter list and the placeholders that name its entries, in the order they appear in the SQL. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly ph: Placeholder) {}
  add(v: unknown): string {
    this.values.push(v);
    return this.ph(this.values.length);
  }
}

/** `a = ?, b = ?` for the given columns and values, parameters appended to `p`. */
export function setList(p: Params, columns: [string, unknown][]): string {
  return columns.map(([col, v]) => `${col} = ${p.add(v)}`).join(', ');
}

/** `WHERE a = ? AND ...` of the given conditions ('' when there is none). */
export function whereOf(parts: string[]): string {
  return parts.length ? `WHERE ${parts.join(' AND ')}` : '';
}

export const nowIso = (): string => new Date().toISOString();
