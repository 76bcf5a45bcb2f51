/**
 * The SQLite backend (better-sqlite3): WAL, a busy timeout, the shared
 * migration runner over SQLite's migration list, and the repositories of
 * src/store/core over the SQLite dialect (sqlite/db.ts). With
 * migrations.ts, tokens.ts, audit.ts and portal.ts, the only place with
 * SQLite's own SQL.
 */
import Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { DataError } from '../../core/errors.js';
import { nowIso } from '../core/dialect.js';
import { noDatabaseError } from '../errors.js';
import { checkedMasterKey, keyCreatedNotice, sqliteKeyFile } from '../core/master-key.js';
import { SqlEntraRepo } from '../core/entra.js';
import type { EntraRepo } from '../entra-types.js';
import { runMigrationsSync, type MigrationHost } from '../core/migrate.js';
import {
  metaRepo,
  portalRepo,
  SqlAssignmentRepo,
  SqlBatchRepo,
  SqlResourceRepo,
  SqlSignInCodes,
  SqlUserRepo,
} from '../core/repos.js';
import { SqlDirectoryRepo } from '../core/directories.js';
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
import type { MasterKey } from '../vault.js';
import { SqliteAuditRepo } from './audit.js';
import { prep, sqliteDialect } from './db.js';
import { MIGRATIONS, type Migration } from './migrations.js';
import { SqlitePortalState } from './portal.js';
import { SqliteTokenRepo } from './tokens.js';

export interface OpenSqliteOptions {
  /** Path of the database file, or ':memory:'. */
  path: string;
  env?: NodeJS.ProcessEnv;
  operator?: string;
  /** Open read-only where the caller only reads (no migration, no file creation). */
  readonly?: boolean;
  busyTimeoutMs?: number;
  /** False: a database that does not exist is an error (`no-database`), never created. Default true. */
  create?: boolean;
  /** Told what was created (the database, the key file), for the operator. */
  notice?: (message: string) => void;
}

export function defaultOperator(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TOKENSMITH_OPERATOR) return env.TOKENSMITH_OPERATOR;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

export function openSqliteStore(opts: OpenSqliteOptions): SqliteStore {
  const memory = opts.path === ':memory:';
  if (!memory) prepareDatabaseFile(opts);
  let db: Database.Database;
  try {
    db = new Database(opts.path, { fileMustExist: !memory });
  } catch (err) {
    throw new DataError(`cannot open the database ${opts.path}: ${(err as Error).message}`, {
      code: 'db-open',
      cause: err,
    });
  }
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    if (!memory) setWalMode(db, opts.busyTimeoutMs ?? 5000);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A bigger page cache than SQLite's 2 MB default (bulk imports touch every index), but bounded:
    // 16 MB is full at about 50,000 tokens, so a 1,000,000-token import peaks where a 100,000 one does.
    db.pragma('cache_size = -16384');
    runMigrationsSync(MIGRATIONS, sqliteMigrationHost(db));
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new DataError(`${opts.path} is not a tokensmith database (not SQLite)`, { code: 'db-open', cause: err });
    }
    throw err;
  }
  const store = new SqliteStore(
    db,
    opts.path,
    opts.env ?? process.env,
    opts.operator ?? defaultOperator(opts.env),
    opts.notice,
  );
  // A store that just reached migration 9 (a new one: count 0) gets its audit anchor now.
  store.audit.initAnchor();
  return store;
}

/** The database file, 0600 from its first byte; a missing one is created only when the caller may create. */
function prepareDatabaseFile(opts: OpenSqliteOptions): void {
  if (!existsSync(opts.path)) {
    if (opts.create === false) throw noDatabaseError(opts.path);
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    // Create the file ourselves so it is 0600 from its first byte; SQLite gives -wal/-shm the same mode.
    closeSync(openSync(opts.path, 'a', 0o600));
    opts.notice?.(`created a new database at ${opts.path}`);
  }
  chmodSync(opts.path, 0o600);
}

/**
 * Switches a database to WAL. Two processes that open a new database at the same moment can
 * both try to switch it; SQLite then answers one of them SQLITE_BUSY at once (waiting could
 * deadlock), without the busy handler, so the busy timeout is applied here.
 */
function setWalMode(db: Database.Database, timeoutMs: number): void {
  const deadline = Date.now() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, Math.min(100, 5 * 2 ** attempt));
    }
  }
}

/** SQLite's steps for the shared runner: each migration in its own IMMEDIATE transaction, foreign keys off for table rebuilds. */
function sqliteMigrationHost(db: Database.Database): MigrationHost<Migration, 'sync'> {
  return {
    applied: () => {
      db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      return new Set(
        (prep(db, 'SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
      );
    },
    begin: () => undefined,
    apply: (m) => {
      // Foreign keys can only be switched outside a transaction.
      if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
      try {
        return db.transaction(() => applySqliteMigration(db, m)).immediate();
      } finally {
        if (m.rebuildsTables) db.pragma('foreign_keys = ON');
      }
    },
    commit: () => undefined,
    rollback: () => undefined,
  };
}

function applySqliteMigration(db: Database.Database, m: Migration): boolean {
  // Check again under the write lock: another process opening the same new database may have applied it meanwhile.
  if (prep(db, 'SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return false;
  // Broken references the database already had are not this migration's doing: only new ones stop it.
  const brokenBefore = m.rebuildsTables ? (db.pragma('foreign_key_check') as unknown[]).length : 0;
  db.exec(m.sql);
  if (m.rebuildsTables) {
    const broken = (db.pragma('foreign_key_check') as unknown[]).length;
    if (broken > brokenBefore) {
      throw new DataError(
        `schema migration ${m.version} would leave ${broken - brokenBefore} broken reference(s); nothing was changed`,
        { code: 'migration-failed' },
      );
    }
  }
  prep(db, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
    m.version,
    m.name,
    nowIso(),
  );
  return true;
}

/** A tiny FIFO lock: async transactions on one connection must not interleave. */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}

export class SqliteStore implements Store {
  readonly tokens: TokenRepo;
  readonly batches: BatchRepo;
  readonly resources: ResourceRepo;
  readonly users: UserRepo;
  readonly assignments: AssignmentRepo;
  readonly audit: SqliteAuditRepo;
  readonly portal: PortalRepo;
  readonly entra: EntraRepo;
  readonly directories: DirectoryRepo;
  readonly meta: Repos['meta'];
  private readonly mutex = new Mutex();
  /** Marks the async flow that holds the open transaction: only its own nested calls join it. */
  private readonly txFlow = new AsyncLocalStorage<true>();
  private masterKey: MasterKey | null = null;

  constructor(
    readonly db: Database.Database,
    readonly location: string,
    private readonly env: NodeJS.ProcessEnv,
    readonly operator: string,
    private readonly notice?: (message: string) => void,
  ) {
    const d = sqliteDialect(db);
    this.meta = metaRepo(d);
    this.tokens = new SqliteTokenRepo(db, () => this.key());
    this.batches = new SqlBatchRepo(d);
    this.resources = new SqlResourceRepo(d);
    this.users = new SqlUserRepo(d);
    this.assignments = new SqlAssignmentRepo(d);
    this.audit = new SqliteAuditRepo(db, operator, (create) => this.key(create));
    this.portal = portalRepo(new SqlitePortalState(db), new SqlSignInCodes(d));
    this.entra = new SqlEntraRepo(d, () => this.key());
    this.directories = new SqlDirectoryRepo(d, () => this.key());
  }

  /** The master key, loaded on first need and checked against the database's key check value; `create: false` never makes a key file. */
  private key(create = true): Buffer {
    if (this.masterKey) return this.masterKey.key;
    const stored = (
      prep(this.db, "SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string } | undefined
    )?.value;
    const checked = checkedMasterKey(stored, {
      location: this.location,
      keyFile: sqliteKeyFile(this.location, this.env),
      env: this.env,
      missingHint:
        'Set TOKENSMITH_MASTER_KEY to the key the seeds were sealed with, or restore the key file from your backup.',
      create,
    });
    if (checked.key.created) this.notice?.(keyCreatedNotice(checked.key.source));
    if (checked.firstUse) prep(this.db, "INSERT INTO meta (key, value) VALUES ('key_check', ?)").run(checked.check);
    this.masterKey = checked.key;
    return checked.key.key;
  }

  async transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T> {
    // Nested in the same flow: join the outer transaction. Another flow (a second request) waits its turn.
    if (this.txFlow.getStore()) return fn(this);
    return this.mutex.run(() =>
      this.txFlow.run(true, async () => {
        this.db.exec('BEGIN IMMEDIATE');
        try {
          const result = await fn(this);
          this.db.exec('COMMIT');
          return result;
        } catch (err) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw err;
        }
      }),
    );
  }

  async schemaVersion(): Promise<number> {
    return (prep(this.db, 'SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
