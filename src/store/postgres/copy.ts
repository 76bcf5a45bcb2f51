/**
 * Moving an inventory from a SQLite file to PostgreSQL: every table row for
 * row, in one PostgreSQL transaction (all or nothing), sealed seeds as they
 * are (the stations keep using the same master key) and audit rows verbatim,
 * so the hash chain still verifies. On arrival it checks counts per table, a
 * digest of every token's identity and sealed seed, and the audit chain.
 */
import Database from 'better-sqlite3';
import type pg from 'pg';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { DataError } from '../../core/errors.js';
import { verifyAuditChain, type StoredAuditRow } from '../audit-chain.js';
import { parseAuditHead } from '../core/audit-rows.js';
import type { AuditVerifyResult } from '../types.js';
import { redactUrl } from './db.js';
import { PG_MIGRATIONS, PG_TABLES } from './migrations.js';
import { AUDIT_LOCK_KEY } from './audit.js';
import { openPostgresStore, type PostgresStore } from './store.js';

export interface CopyOptions {
  from: string;
  to: string;
  env?: NodeJS.ProcessEnv;
  operator: string;
  onProgress?: (p: { table: string; copied: number; total: number }) => void;
}

export interface CopyReport {
  from: string;
  to: string;
  /** Rows per table, equal on both sides. */
  tables: Record<string, number>;
  /** SHA-256 over every token's id, manufacturer, serial and sealed seed, equal on both sides. */
  tokensDigest: string;
  audit: AuditVerifyResult;
}

/** Tables that must be empty in the target: copying into a live inventory would mix two histories and two audit chains. */
const CONTENT_TABLES = ['tokens', 'batches', 'resources', 'users', 'assignments', 'audit'];
const PAGE = 2000;

/** One line per token (id, manufacturer, serial, sealed seed), hashed in id order: equal digests mean equal tokens and seeds. */
function digestLine(h: ReturnType<typeof createHash>, r: TokenIdentityRow): void {
  h.update(`${r.id}\x00${r.manufacturer}\x00${r.serial}\x00`)
    .update(r.sealed_seed ? r.sealed_seed.toString('hex') : '-')
    .update('\n');
}

type TokenIdentityRow = { id: number; manufacturer: string; serial: string; sealed_seed: Buffer | null };

function sqliteTokensDigest(src: Database.Database): string {
  const h = createHash('sha256');
  for (const r of src
    .prepare('SELECT id, manufacturer, serial, sealed_seed FROM tokens ORDER BY id')
    .iterate() as Iterable<TokenIdentityRow>)
    digestLine(h, r);
  return h.digest('hex');
}

async function pgTokensDigest(pool: pg.Pool): Promise<string> {
  const h = createHash('sha256');
  for (let after = 0; ;) {
    const page = (
      await pool.query(
        'SELECT id, manufacturer, serial, sealed_seed FROM tokens WHERE id > $1 ORDER BY id LIMIT 10000',
        [after],
      )
    ).rows as TokenIdentityRow[];
    if (page.length === 0) break;
    for (const r of page) digestLine(h, r);
    after = page[page.length - 1]!.id;
  }
  return h.digest('hex');
}

/** The source file, read-only; refused unless it is a tokensmith SQLite database. */
function openSource(from: string): Database.Database {
  if (!existsSync(from)) throw new DataError(`--from ${from}: no such SQLite database`, { code: 'db-open' });
  try {
    const src = new Database(from, { readonly: true, fileMustExist: true });
    src.prepare('SELECT 1 FROM schema_migrations LIMIT 1').all();
    return src;
  } catch (err) {
    throw new DataError(`--from ${from} is not a tokensmith SQLite database: ${(err as Error).message}`, {
      code: 'db-open',
      cause: err,
    });
  }
}

/** The source must be at exactly the schema this tokensmith gives PostgreSQL, so every column exists on both sides. */
function checkSourceSchema(src: Database.Database, from: string): void {
  const srcVersions = (src.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map(
    (r) => r.version,
  );
  const pgVersions = new Set(PG_MIGRATIONS.map((m) => m.version));
  const unknown = srcVersions.filter((v) => !pgVersions.has(v));
  if (unknown.length > 0) {
    throw new DataError(
      `${from} has schema migration ${Math.max(...unknown)}, which this tokensmith does not know for PostgreSQL; upgrade tokensmith`,
      { code: 'schema-too-new' },
    );
  }
  if ([...pgVersions].some((v) => !srcVersions.includes(v))) {
    throw new DataError(
      `${from} is at an older schema than this tokensmith: open it once (e.g. tokensmith --db ${from} db migrate) and copy again`,
      {
        code: 'schema-too-old',
      },
    );
  }
}

async function checkTargetEmpty(pool: pg.Pool, to: string): Promise<void> {
  for (const t of CONTENT_TABLES) {
    const n = ((await pool.query(`SELECT COUNT(*)::int AS n FROM ${t}`)).rows[0] as { n: number }).n;
    if (n > 0)
      throw new DataError(
        `the target ${to} is not empty (${t} has ${n} rows): copy into a new database (createdb), never into a live inventory`,
        { code: 'target-not-empty' },
      );
  }
}

interface CopyContext {
  src: Database.Database;
  client: pg.PoolClient;
  opts: CopyOptions;
  to: string;
}

/** The columns of a table both sides have, with a converter per column (SQLite's 0/1 to PostgreSQL's booleans). */
async function commonColumns(
  c: CopyContext,
  name: string,
): Promise<{ cols: string[]; convert: ((v: unknown) => unknown)[] }> {
  const srcCols = (c.src.prepare(`PRAGMA table_info(${name})`).all() as { name: string }[]).map((col) => col.name);
  const pgCols = (
    await c.client.query(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1',
      [name],
    )
  ).rows as {
    column_name: string;
    data_type: string;
  }[];
  const pgType = new Map(pgCols.map((col) => [col.column_name, col.data_type]));
  const missing = [...pgType.keys()].filter((col) => !srcCols.includes(col));
  if (missing.length > 0)
    throw new DataError(`table ${name}: the SQLite file lacks column(s) ${missing.join(', ')}`, {
      code: 'schema-mismatch',
    });
  const cols = srcCols.filter((col) => pgType.has(col));
  const convert = cols.map((col) =>
    pgType.get(col) === 'boolean' ? (v: unknown) => (v === null ? null : Boolean(v)) : (v: unknown) => v,
  );
  return { cols, convert };
}

/** A fresh target may hold a key check already: it must be the source's (same master key), and the source's values win otherwise. */
async function replaceMeta(c: CopyContext): Promise<void> {
  const pgCheck = (await c.client.query("SELECT value FROM meta WHERE key = 'key_check'")).rows[0] as
    { value: string } | undefined;
  const srcCheck = (
    c.src.prepare("SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string } | undefined
  )?.value;
  if (pgCheck && srcCheck && pgCheck.value !== srcCheck) {
    throw new DataError(
      `the target ${c.to} was opened with another master key than ${c.opts.from}: copy into a new database`,
      { code: 'wrong-master-key' },
    );
  }
  await c.client.query('DELETE FROM meta');
}

/** Copies one table page by page, in multi-row INSERTs; the rows copied. */
async function copyTable(c: CopyContext, name: string, identity: string | null): Promise<number> {
  const { cols, convert } = await commonColumns(c, name);
  const total = (c.src.prepare(`SELECT COUNT(*) AS n FROM ${name}`).get() as { n: number }).n;
  const quoted = cols.map((col) => `"${col}"`).join(', ');
  const perInsert = Math.max(1, Math.floor(30_000 / cols.length));
  if (name === 'meta') await replaceMeta(c);
  let copied = 0;
  const stmt = c.src.prepare(`SELECT ${quoted} FROM ${name} ORDER BY rowid LIMIT ? OFFSET ?`).raw(true);
  for (let offset = 0; offset < total; offset += PAGE) {
    const rows = stmt.all(PAGE, offset) as unknown[][];
    for (let i = 0; i < rows.length; i += perInsert) {
      const params: unknown[] = [];
      const values = rows
        .slice(i, i + perInsert)
        .map((r) => `(${r.map((v, col) => `$${params.push(convert[col]!(v))}`).join(', ')})`);
      await c.client.query(
        `INSERT INTO ${name} (${quoted}) ${identity ? 'OVERRIDING SYSTEM VALUE ' : ''}VALUES ${values.join(', ')}`,
        params,
      );
    }
    copied += rows.length;
    c.opts.onProgress?.({ table: name, copied, total });
  }
  if (identity) {
    await c.client.query(
      `SELECT setval(pg_get_serial_sequence('${name}', '${identity}'), COALESCE((SELECT MAX(${identity}) FROM ${name}), 0) + 1, false)`,
    );
  }
  return copied;
}

/** Every table in one transaction, the audit chain locked meanwhile; rows per table. */
async function copyTables(
  src: Database.Database,
  pool: pg.Pool,
  opts: CopyOptions,
  to: string,
): Promise<Record<string, number>> {
  const client = await pool.connect();
  const tables: Record<string, number> = {};
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
    for (const { name, identity } of PG_TABLES)
      tables[name] = await copyTable({ src, client, opts, to }, name, identity);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
  return tables;
}

/** Checks on arrival, from fresh reads of the target: counts per table, the tokens' digest, the audit chain. */
async function verifyCopy(
  src: Database.Database,
  target: PostgresStore,
  from: string,
  to: string,
): Promise<{ tokensDigest: string; audit: AuditVerifyResult }> {
  for (const { name } of PG_TABLES) {
    const n = ((await target.pool.query(`SELECT COUNT(*)::int AS n FROM ${name}`)).rows[0] as { n: number }).n;
    const want = (src.prepare(`SELECT COUNT(*) AS n FROM ${name}`).get() as { n: number }).n;
    if (n !== want)
      throw new DataError(`copy check failed: ${name} has ${n} rows in ${to} but ${want} in ${from}`, {
        code: 'copy-mismatch',
      });
  }
  const tokensDigest = await pgTokensDigest(target.pool);
  if (tokensDigest !== sqliteTokensDigest(src))
    throw new DataError(`copy check failed: the tokens or their sealed seeds in ${to} differ from ${from}`, {
      code: 'copy-mismatch',
    });
  const audit = await target.audit.verify();
  const srcHead =
    (src.prepare("SELECT value FROM meta WHERE key = 'audit_head'").get() as { value: string } | undefined)?.value ??
    null;
  const srcAudit = verifyAuditChain(
    src.prepare('SELECT * FROM audit ORDER BY seq').iterate() as Iterable<StoredAuditRow>,
    parseAuditHead(srcHead),
  );
  if (!audit.ok || audit.rows !== srcAudit.rows) {
    throw new DataError(
      `copy check failed: the audit chain in ${to} ${audit.ok ? `has ${audit.rows} rows, the source ${srcAudit.rows}` : `breaks at row ${audit.firstBad!.seq}: ${audit.firstBad!.problem}`}` +
        (srcAudit.ok
          ? ''
          : ` (the source's own chain already breaks at row ${srcAudit.firstBad!.seq}: run tokensmith --db ${from} audit verify)`),
      { code: 'copy-mismatch' },
    );
  }
  return { tokensDigest, audit };
}

export async function copySqliteToPostgres(opts: CopyOptions): Promise<CopyReport> {
  const src = openSource(opts.from);
  const target = await openPostgresStore({ url: opts.to, env: opts.env, operator: opts.operator }).catch(
    (err: unknown) => {
      src.close();
      throw err;
    },
  );
  const to = redactUrl(opts.to);
  try {
    checkSourceSchema(src, opts.from);
    await checkTargetEmpty(target.pool, to);
    const tables = await copyTables(src, target.pool, opts, to);
    const { tokensDigest, audit } = await verifyCopy(src, target, opts.from, to);
    return { from: opts.from, to, tables, tokensDigest, audit };
  } finally {
    src.close();
    await target.close();
  }
}
