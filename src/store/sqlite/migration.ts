/** One numbered SQLite migration (its own module, so both migration lists import it without a cycle). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
  /**
   * The migration rebuilds a table that others reference: it runs with foreign keys off and
   * `PRAGMA foreign_key_check` must find nothing before it commits (SQLite's documented procedure).
   */
  rebuildsTables?: boolean;
}
