import { afterEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { DataError } from '../../src/core/errors.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { TempStores } from './helpers.js';

const FOUNDATION_TABLES = [
  'meta',
  'batches',
  'resources',
  'tokens',
  'users',
  'user_resources',
  'assignments',
  'audit',
  'schema_migrations',
];
const temp = new TempStores();
afterEach(() => temp.cleanup());

function tables(db: Database.Database): string[] {
  return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
    (r) => r.name,
  );
}

describe('migrations', () => {
  it('have unique, positive version numbers and names', () => {
    const versions = MIGRATIONS.map((m) => m.version);
    expect(new Set(versions).size).toBe(versions.length);
    for (const m of MIGRATIONS) {
      expect(Number.isInteger(m.version) && m.version > 0).toBe(true);
      expect(m.name).toMatch(/\S/);
      expect(m.sql).toMatch(/\S/);
    }
  });

  it('apply on a fresh database: every table exists and every migration is recorded', async () => {
    const path = join(temp.dir(), 't.db');
    const store = temp.open(path);
    expect(await store.schemaVersion()).toBe(Math.max(...MIGRATIONS.map((m) => m.version)));
    expect(tables(store.db)).toEqual(expect.arrayContaining(FOUNDATION_TABLES));
    const recorded = (
      store.db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]
    ).map((r) => r.version);
    expect(recorded).toEqual(MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
  });

  it('are idempotent: reopening applies nothing again and keeps the data', async () => {
    const path = join(temp.dir(), 't.db');
    const env = { TOKENSMITH_MASTER_KEY: 'a'.repeat(64) };
    const first = temp.open(path, env);
    await first.resources.create({ name: 'Staff' });
    const before = first.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    await first.close();
    const second = temp.open(path, env);
    const after = second.db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
    expect(after).toEqual(before);
    expect((await second.resources.findByName('Staff'))?.name).toBe('Staff');
    await second.close();
    const third = temp.open(path, env);
    expect(third.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get()).toEqual({ n: MIGRATIONS.length });
  });

  it('set WAL, a busy timeout and foreign keys', () => {
    const store = temp.open(join(temp.dir(), 't.db'));
    expect(store.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(Number(store.db.pragma('busy_timeout', { simple: true }))).toBeGreaterThanOrEqual(1000);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('refuse a database written by a newer tokensmith, naming the migration', async () => {
    const path = join(temp.dir(), 't.db');
    const store = temp.open(path);
    store.db
      .prepare(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from the future', '2099-01-01')",
      )
      .run();
    await store.close();
    expect(() => temp.open(path)).toThrow(DataError);
    expect(() => temp.open(path)).toThrow(/newer tokensmith \(schema migration 9999\)/);
  });

  it('refuse a file that is not SQLite with a clear error', async () => {
    const { writeFileSync } = await import('node:fs');
    const path = join(temp.dir(), 'not-a-db.db');
    writeFileSync(
      path,
      'this is a text file, not a database, but it is long enough to look like a header to sqlite .....',
    );
    expect(() => temp.open(path)).toThrow(/not a tokensmith database|cannot open the database/);
  });

  it('6 rebuilds tokens with the same columns, indexes and rows, keeps assignments pointing at them, and still refuses bad values', async () => {
    // A database as tokensmith left it before migration 6, with a token that an assignment refers to.
    const path = join(temp.dir(), 'v5.db');
    const raw = new Database(path);
    raw.pragma('foreign_keys = ON');
    raw.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((m) => m.version < 6)) {
      raw.exec(m.sql);
      raw.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01')").run(m.version, m.name);
    }
    // Migration 8's and 10's columns and 9's index come on top; the columns and indexes 6 rebuilt must be the same.
    const added8 = new Set(['t0', 'check_digit', 'counter_big', 'state_changed_at']);
    const shape = (db: Database.Database) =>
      JSON.stringify([
        (db.pragma('table_info(tokens)') as { name: string }[]).filter((c) => !added8.has(c.name)),
        db.pragma('foreign_key_list(tokens)'),
        db
          .prepare(
            "SELECT name, sql FROM sqlite_master WHERE tbl_name = 'tokens' AND type = 'index' AND name <> 'tokens_attr_uid' ORDER BY name",
          )
          .all(),
      ]);
    const before = shape(raw);
    raw.prepare("INSERT INTO resources (name, created_at, updated_at) VALUES ('vpn', 'x', 'x')").run();
    raw.prepare("INSERT INTO users (login, created_at, updated_at) VALUES ('alice', 'x', 'x')").run();
    raw
      .prepare(
        "INSERT INTO tokens (id, serial, kind, type, algorithm, digits, period, state, created_at, updated_at) VALUES (41, 'A1', 'classic', 'totp', 'sha256', 8, 60, 'in_stock', 'x', 'x')",
      )
      .run();
    raw
      .prepare(
        "INSERT INTO tokens (id, serial, kind, type, algorithm, digits, period, state, created_at, updated_at) VALUES (42, 'A2', 'programmable', 'hotp', 'sha1', 6, 30, 'assigned', 'x', 'x')",
      )
      .run();
    raw.prepare("INSERT INTO assignments (token_id, user_id, resource_id, created_at) VALUES (42, 1, 1, 'x')").run();
    const rows = raw.prepare('SELECT * FROM tokens ORDER BY id').all();
    raw.close();

    const store = temp.open(path);
    const db = store.db;
    expect(await store.schemaVersion()).toBeGreaterThanOrEqual(6);
    expect(shape(db)).toBe(before);
    expect(db.prepare('SELECT * FROM tokens ORDER BY id').all()).toEqual(
      // Migration 10 takes a token's last update as the time its state last changed.
      rows.map((r) => ({ ...(r as object), t0: 0, check_digit: 0, counter_big: null, state_changed_at: 'x' })),
    );
    expect(db.pragma('foreign_key_check')).toEqual([]);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.prepare("SELECT sql FROM sqlite_master WHERE name = 'tokens'").get()).toEqual({
      sql: expect.not.stringContaining(' IN ('),
    });
    // The assignment still refers to token 42: deleting it is refused.
    expect(() => db.prepare('DELETE FROM tokens WHERE id = 42').run()).toThrow(/FOREIGN KEY/);
    for (const bad of [
      "state = 'lost-ish'",
      "algorithm = 'md5'",
      "kind = 'other'",
      "type = 'ocra'",
      'digits = 3',
      'period = 0',
      'counter = -1',
    ]) {
      expect(() => db.prepare(`UPDATE tokens SET ${bad} WHERE id = 41`).run(), bad).toThrow(/CHECK constraint failed/);
    }
    for (const good of ["state = 'retired'", "algorithm = 'sha512'", "kind = 'programmable'", "type = 'hotp'"]) {
      expect(db.prepare(`UPDATE tokens SET ${good} WHERE id = 41`).run().changes, good).toBe(1);
    }
  });

  it('8 adds t0, check_digit and counter_big with defaults, allows type dpw, and refuses bad values', async () => {
    const path = join(temp.dir(), 'v6.db');
    const raw = new Database(path);
    raw.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((m) => m.version < 8)) {
      raw.exec(m.sql);
      raw.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01')").run(m.version, m.name);
    }
    raw
      .prepare(
        "INSERT INTO tokens (id, serial, kind, type, algorithm, digits, period, counter, state, created_at, updated_at) VALUES (7, 'H1', 'classic', 'hotp', 'sha1', 6, 30, 12, 'in_stock', 'x', 'x')",
      )
      .run();
    raw.close();
    const store = temp.open(path);
    const db = store.db;
    expect(db.prepare('SELECT serial, counter, t0, check_digit, counter_big FROM tokens').all()).toEqual([
      { serial: 'H1', counter: 12, t0: 0, check_digit: 0, counter_big: null },
    ]);
    expect(db.prepare("UPDATE tokens SET type = 'dpw' WHERE id = 7").run().changes).toBe(1);
    expect(
      db.prepare("UPDATE tokens SET counter_big = '18446744073709551615', check_digit = 1, t0 = -60 WHERE id = 7").run()
        .changes,
    ).toBe(1);
    for (const bad of ['check_digit = 2', "counter_big = '12abc'", "counter_big = '42'", "type = 'ocra'"]) {
      expect(() => db.prepare(`UPDATE tokens SET ${bad} WHERE id = 7`).run(), bad).toThrow(/CHECK constraint failed/);
    }
  });

  it('6 is not stopped by a broken reference the database already had elsewhere', async () => {
    const path = join(temp.dir(), 'v5-orphan.db');
    const raw = new Database(path);
    raw.exec(
      'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    for (const m of MIGRATIONS.filter((m) => m.version < 6)) {
      raw.exec(m.sql);
      raw.prepare("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01')").run(m.version, m.name);
    }
    raw.prepare("INSERT INTO resources (name, created_at, updated_at) VALUES ('vpn', 'x', 'x')").run();
    // Written with foreign keys off (as an old tool or a hand edit might): a membership of a user that does not exist.
    raw.pragma('foreign_keys = OFF');
    raw.prepare('INSERT INTO user_resources (user_id, resource_id) VALUES (42, 1)').run();
    raw
      .prepare(
        "INSERT INTO tokens (serial, kind, type, algorithm, digits, period, state, created_at, updated_at) VALUES ('B1', 'classic', 'totp', 'sha1', 6, 30, 'in_stock', 'x', 'x')",
      )
      .run();
    raw.close();
    const store = temp.open(path);
    expect(await store.schemaVersion()).toBeGreaterThanOrEqual(6);
    expect(store.db.prepare('SELECT serial FROM tokens').all()).toEqual([{ serial: 'B1' }]);
    expect(store.db.pragma('foreign_key_check')).toHaveLength(1);
    expect(store.db.pragma('foreign_keys', { simple: true })).toBe(1);
  });
});
