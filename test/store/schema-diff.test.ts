// @module-tag postgres
/**
 * The two dialects' schemas, compared after every migration: a fresh SQLite
 * and a fresh PostgreSQL database are migrated step by step (1..latest) and
 * after each step their tables, columns (normalised types), nullability,
 * primary keys, uniques, indexes and CHECK'd value sets must match, but for
 * the dialect differences listed below, each with its reason.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { titled } from '../helpers/tools.js';

/** Facts that differ on purpose: fact -> why. A fact here is allowed on one side only. */
const DIALECT_DIFFERENCES: Record<string, string> = {
  'column tokens.check_digit bool not null':
    'PostgreSQL has BOOLEAN; SQLite keeps 0/1 in an INTEGER with CHECK (check_digit = 0 OR check_digit = 1)',
  'column tokens.check_digit int not null': 'SQLite has no boolean type (see the PostgreSQL side)',
  'column tokens.locked bool not null': 'PostgreSQL has BOOLEAN; SQLite keeps 0/1 in an INTEGER',
  'column tokens.locked int not null': 'SQLite has no boolean type',
  'column tokens.counter_big numeric null':
    'PostgreSQL keeps the exact 64-bit counter as NUMERIC(20,0); SQLite as decimal TEXT (no unsigned 64-bit integer)',
  'column tokens.counter_big text null': 'SQLite keeps the exact counter as decimal TEXT (see the PostgreSQL side)',
  'column directory_accounts.disabled bool not null': 'PostgreSQL has BOOLEAN; SQLite keeps 0/1 in an INTEGER',
  'column directory_accounts.disabled int not null': 'SQLite has no boolean type',
};

/** Expression indexes are compared by name: the expression is written in each dialect's own JSON functions. */
const EXPRESSION = /[()]/;

function normaliseType(t: string): string {
  const s = t.toLowerCase();
  if (/^(integer|int|bigint|smallint|int4|int8)/.test(s)) return 'int';
  if (/^(text|character varying|varchar)/.test(s)) return 'text';
  if (/^(blob|bytea)/.test(s)) return 'bytes';
  if (/^bool/.test(s)) return 'bool';
  if (/^numeric/.test(s)) return 'numeric';
  return s;
}

function valueSet(list: string): string {
  return [...list.matchAll(/'([^']*)'/g)]
    .map((m) => m[1])
    .sort()
    .join(',');
}

function sqliteFacts(db: Database.Database): Set<string> {
  const facts = new Set<string>();
  const tables = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'",
    )
    .all() as { name: string; sql: string }[];
  for (const t of tables) {
    facts.add(`table ${t.name}`);
    const cols = db.pragma(`table_info(${t.name})`) as { name: string; type: string; notnull: number; pk: number }[];
    for (const c of cols)
      facts.add(`column ${t.name}.${c.name} ${normaliseType(c.type)} ${c.notnull || c.pk ? 'not null' : 'null'}`);
    const pk = cols
      .filter((c) => c.pk > 0)
      .sort((a, b) => a.pk - b.pk)
      .map((c) => c.name);
    if (pk.length) facts.add(`primary key ${t.name}(${pk.join(',')})`);
    for (const m of t.sql.matchAll(/CHECK\s*\(\s*(\w+)\s+IN\s*\(([^)]*)\)\s*\)/gi))
      facts.add(`check ${t.name}.${m[1]} in {${valueSet(m[2]!)}}`);
    // Migration 6 wrote SQLite's lists as OR chains (col = 'a' OR col = 'b'): the same value set.
    for (const m of t.sql.matchAll(/CHECK\s*\(\s*((\w+)\s*=\s*'[^']*'(?:\s+OR\s+\2\s*=\s*'[^']*')*)\s*\)/gi))
      facts.add(`check ${t.name}.${m[2]} in {${valueSet(m[1]!)}}`);
    const indexes = db.pragma(`index_list(${t.name})`) as {
      name: string;
      unique: number;
      origin: string;
      partial: number;
    }[];
    for (const ix of indexes) {
      if (ix.origin === 'pk') continue;
      const sql =
        (
          db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?").get(ix.name) as
            { sql: string | null } | undefined
        )?.sql ?? '';
      const on = sql.match(/ON\s+\w+\s*\((.*)\)(\s+WHERE|\s*$)/is)?.[1] ?? '';
      const cols = (db.pragma(`index_info(${ix.name})`) as { name: string | null }[]).map((c) => c.name);
      const what = cols.some((c) => c === null) || EXPRESSION.test(on) ? `[${ix.name}]` : `(${cols.join(',')})`;
      facts.add(`${ix.unique ? 'unique' : 'index'} ${t.name}${what}${ix.partial ? ' partial' : ''}`);
    }
  }
  return facts;
}

async function pgFacts(c: pg.Client): Promise<Set<string>> {
  const facts = new Set<string>();
  const cols = (
    await c.query(
      "SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'schema_migrations'",
    )
  ).rows as {
    table_name: string;
    column_name: string;
    data_type: string;
    is_nullable: string;
  }[];
  for (const col of cols) {
    facts.add(`table ${col.table_name}`);
    facts.add(
      `column ${col.table_name}.${col.column_name} ${normaliseType(col.data_type)} ${col.is_nullable === 'YES' ? 'null' : 'not null'}`,
    );
  }
  const cons = (
    await c.query(
      "SELECT rel.relname AS table, con.contype AS type, pg_get_constraintdef(con.oid) AS def FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid JOIN pg_namespace n ON n.oid = rel.relnamespace WHERE n.nspname = 'public' AND con.contype IN ('p', 'c')",
    )
  ).rows as { table: string; type: string; def: string }[];
  for (const k of cons) {
    if (k.type === 'p')
      facts.add(`primary key ${k.table}(${k.def.replace(/^PRIMARY KEY \((.*)\)$/, '$1').replace(/\s/g, '')})`);
    for (const m of k.def.matchAll(/\(?(\w+)\)? = ANY \(\(?ARRAY\[(.*?)\]/g))
      facts.add(`check ${k.table}.${m[1]} in {${valueSet(m[2]!)}}`);
  }
  const idx = (
    await c.query(
      "SELECT t.relname AS table, i.relname AS name, x.indisunique AS unique, x.indisprimary AS primary, x.indpred IS NOT NULL AS partial, pg_get_indexdef(x.indexrelid) AS def FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public' AND t.relname <> 'schema_migrations'",
    )
  ).rows as { table: string; name: string; unique: boolean; primary: boolean; partial: boolean; def: string }[];
  for (const ix of idx) {
    if (ix.primary) continue;
    const on = ix.def.match(/USING \w+ \((.*?)\)(?: WHERE|$)/)?.[1] ?? '';
    const what = EXPRESSION.test(on) ? `[${ix.name}]` : `(${on.replace(/\s|"/g, '')})`;
    facts.add(`${ix.unique ? 'unique' : 'index'} ${ix.table}${what}${ix.partial ? ' partial' : ''}`);
  }
  return facts;
}

// Needs no server: it runs where PostgreSQL is missing too.
it('both dialects know the same migrations', () => {
  expect(PG_MIGRATIONS.map((m) => [m.version, m.name])).toEqual(MIGRATIONS.map((m) => [m.version, m.name]));
});

const skip = skipPgReason();
describe.skipIf(skip !== null)(titled('the SQLite and PostgreSQL schemas, migration by migration', skip), () => {
  let server: TestPostgres;
  beforeAll(async () => {
    server = await startTestPostgres();
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('match after every step, but for the listed dialect differences', async () => {
    const lite = new Database(':memory:');
    const client = new pg.Client({ connectionString: await server.createDatabase() });
    await client.connect();
    const allowedSeen = new Set<string>();
    try {
      for (const m of [...MIGRATIONS].sort((a, b) => a.version - b.version)) {
        if (m.rebuildsTables) lite.pragma('foreign_keys = OFF');
        lite.exec(m.sql);
        lite.pragma('foreign_keys = ON');
        await client.query(PG_MIGRATIONS.find((p) => p.version === m.version)!.sql);
        const a = sqliteFacts(lite);
        const b = await pgFacts(client);
        const onlySqlite = [...a].filter((f) => !b.has(f));
        const onlyPg = [...b].filter((f) => !a.has(f));
        for (const f of [...onlySqlite, ...onlyPg]) if (DIALECT_DIFFERENCES[f]) allowedSeen.add(f);
        expect({
          version: m.version,
          onlySqlite: onlySqlite.filter((f) => !DIALECT_DIFFERENCES[f]),
          onlyPg: onlyPg.filter((f) => !DIALECT_DIFFERENCES[f]),
        }).toEqual({
          version: m.version,
          onlySqlite: [],
          onlyPg: [],
        });
      }
      // Every listed difference still exists: a stale entry would hide a future real one.
      expect([...allowedSeen].sort()).toEqual(Object.keys(DIALECT_DIFFERENCES).sort());
    } finally {
      lite.close();
      await client.end();
    }
  }, 60_000);
});
