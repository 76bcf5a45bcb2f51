/**
 * Opening the store. The location decides the backend: a file path (or
 * ':memory:') is SQLite; a postgres:// URL is reserved for the PostgreSQL
 * backend.
 */
import { UsageError } from '../core/errors.js';
import { resolveDbPath } from './paths.js';
import { openSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export type { Store, Repos, TokenRecord, NewToken, ResourceRecord, UserRecord, AssignmentRecord, BatchRecord, AuditRecord } from './types.js';
export { resolveDbPath } from './paths.js';

export interface OpenStoreOptions {
  /** --db value; falls back to TOKENSMITH_DB and the per-user data directory. */
  db?: string;
  env?: NodeJS.ProcessEnv;
  operator?: string;
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const env = opts.env ?? process.env;
  const location = resolveDbPath(opts.db, env);
  if (/^postgres(ql)?:\/\//i.test(location)) {
    throw new UsageError('PostgreSQL stores are not supported yet: use a file path for --db');
  }
  return openSqliteStore({ path: location, env, operator: opts.operator });
}
