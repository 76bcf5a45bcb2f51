/**
 * Opening the store. The location decides the backend: a file path (or
 * ':memory:') is SQLite; a postgres:// (or postgresql://) URL is the
 * PostgreSQL backend, shared by several stations.
 */
import { resolveDbPath } from './paths.js';
import { defaultOperator, openSqliteStore } from './sqlite/store.js';
import type { Store } from './types.js';

export type {
  Store,
  Repos,
  TokenRecord,
  NewToken,
  ResourceRecord,
  UserRecord,
  AssignmentRecord,
  BatchRecord,
  AuditRecord,
} from './types.js';
export { resolveDbPath } from './paths.js';

export interface OpenStoreOptions {
  /** --db value; falls back to TOKENSMITH_DB and the per-user data directory. */
  db?: string;
  env?: NodeJS.ProcessEnv;
  operator?: string;
  /** False: a store that does not exist yet is an error (`no-database`), never created. Default true. */
  create?: boolean;
  /** Told what was created (the database, its key file), for the operator. */
  notice?: (message: string) => void;
}

export async function openStore(opts: OpenStoreOptions = {}): Promise<Store> {
  const env = opts.env ?? process.env;
  const location = resolveDbPath(opts.db, env);
  if (/^postgres(ql)?:\/\//i.test(location)) {
    // Loaded only here, so SQLite users never load node-postgres.
    const { openPostgresStore } = await import('./postgres/store.js');
    return openPostgresStore({
      url: location,
      env,
      operator: opts.operator ?? defaultOperator(env),
      create: opts.create,
      notice: opts.notice,
    });
  }
  return openSqliteStore({ path: location, env, operator: opts.operator, create: opts.create, notice: opts.notice });
}
