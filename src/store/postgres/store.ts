/**
 * The PostgreSQL backend (node-postgres): one inventory that several
 * stations write at once. Each store.transaction() gets its own pooled
 * client at READ COMMITTED; the unique constraints, row locks on tokens read
 * for a change, and an advisory lock on the audit chain keep the rules under
 * concurrency, and a deadlock or serialization failure runs the transaction
 * again from the start (see docs/multi-station.md). With migrations.ts, the
 * only place with PostgreSQL's SQL.
 */
import pg from 'pg';
import { join } from 'node:path';
import { DataError } from '../../core/errors.js';
import { userDataDir } from '../paths.js';
import type {
  AssignmentRepo,
  BatchRepo,
  PortalRepo,
  DirectoryRepo,
  Repos,
  ResourceRepo,
  Store,
  TokenRepo,
  UserRepo,
} from '../types.js';
import { SqlDirectoryRepo } from '../core/directories.js';
import { checkedMasterKey, keyCreatedNotice } from '../core/master-key.js';
import { SqlEntraRepo } from '../core/entra.js';
import type { EntraRepo } from '../entra-types.js';
import { noDatabaseError } from '../errors.js';
import { runMigrations, type MigrationHost } from '../core/migrate.js';
import {
  metaRepo,
  portalRepo,
  SqlAssignmentRepo,
  SqlBatchRepo,
  SqlResourceRepo,
  SqlSignInCodes,
  SqlUserRepo,
} from '../core/repos.js';
import type { Migration } from '../sqlite/migrations.js';
import { WrongMasterKeyError } from '../vault.js';
import { isRetryable, PgExecutor, pgDialect, redactUrl, sqlState } from './db.js';
import { PG_MIGRATIONS } from './migrations.js';
import { PgAuditRepo } from './audit.js';
import { PgPortalState } from './portal.js';
import { PgTokenRepo } from './tokens.js';

export interface OpenPostgresOptions {
  /** postgres://user:password@host:port/dbname (libpq-style query parameters such as sslmode pass through). */
  url: string;
  env?: NodeJS.ProcessEnv;
  operator: string;
  /** Apply missing migrations on open (the default, as with SQLite); `db migrate` does it explicitly. */
  migrate?: boolean;
  poolSize?: number;
  /** False: a database without tokensmith's tables is an error (`no-database`), never set up. Default true. */
  create?: boolean;
  /** Told what was created (the tables, the key file), for the operator. */
  notice?: (message: string) => void;
}

/** How often a transaction that hit a deadlock or serialization failure is run again before the error is reported. */
const MAX_ATTEMPTS = 8;
/** The advisory lock key taken while migrating, so that stations opening a new database at once apply each migration once. */
const MIGRATION_LOCK_KEY = 0x6d696772; // "migr"

// int8 (COUNT, BIGINT counters) as numbers: every value we store fits in 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20 && format !== 'binary'
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function isPostgresUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** The key file of a PostgreSQL store when TOKENSMITH_MASTER_KEY is not set: TOKENSMITH_MASTER_KEY_FILE, else one per server and database in the user's data folder. */
export function pgKeyFilePath(url: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOKENSMITH_MASTER_KEY_FILE) return env.TOKENSMITH_MASTER_KEY_FILE;
  let tag = 'postgres';
  try {
    const u = new URL(url);
    tag = `${u.hostname || 'localhost'}_${u.port || '5432'}_${decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres'}`;
  } catch {
    // An unparsable URL fails at connect with a clearer message than ours.
  }
  return join(userDataDir(env), `postgres-${tag.replace(/[^A-Za-z0-9._-]/g, '_')}.key`);
}

function openError(url: string, err: unknown): DataError {
  const state = sqlState(err);
  const why =
    state === '3D000'
      ? 'the database does not exist (create it: createdb <name>, or CREATE DATABASE)'
      : state === '28P01' || state === '28000'
        ? 'the server refused the user or password'
        : (err as Error).message;
  return new DataError(`cannot open the database ${redactUrl(url)}: ${why}`, { code: 'db-open', cause: err });
}

export async function openPostgresStore(opts: OpenPostgresOptions): Promise<PostgresStore> {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 15_000,
    application_name: 'tokensmith',
    types,
  });
  // An idle client losing its server must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const store = new PostgresStore(pool, opts.url, opts.env ?? process.env, opts.operator, opts.notice);
  try {
    const fresh = !(await hasSchema(pool));
    if (fresh && opts.create === false) throw noDatabaseError(redactUrl(opts.url));
    if (opts.migrate !== false) await store.migrate();
    if (fresh && opts.migrate !== false) opts.notice?.(`set up a new tokensmith database in ${redactUrl(opts.url)}`);
    else await pool.query('SELECT 1');
    // A store that just reached migration 9 (a new one: count 0) gets its audit anchor now.
    if (opts.migrate !== false) await store.audit.initAnchor();
  } catch (err) {
    await pool.end().catch(() => undefined);
    if (err instanceof DataError) throw err;
    throw openError(opts.url, err);
  }
  return store;
}

/** Whether the database holds tokensmith's tables (a migration was applied). */
async function hasSchema(pool: pg.Pool): Promise<boolean> {
  const r = await pool.query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present");
  return (r.rows[0] as { present: boolean }).present;
}

export class PostgresStore implements Store {
  readonly tokens: TokenRepo;
  readonly batches: BatchRepo;
  readonly resources: ResourceRepo;
  readonly users: UserRepo;
  readonly assignments: AssignmentRepo;
  readonly audit: PgAuditRepo;
  readonly portal: PortalRepo;
  readonly entra: EntraRepo;
  readonly directories: DirectoryRepo;
  readonly meta: Repos['meta'];
  readonly location: string;
  readonly db: PgExecutor;
  private keyPromise: Promise<Buffer> | null = null;
  private closed = false;

  constructor(
    readonly pool: pg.Pool,
    readonly url: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly operator: string,
    private readonly notice?: (message: string) => void,
  ) {
    this.location = redactUrl(url);
    const db = (this.db = new PgExecutor(pool));
    const inTx = <T>(fn: () => Promise<T>) => this.transaction(() => fn());
    const d = pgDialect(db);
    this.meta = metaRepo(d);
    this.tokens = new PgTokenRepo(db, () => this.key(), inTx);
    this.batches = new SqlBatchRepo(d);
    this.resources = new SqlResourceRepo(d);
    this.users = new SqlUserRepo(d);
    this.assignments = new SqlAssignmentRepo(d);
    this.audit = new PgAuditRepo(db, operator, inTx, (create) => this.key(create));
    this.portal = portalRepo(new PgPortalState(db), new SqlSignInCodes(d));
    this.entra = new SqlEntraRepo(d, () => this.key());
    this.directories = new SqlDirectoryRepo(d, () => this.key());
  }

  /** Applies the migrations this database lacks; returns the versions applied. */
  migrate(): Promise<number[]> {
    return runMigrations(PG_MIGRATIONS, pgMigrationHost(this.pool));
  }

  /** The master key, loaded on first need and checked against the database's key check value; every station must hold the same one. */
  private key(create = true): Promise<Buffer> {
    this.keyPromise ??= this.loadKey(create).catch((err: unknown) => {
      this.keyPromise = null;
      throw err;
    });
    return this.keyPromise;
  }

  private async loadKey(create: boolean): Promise<Buffer> {
    // Read and written on a pooled connection, outside any caller's transaction: the check value stays even if that transaction rolls back.
    const readCheck = async () =>
      (
        (await this.pool.query("SELECT value FROM meta WHERE key = 'key_check'")).rows[0] as
          { value: string } | undefined
      )?.value;
    const checked = checkedMasterKey(await readCheck(), {
      location: this.location,
      keyFile: pgKeyFilePath(this.url, this.env),
      env: this.env,
      missingHint:
        'Set TOKENSMITH_MASTER_KEY to the key every station shares, or put that key in the key file (TOKENSMITH_MASTER_KEY_FILE names another).',
      create,
    });
    if (checked.key.created) this.notice?.(keyCreatedNotice(checked.key.source));
    if (checked.firstUse) {
      // Two stations starting a fresh database with different keys: the first check value wins, the other station is told.
      await this.pool.query("INSERT INTO meta (key, value) VALUES ('key_check', $1) ON CONFLICT (key) DO NOTHING", [
        checked.check,
      ]);
      if ((await readCheck()) !== checked.check) throw new WrongMasterKeyError(checked.key.source);
    }
    return checked.key.key;
  }

  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    if (this.db.inTransaction) return fn(this); // nested: join the outer transaction
    for (let attempt = 1; ; attempt++) {
      const client = await this.pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const result = await this.db.als.run({ client, savepoints: 0 }, () => fn(this));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
          // Nothing of this attempt is left: wait a little (more each time, with jitter) and run it again from the start.
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt + 5));
          continue;
        }
        throw err;
      } finally {
        client.release(broken);
      }
    }
  }

  async schemaVersion(): Promise<number> {
    return ((await this.pool.query('SELECT MAX(version) AS v FROM schema_migrations')).rows[0] as { v: number }).v;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/** PostgreSQL's steps for the shared runner: every missing migration in one transaction, under an advisory lock so stations opening a new database at once apply each migration once. */
function pgMigrationHost(pool: pg.Pool): MigrationHost<Migration, 'async'> {
  let client: pg.PoolClient | null = null;
  const release = () => {
    client?.release();
    client = null;
  };
  return {
    applied: async () => {
      try {
        const rows = (
          client
            ? await client.query('SELECT version FROM schema_migrations')
            : await pool.query('SELECT version FROM schema_migrations')
        ).rows as { version: number }[];
        return new Set(rows.map((r) => r.version));
      } catch (err) {
        if (sqlState(err) === '42P01') return new Set<number>(); // no table yet: a new database
        throw err;
      }
    },
    begin: async () => {
      const c = (client = await pool.connect());
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      await c.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
    },
    apply: async (m) => {
      await client!.query(m.sql);
      await client!.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      return true;
    },
    commit: async () => {
      await client!.query('COMMIT');
      release();
    },
    rollback: async () => {
      await client?.query('ROLLBACK').catch(() => undefined);
      release();
    },
  };
}
