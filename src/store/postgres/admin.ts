/**
 * `tokensmith db migrate`: bring the database --db names (either backend) to
 * the current schema and say what was applied.
 */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { resolveDbPath } from '../paths.js';
import { openSqliteStore } from '../sqlite/store.js';
import { isPostgresUrl } from './store.js';

export interface MigrateReport {
  backend: 'sqlite' | 'postgres';
  location: string;
  applied: number[];
  schemaVersion: number;
}

function sqliteVersions(path: string): number[] {
  if (path === ':memory:' || !existsSync(path)) return [];
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version);
  } catch {
    return [];
  } finally {
    db.close();
  }
}

export async function migrateDatabase(opts: {
  db?: string;
  env?: NodeJS.ProcessEnv;
  operator: string;
  /** Told what was created (a new database, its tables). */
  notice?: (message: string) => void;
}): Promise<MigrateReport> {
  const env = opts.env ?? process.env;
  const location = resolveDbPath(opts.db, env);
  if (isPostgresUrl(location)) {
    const { openPostgresStore } = await import('./store.js');
    const store = await openPostgresStore({
      url: location,
      env,
      operator: opts.operator,
      migrate: false,
      notice: opts.notice,
    });
    try {
      const applied = await store.migrate();
      return { backend: 'postgres', location: store.location, applied, schemaVersion: await store.schemaVersion() };
    } finally {
      await store.close();
    }
  }
  const before = new Set(sqliteVersions(location));
  const store = openSqliteStore({ path: location, env, operator: opts.operator, notice: opts.notice });
  try {
    const after = sqliteVersions(location);
    return {
      backend: 'sqlite',
      location,
      applied: after.filter((v) => !before.has(v)).sort((a, b) => a - b),
      schemaVersion: await store.schemaVersion(),
    };
  } finally {
    await store.close();
  }
}
