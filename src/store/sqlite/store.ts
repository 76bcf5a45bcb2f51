/**
 * The SQLite backend (better-sqlite3): WAL, a busy timeout, numbered
 * migrations, and the repositories of types.ts. The only place, with
 * migrations.ts, where SQL is written.
 */
import Database from 'better-sqlite3';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { userInfo } from 'node:os';
import { DataError, NotFoundError } from '../../core/errors.js';
import { assignmentConflict } from '../errors.js';
import { SqliteAuditRepo } from './audit.js';
import { toAssignment, toBatch, toResource, toSignInCode, toToken, toUser } from '../core/rows.js';
import { inventoryQuery, questionMarks } from '../core/inventory.js';
import type {
  AssignmentRecord,
  AssignmentRepo,
  InventoryFilter,
  InventoryRow,
  BatchRecord,
  BatchRepo,
  NewToken,
  PortalRepo,
  Repos,
  ResourceRecord,
  ResourceRepo,
  SignInCodeRecord,
  Store,
  TokenFilter,
  TokenPatch,
  TokenRecord,
  TokenRepo,
  TokenWithSeed,
  UserRecord,
  UserRepo,
} from '../types.js';
import { keyCheckValue, loadMasterKey, openSeed, sealSeed, sealTokenSeeds, seedBinding, SealBrokenError, WrongMasterKeyError, type MasterKey } from '../vault.js';
import { keyFilePath } from '../paths.js';
import { MIGRATIONS } from './migrations.js';
import { SqlitePortalState } from './portal.js';
import { counterColumns, TOKEN_COLUMNS } from '../columns.js';

type Row = Record<string, unknown>;

const statementCache = new WeakMap<Database.Database, Map<string, Database.Statement>>();
/** Prepares a statement once per connection: preparing on every call costs more than running it. */
function prep(db: Database.Database, sql: string): Database.Statement {
  let cache = statementCache.get(db);
  if (!cache) statementCache.set(db, (cache = new Map()));
  let stmt = cache.get(sql);
  if (!stmt) cache.set(sql, (stmt = db.prepare(sql)));
  return stmt;
}

const now = () => new Date().toISOString();

export interface OpenSqliteOptions {
  /** Path of the database file, or ':memory:'. */
  path: string;
  env?: NodeJS.ProcessEnv;
  operator?: string;
  /** Open read-only where the caller only reads (no migration, no file creation). */
  readonly?: boolean;
  busyTimeoutMs?: number;
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
  if (!memory) {
    mkdirSync(dirname(opts.path), { recursive: true, mode: 0o700 });
    if (!existsSync(opts.path)) {
      // Create the file ourselves so it is 0600 from its first byte; SQLite gives -wal/-shm the same mode.
      closeSync(openSync(opts.path, 'a', 0o600));
    }
    chmodSync(opts.path, 0o600);
  }
  let db: Database.Database;
  try {
    db = new Database(opts.path, { fileMustExist: !memory });
  } catch (err) {
    throw new DataError(`cannot open the database ${opts.path}: ${(err as Error).message}`, { code: 'db-open', cause: err });
  }
  try {
    db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    if (!memory) setWalMode(db, opts.busyTimeoutMs ?? 5000);
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    // A bigger page cache than SQLite's 2 MB default (bulk imports touch every index), but bounded:
    // 16 MB is full at about 50,000 tokens, so a 1,000,000-token import peaks where a 100,000 one does.
    db.pragma('cache_size = -16384');
    migrate(db);
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_NOTADB') {
      throw new DataError(`${opts.path} is not a tokensmith database (not SQLite)`, { code: 'db-open', cause: err });
    }
    throw err;
  }
  const store = new SqliteStore(db, opts.path, opts.env ?? process.env, opts.operator ?? defaultOperator(opts.env));
  // A store that just reached migration 9 (a new one: count 0) gets its audit anchor now.
  store.audit.initAnchor();
  return store;
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

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set((prep(db, 'SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version));
  const known = new Set(MIGRATIONS.map((m) => m.version));
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new DataError(`this database was written by a newer tokensmith (schema migration ${Math.max(...unknown)}); upgrade tokensmith`, {
      code: 'schema-too-new',
    });
  }
  for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
    if (applied.has(m.version)) continue;
    // Foreign keys can only be switched outside a transaction.
    if (m.rebuildsTables) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        // Check again under the write lock: another process opening the same new database may have applied it meanwhile.
        if (prep(db, 'SELECT 1 FROM schema_migrations WHERE version = ?').get(m.version)) return;
        // Broken references the database already had are not this migration's doing: only new ones stop it.
        const brokenBefore = m.rebuildsTables ? (db.pragma('foreign_key_check') as unknown[]).length : 0;
        db.exec(m.sql);
        if (m.rebuildsTables) {
          const broken = (db.pragma('foreign_key_check') as unknown[]).length;
          if (broken > brokenBefore) {
            throw new DataError(`schema migration ${m.version} would leave ${broken - brokenBefore} broken reference(s); nothing was changed`, { code: 'migration-failed' });
          }
        }
        prep(db, 'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, now());
      }).immediate();
    } finally {
      if (m.rebuildsTables) db.pragma('foreign_keys = ON');
    }
  }
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
  ) {
    this.meta = {
      get: async (key) => (prep(db, 'SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null,
      set: async (key, value) => {
        prep(db, 'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
      },
    };
    this.tokens = new SqliteTokenRepo(db, () => this.key());
    this.batches = new SqliteBatchRepo(db);
    this.resources = new SqliteResourceRepo(db);
    this.users = new SqliteUserRepo(db);
    this.assignments = new SqliteAssignmentRepo(db);
    this.audit = new SqliteAuditRepo(db, operator, () => this.key());
    this.portal = new SqlitePortalRepo(db);
  }

  /** The master key, loaded on first need and checked against the database's key check value. */
  private key(): Buffer {
    if (this.masterKey) return this.masterKey.key;
    const keyFile = this.location === ':memory:' ? null : keyFilePath(this.location);
    const stored = (prep(this.db, "SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string } | undefined)?.value;
    if (stored !== undefined && keyFile !== null && !this.env.TOKENSMITH_MASTER_KEY && !existsSync(keyFile)) {
      // Seeds were sealed under some key: a fresh key file here would never open them, only mislead.
      throw new DataError(
        `no master key for ${this.location}: its seeds are sealed, but TOKENSMITH_MASTER_KEY is not set and the key file ${keyFile} is missing. ` +
          'Set TOKENSMITH_MASTER_KEY to the key the seeds were sealed with, or restore the key file from your backup.',
        { code: 'missing-master-key' },
      );
    }
    const mk: MasterKey =
      keyFile === null && !this.env.TOKENSMITH_MASTER_KEY
        ? { key: ephemeralKey(), source: 'a throw-away in-memory key' }
        : loadMasterKey(keyFile ?? '', this.env);
    const check = keyCheckValue(mk.key);
    if (stored === undefined) {
      prep(this.db, "INSERT INTO meta (key, value) VALUES ('key_check', ?)").run(check);
    } else if (stored !== check) {
      throw new WrongMasterKeyError(mk.source);
    }
    this.masterKey = mk;
    return mk.key;
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

let ephemeral: Buffer | null = null;
function ephemeralKey(): Buffer {
  ephemeral ??= Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32)));
  return ephemeral;
}

function tokenWhere(f: TokenFilter = {}): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.state) {
    parts.push('state = ?');
    params.push(f.state);
  }
  if (f.resourceId !== undefined) {
    parts.push('resource_id = ?');
    params.push(f.resourceId);
  }
  if (f.batchId !== undefined) {
    parts.push('batch_id = ?');
    params.push(f.batchId);
  }
  if (f.deviceSerial !== undefined) {
    parts.push('device_serial = ?');
    params.push(f.deviceSerial);
  }
  if (f.serials) {
    parts.push(`serial IN (SELECT value FROM json_each(?))`);
    params.push(JSON.stringify(f.serials));
  }
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

class SqliteTokenRepo implements TokenRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private insertManyStmt: Database.Statement | null = null;
  constructor(
    private readonly db: Database.Database,
    private readonly key: () => Buffer,
  ) {
    this.insertStmt = prep(db, `INSERT INTO tokens (serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state,
      drift_steps, batch_id, resource_id, device_serial, profile, attributes, created_at, updated_at, t0, check_digit, counter_big)
      VALUES (@serial, @manufacturer, @model, @kind, @type, @algorithm, @digits, @period, @counter, @sealed_seed, @state,
      @drift_steps, @batch_id, @resource_id, @device_serial, @profile, @attributes, @created_at, @updated_at, @t0, @check_digit, @counter_big)`);
    this.getStmt = prep(db, 'SELECT * FROM tokens WHERE id = ?');
  }

  async insert(t: NewToken): Promise<TokenRecord> {
    const manufacturer = t.manufacturer ?? '';
    const at = now();
    const counter = counterColumns(t.counter, t.counterExact);
    try {
      const info = this.insertStmt.run({
        serial: t.serial,
        manufacturer,
        model: t.model ?? null,
        kind: t.kind,
        type: t.type,
        algorithm: t.algorithm,
        digits: t.digits,
        period: t.period,
        counter: counter.counter,
        sealed_seed: t.seed ? sealSeed(this.key(), t.seed, seedBinding({ manufacturer, serial: t.serial })) : null,
        state: t.state,
        drift_steps: t.driftSteps ?? 0,
        batch_id: t.batchId ?? null,
        resource_id: t.resourceId ?? null,
        device_serial: t.deviceSerial ?? null,
        profile: t.profile ?? null,
        attributes: JSON.stringify(t.attributes ?? {}),
        created_at: at,
        updated_at: at,
        t0: t.t0 ?? 0,
        check_digit: t.checkDigit ? 1 : 0,
        counter_big: counter.counterBig,
      });
      return toToken(this.getStmt.get(info.lastInsertRowid) as Row);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new DataError(`token ${t.serial}${manufacturer ? ` (${manufacturer})` : ''} is already in the store`, { code: 'duplicate-serial', where: t.serial });
      }
      throw err;
    }
  }

  async insertMany(tokens: NewToken[]): Promise<{ inserted: number; existing: number[] }> {
    // One prepared statement, no read-back, positional parameters: binding an object per row costs more than the row at this scale.
    this.insertManyStmt ??= prep(this.db, `INSERT INTO tokens (serial, manufacturer, model, kind, type, algorithm, digits, period, counter, sealed_seed, state,
      drift_steps, batch_id, resource_id, device_serial, profile, attributes, created_at, updated_at, t0, check_digit, counter_big)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (manufacturer, serial) DO NOTHING`);
    const stmt = this.insertManyStmt;
    const key = tokens.some((t) => t.seed) ? this.key() : null;
    // Sealed in one pass for the whole chunk (same bytes as sealSeed, a fresh nonce each).
    const sealed = key ? sealTokenSeeds(key, tokens) : null;
    const at = now();
    const existing: number[] = [];
    let inserted = 0;
    const run = () => {
      for (let i = 0; i < tokens.length; i++) {
        const t = tokens[i]!;
        const manufacturer = t.manufacturer ?? '';
        const counter = t.counterExact == null ? null : counterColumns(t.counter, t.counterExact);
        const info = stmt.run(
          t.serial,
          manufacturer,
          t.model ?? null,
          t.kind,
          t.type,
          t.algorithm,
          t.digits,
          t.period,
          counter ? counter.counter : t.counter,
          sealed ? sealed[i]! : null,
          t.state,
          t.driftSteps ?? 0,
          t.batchId ?? null,
          t.resourceId ?? null,
          t.deviceSerial ?? null,
          t.profile ?? null,
          JSON.stringify(t.attributes ?? {}),
          at,
          at,
          t.t0 ?? 0,
          t.checkDigit ? 1 : 0,
          counter ? counter.counterBig : null,
        );
        if (info.changes === 0) existing.push(i);
        else inserted++;
      }
    };
    // Inside a caller's transaction the rows join it; alone, they land together.
    if (this.db.inTransaction) run();
    else this.db.transaction(run).immediate();
    return { inserted, existing };
  }

  async update(id: number, patch: TokenPatch): Promise<TokenRecord> {
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [k, col] of Object.entries(TOKEN_COLUMNS) as [keyof typeof TOKEN_COLUMNS, string][]) {
      if (!(k in patch)) continue;
      const v = patch[k];
      sets.push(`${col} = ?`);
      params.push(k === 'attributes' ? JSON.stringify(v ?? {}) : k === 'locked' || k === 'checkDigit' ? (v ? 1 : 0) : (v ?? null));
    }
    if ('counter' in patch || 'counterExact' in patch) {
      // A counter patch sets both columns, so a stale exact decimal never outlives a new counter.
      const c = counterColumns(patch.counter ?? 0, patch.counterExact);
      const i = sets.indexOf('counter = ?');
      if (i >= 0) params[i] = c.counter;
      else sets.push('counter = ?'), params.push(c.counter);
      sets.push('counter_big = ?');
      params.push(c.counterBig);
    }
    if ('seed' in patch) {
      const cur = this.getStmt.get(id) as Row | undefined;
      if (!cur) throw new NotFoundError(`no token with id ${id}`);
      sets.push('sealed_seed = ?');
      params.push(patch.seed ? sealSeed(this.key(), patch.seed, seedBinding({ manufacturer: cur.manufacturer as string, serial: cur.serial as string })) : null);
    }
    sets.push('updated_at = ?');
    params.push(now());
    const info = prep(this.db, `UPDATE tokens SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    if (info.changes === 0) throw new NotFoundError(`no token with id ${id}`);
    return toToken(this.getStmt.get(id) as Row);
  }

  async get(id: number): Promise<TokenRecord | null> {
    const r = this.getStmt.get(id) as Row | undefined;
    return r ? toToken(r) : null;
  }

  async findByUid(uid: string): Promise<TokenRecord | null> {
    // The same expression as the index tokens_attr_uid (migration 9), so SQLite uses it.
    const r = prep(this.db, "SELECT * FROM tokens WHERE json_extract(attributes, '$.uid') = ? ORDER BY id LIMIT 1").get(uid) as Row | undefined;
    return r ? toToken(r) : null;
  }

  async findBySerial(serial: string): Promise<TokenRecord[]> {
    return (prep(this.db, 'SELECT * FROM tokens WHERE serial = ? ORDER BY manufacturer').all(serial) as Row[]).map(toToken);
  }

  async findOne(manufacturer: string, serial: string): Promise<TokenRecord | null> {
    const r = prep(this.db, 'SELECT * FROM tokens WHERE manufacturer = ? AND serial = ?').get(manufacturer, serial) as Row | undefined;
    return r ? toToken(r) : null;
  }

  async inventory(filter: InventoryFilter = {}): Promise<InventoryRow[]> {
    const q = inventoryQuery(filter, questionMarks);
    return (prep(this.db, q.sql).all(...q.params) as Row[]).map((r) => ({ token: toToken(r), resource: (r.inventory_resource as string | null) ?? null, user: (r.inventory_user as string | null) ?? null }));
  }

  async list(filter?: TokenFilter): Promise<TokenRecord[]> {
    const w = tokenWhere(filter);
    return (prep(this.db, `SELECT * FROM tokens ${w.sql} ORDER BY id`).all(...w.params) as Row[]).map(toToken);
  }

  async *iterate(filter?: TokenFilter): AsyncIterable<TokenRecord> {
    const w = tokenWhere(filter);
    // Pages by id so no statement stays open across awaits.
    let lastId = 0;
    const where = w.sql ? `${w.sql} AND id > ?` : 'WHERE id > ?';
    const stmt = prep(this.db, `SELECT * FROM tokens ${where} ORDER BY id LIMIT 1000`);
    for (;;) {
      const rows = stmt.all(...w.params, lastId) as Row[];
      if (rows.length === 0) return;
      for (const r of rows) yield toToken(r);
      lastId = rows[rows.length - 1]!.id as number;
    }
  }

  async count(filter?: TokenFilter): Promise<number> {
    const w = tokenWhere(filter);
    return (prep(this.db, `SELECT COUNT(*) AS n FROM tokens ${w.sql}`).get(...w.params) as { n: number }).n;
  }

  async openSeed(t: TokenRecord): Promise<Buffer> {
    const r = prep(this.db, 'SELECT sealed_seed FROM tokens WHERE id = ?').get(t.id) as { sealed_seed: Buffer | null } | undefined;
    if (!r) throw new NotFoundError(`no token with id ${t.id}`);
    if (!r.sealed_seed) throw new DataError(`token ${t.serial} has no seed in the store`, { code: 'no-seed', where: t.serial });
    const key = this.key();
    const seed = openSeed(key, r.sealed_seed, seedBinding(t));
    if (!seed) throw new SealBrokenError(`token ${t.serial}`);
    return seed;
  }

  async *iterateWithSeeds(filter?: TokenFilter): AsyncIterable<TokenWithSeed> {
    const w = tokenWhere(filter);
    const where = w.sql ? `${w.sql} AND id > ?` : 'WHERE id > ?';
    // The filter names the tokens table's columns: page in a subquery, then join the assignment.
    const stmt = prep(this.db, `SELECT t.*, a.id AS a_id, a.user_id AS a_user_id, a.resource_id AS a_resource_id, a.created_at AS a_created_at,
      a.enrolled_at AS a_enrolled_at FROM (SELECT * FROM tokens ${where} ORDER BY id LIMIT 1000) t LEFT JOIN assignments a ON a.token_id = t.id ORDER BY t.id`);
    let lastId = 0;
    for (;;) {
      const rows = stmt.all(...w.params, lastId) as Row[];
      if (rows.length === 0) return;
      for (const r of rows) {
        const token = toToken(r);
        let seed: Buffer | null = null;
        if (r.sealed_seed) {
          seed = openSeed(this.key(), r.sealed_seed as Buffer, seedBinding(token));
          if (!seed) throw new SealBrokenError(`token ${token.serial}`);
        }
        const assignment: AssignmentRecord | null =
          r.a_id == null
            ? null
            : { id: r.a_id as number, tokenId: token.id, userId: r.a_user_id as number, resourceId: r.a_resource_id as number, createdAt: r.a_created_at as string, enrolledAt: (r.a_enrolled_at as string | null) ?? null };
        yield { token, seed, assignment };
      }
      lastId = rows[rows.length - 1]!.id as number;
    }
  }

  async delete(id: number): Promise<void> {
    prep(this.db, 'DELETE FROM tokens WHERE id = ?').run(id);
  }
}

class SqliteBatchRepo implements BatchRepo {
  constructor(private readonly db: Database.Database) {}
  async create(b: Parameters<BatchRepo['create']>[0]): Promise<BatchRecord> {
    const info = this.db
      .prepare('INSERT INTO batches (kind, source_name, source_sha256, format, operator, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(b.kind, b.sourceName ?? null, b.sourceSha256 ?? null, b.format ?? null, b.operator, now());
    return (await this.get(Number(info.lastInsertRowid)))!;
  }
  async finish(id: number, c: { imported: number; skipped: number; failed: number }, status: BatchRecord['status'] = 'done'): Promise<BatchRecord> {
    prep(this.db, 'UPDATE batches SET imported = ?, skipped = ?, failed = ?, status = ?, finished_at = ? WHERE id = ?').run(c.imported, c.skipped, c.failed, status, now(), id);
    const b = await this.get(id);
    if (!b) throw new NotFoundError(`no batch ${id}`);
    return b;
  }
  async get(id: number): Promise<BatchRecord | null> {
    const r = prep(this.db, 'SELECT * FROM batches WHERE id = ?').get(id) as Row | undefined;
    return r ? toBatch(r) : null;
  }
  async findBySha256(sha256: string): Promise<BatchRecord[]> {
    return (prep(this.db, 'SELECT * FROM batches WHERE source_sha256 = ? ORDER BY id').all(sha256) as Row[]).map(toBatch);
  }
  async list(): Promise<BatchRecord[]> {
    return (prep(this.db, 'SELECT * FROM batches ORDER BY id').all() as Row[]).map(toBatch);
  }
}

class SqliteResourceRepo implements ResourceRepo {
  constructor(private readonly db: Database.Database) {}
  async create(r: Parameters<ResourceRepo['create']>[0]): Promise<ResourceRecord> {
    const at = now();
    try {
      const info = this.db
        .prepare('INSERT INTO resources (name, url, lock_after, window, sync_window, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(r.name, r.url ?? null, r.lockAfter ?? 5, r.window ?? 2, r.syncWindow ?? 1000, at, at);
      return (await this.get(Number(info.lastInsertRowid)))!;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DataError(`resource '${r.name}' already exists`, { code: 'duplicate-resource' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<ResourceRepo['update']>[1]): Promise<ResourceRecord> {
    const cols: [keyof typeof p, string][] = [
      ['url', 'url'],
      ['lockAfter', 'lock_after'],
      ['window', 'window'],
      ['syncWindow', 'sync_window'],
      ['actions', 'actions'],
      ['tokenTypes', 'token_types'],
    ];
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [k, col] of cols) {
      if (!(k in p)) continue;
      sets.push(`${col} = ?`);
      params.push(k === 'actions' || k === 'tokenTypes' ? JSON.stringify(p[k]) : (p[k] ?? null));
    }
    sets.push('updated_at = ?');
    params.push(now());
    prep(this.db, `UPDATE resources SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    const r = await this.get(id);
    if (!r) throw new NotFoundError(`no resource with id ${id}`);
    return r;
  }
  async get(id: number): Promise<ResourceRecord | null> {
    const r = prep(this.db, 'SELECT * FROM resources WHERE id = ?').get(id) as Row | undefined;
    return r ? toResource(r) : null;
  }
  async findByName(name: string): Promise<ResourceRecord | null> {
    const r = prep(this.db, 'SELECT * FROM resources WHERE name = ?').get(name) as Row | undefined;
    return r ? toResource(r) : null;
  }
  async list(): Promise<ResourceRecord[]> {
    return (prep(this.db, 'SELECT * FROM resources ORDER BY name').all() as Row[]).map(toResource);
  }
}

class SqliteUserRepo implements UserRepo {
  constructor(private readonly db: Database.Database) {}
  async create(u: Parameters<UserRepo['create']>[0]): Promise<UserRecord> {
    const at = now();
    try {
      const info = this.db
        .prepare('INSERT INTO users (login, name, email, phone, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(u.login, u.name ?? null, u.email ?? null, u.phone ?? null, u.passwordHash ?? null, at, at);
      return (await this.get(Number(info.lastInsertRowid)))!;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DataError(`user '${u.login}' already exists`, { code: 'duplicate-user' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<UserRepo['update']>[1]): Promise<UserRecord> {
    const cols: [keyof typeof p, string][] = [
      ['login', 'login'],
      ['name', 'name'],
      ['email', 'email'],
      ['phone', 'phone'],
      ['passwordHash', 'password_hash'],
    ];
    const sets: string[] = [];
    const params: unknown[] = [];
    for (const [k, col] of cols) {
      if (!(k in p)) continue;
      sets.push(`${col} = ?`);
      params.push(p[k] ?? null);
    }
    sets.push('updated_at = ?');
    params.push(now());
    try {
      prep(this.db, `UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...params, id);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DataError(`login '${p.login}' is taken`, { code: 'duplicate-user' });
      throw err;
    }
    const u = await this.get(id);
    if (!u) throw new NotFoundError(`no user with id ${id}`);
    return u;
  }
  async get(id: number): Promise<UserRecord | null> {
    const r = prep(this.db, 'SELECT * FROM users WHERE id = ?').get(id) as Row | undefined;
    return r ? toUser(r) : null;
  }
  async findByLogin(login: string): Promise<UserRecord | null> {
    const r = prep(this.db, 'SELECT * FROM users WHERE login = ?').get(login) as Row | undefined;
    return r ? toUser(r) : null;
  }
  async list(filter: { resourceId?: number } = {}): Promise<UserRecord[]> {
    if (filter.resourceId !== undefined) {
      return (
        prep(this.db, 'SELECT u.* FROM users u JOIN user_resources ur ON ur.user_id = u.id WHERE ur.resource_id = ? ORDER BY u.login').all(filter.resourceId) as Row[]
      ).map(toUser);
    }
    return (prep(this.db, 'SELECT * FROM users ORDER BY login').all() as Row[]).map(toUser);
  }
  async addToResource(userId: number, resourceId: number): Promise<void> {
    prep(this.db, 'INSERT OR IGNORE INTO user_resources (user_id, resource_id) VALUES (?, ?)').run(userId, resourceId);
  }
  async removeFromResource(userId: number, resourceId: number): Promise<void> {
    prep(this.db, 'DELETE FROM user_resources WHERE user_id = ? AND resource_id = ?').run(userId, resourceId);
  }
  async isInResource(userId: number, resourceId: number): Promise<boolean> {
    return prep(this.db, 'SELECT 1 FROM user_resources WHERE user_id = ? AND resource_id = ?').get(userId, resourceId) !== undefined;
  }
  async resourcesOf(userId: number): Promise<ResourceRecord[]> {
    return (
      prep(this.db, 'SELECT r.* FROM resources r JOIN user_resources ur ON ur.resource_id = r.id WHERE ur.user_id = ? ORDER BY r.name').all(userId) as Row[]
    ).map(toResource);
  }
}

class SqliteAssignmentRepo implements AssignmentRepo {
  constructor(private readonly db: Database.Database) {}
  async create(a: { tokenId: number; userId: number; resourceId: number }): Promise<AssignmentRecord> {
    try {
      const info = prep(this.db, 'INSERT INTO assignments (token_id, user_id, resource_id, created_at) VALUES (?, ?, ?, ?)').run(a.tokenId, a.userId, a.resourceId, now());
      return toAssignment(prep(this.db, 'SELECT * FROM assignments WHERE id = ?').get(info.lastInsertRowid) as Row);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw assignmentConflict(err);
      }
      throw err;
    }
  }
  async markEnrolled(id: number, at: string | null): Promise<void> {
    prep(this.db, 'UPDATE assignments SET enrolled_at = ? WHERE id = ?').run(at, id);
  }
  async delete(id: number): Promise<void> {
    prep(this.db, 'DELETE FROM assignments WHERE id = ?').run(id);
  }
  async byToken(tokenId: number): Promise<AssignmentRecord | null> {
    const r = prep(this.db, 'SELECT * FROM assignments WHERE token_id = ?').get(tokenId) as Row | undefined;
    return r ? toAssignment(r) : null;
  }
  async byUserResource(userId: number, resourceId: number): Promise<AssignmentRecord | null> {
    const r = prep(this.db, 'SELECT * FROM assignments WHERE user_id = ? AND resource_id = ?').get(userId, resourceId) as Row | undefined;
    return r ? toAssignment(r) : null;
  }
  async list(filter: { resourceId?: number; userId?: number } = {}): Promise<AssignmentRecord[]> {
    const parts: string[] = [];
    const params: unknown[] = [];
    if (filter.resourceId !== undefined) {
      parts.push('resource_id = ?');
      params.push(filter.resourceId);
    }
    if (filter.userId !== undefined) {
      parts.push('user_id = ?');
      params.push(filter.userId);
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return (prep(this.db, `SELECT * FROM assignments ${where} ORDER BY id`).all(...params) as Row[]).map(toAssignment);
  }
}

class SqlitePortalRepo extends SqlitePortalState implements PortalRepo {
  async addSignInCode(c: { userId: number; resourceId: number; codeHash: string; expiresAt: string }): Promise<SignInCodeRecord> {
    const info = this.db
      .prepare('INSERT INTO portal_signin_codes (user_id, resource_id, code_hash, expires_at, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(c.userId, c.resourceId, c.codeHash, c.expiresAt, now());
    return toSignInCode(prep(this.db, 'SELECT * FROM portal_signin_codes WHERE id = ?').get(info.lastInsertRowid) as Row);
  }
  async latestSignInCode(userId: number, resourceId: number): Promise<SignInCodeRecord | null> {
    const r = this.db
      .prepare('SELECT * FROM portal_signin_codes WHERE user_id = ? AND resource_id = ? AND used_at IS NULL ORDER BY id DESC LIMIT 1')
      .get(userId, resourceId) as Row | undefined;
    return r ? toSignInCode(r) : null;
  }
  async updateSignInCode(id: number, patch: { usedAt?: string | null; attempts?: number }): Promise<void> {
    if ('usedAt' in patch) prep(this.db, 'UPDATE portal_signin_codes SET used_at = ? WHERE id = ?').run(patch.usedAt ?? null, id);
    if (patch.attempts !== undefined) prep(this.db, 'UPDATE portal_signin_codes SET attempts = ? WHERE id = ?').run(patch.attempts, id);
  }
  async signInFailures(userId: number, resourceId: number): Promise<{ failed: number; lockedUntil: string | null }> {
    const r = prep(this.db, 'SELECT failed, locked_until FROM portal_signin_failures WHERE user_id = ? AND resource_id = ?').get(userId, resourceId) as
      | { failed: number; locked_until: string | null }
      | undefined;
    return { failed: r?.failed ?? 0, lockedUntil: r?.locked_until ?? null };
  }
  async setSignInFailures(userId: number, resourceId: number, failed: number, lockedUntil: string | null): Promise<void> {
    this.db
      .prepare(
        'INSERT INTO portal_signin_failures (user_id, resource_id, failed, locked_until) VALUES (?, ?, ?, ?) ON CONFLICT (user_id, resource_id) DO UPDATE SET failed = excluded.failed, locked_until = excluded.locked_until',
      )
      .run(userId, resourceId, failed, lockedUntil);
  }
}
