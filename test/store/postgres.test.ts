// @module-tag postgres
/**
 * What only the PostgreSQL backend has: migrations shared by stations, the
 * key shared by stations, retry of deadlocked transactions, and the rules
 * holding when two stations (two stores) write at once.
 */
import { createAssignment } from '../../src/provision/assign.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore } from '../../src/store/index.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/migrations.js';
import { openPostgresStore, pgKeyFilePath, type PostgresStore } from '../../src/store/postgres/store.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { baseToken } from './helpers.js';

const skip = skipPgReason();
const d = skip ? describe.skip : describe;
if (skip) it.skip(`skipped: ${skip}`, () => undefined);

let server: TestPostgres;
const stores: PostgresStore[] = [];
const dirs: string[] = [];
beforeAll(async () => {
  if (!skip) server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  if (!skip) await server.stop();
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const x of dirs.splice(0)) rmSync(x, { recursive: true, force: true });
});
const keyEnv = (): NodeJS.ProcessEnv => ({ TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') });
async function open(url: string, env: NodeJS.ProcessEnv, operator = 'test'): Promise<PostgresStore> {
  const s = await openPostgresStore({ url, env, operator });
  stores.push(s);
  return s;
}
async function sql<R = Record<string, unknown>>(url: string, text: string, params: unknown[] = []): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as R[];
  } finally {
    await c.end();
  }
}

d('PostgreSQL backend', () => {
  it('openStore picks PostgreSQL for postgres:// and postgresql:// URLs, and hides the password in location', async () => {
    const url = await server.createDatabase();
    const withPw = url.replace('postgres@', 'postgres:hunter2@').replace(/^postgres:/, 'postgresql:');
    const s = await openStore({ db: withPw, env: keyEnv(), operator: 'op' });
    try {
      expect(s.operator).toBe('op');
      expect(s.location).not.toContain('hunter2');
      expect(s.location).toContain('***');
      expect(await s.schemaVersion()).toBe(Math.max(...PG_MIGRATIONS.map((m) => m.version)));
    } finally {
      await s.close();
    }
  });

  it('migrations: applied once by stations opening a new database at once, recorded, then idempotent', async () => {
    const url = await server.createDatabase();
    const env = keyEnv();
    const opened = await Promise.all(Array.from({ length: 6 }, () => open(url, env)));
    const rows = await sql<{ version: number }>(url, 'SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(PG_MIGRATIONS.map((m) => m.version).sort((a, b) => a - b));
    await opened[0]!.tokens.insert({ ...baseToken, serial: 'KEEP' });
    expect(await opened[0]!.migrate()).toEqual([]);
    const again = await open(url, env);
    expect(await again.tokens.count()).toBe(1);
  });

  it('migrations: refuses a database written by a newer tokensmith, naming the migration (exit 4)', async () => {
    const url = await server.createDatabase();
    await open(url, keyEnv());
    await sql(url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')");
    await expect(openPostgresStore({ url, env: keyEnv(), operator: 't' })).rejects.toMatchObject({
      exitCode: 4,
      code: 'schema-too-new',
      message: expect.stringContaining('999'),
    });
  });

  it('a missing database or an unreachable server: exit 4 db-open with what to do', async () => {
    const url = await server.createDatabase();
    const missing = url.replace(/\/[^/]+$/, '/no_such_db');
    await expect(openPostgresStore({ url: missing, env: keyEnv(), operator: 't' })).rejects.toMatchObject({
      exitCode: 4,
      code: 'db-open',
      message: expect.stringContaining('does not exist'),
    });
  });

  it('seeds never reach the database in the clear: only sealed bytes (neither raw nor hex in the tokens or meta tables)', async () => {
    const url = await server.createDatabase();
    const s = await open(url, keyEnv());
    const seed = randomBytes(20);
    await s.tokens.insert({ ...baseToken, serial: 'SECRET1', seed });
    await s.tokens.insertMany([{ ...baseToken, serial: 'SECRET2', seed }]);
    const dump = (
      await sql<{ t: string }>(
        url,
        "SELECT string_agg(encode(sealed_seed, 'hex'), ',') || (SELECT string_agg(value, ',') FROM meta) AS t FROM tokens",
      )
    )[0]!.t;
    expect(dump).not.toContain(seed.toString('hex'));
    const sealed = await sql<{ sealed_seed: Buffer }>(url, 'SELECT sealed_seed FROM tokens');
    for (const r of sealed) {
      expect(r.sealed_seed.includes(seed)).toBe(false);
      expect(r.sealed_seed[0]).toBe(1);
    }
  });

  it('the key file: created 0600 for a fresh database, required once seeds are sealed, shared through TOKENSMITH_MASTER_KEY_FILE', async () => {
    const url = await server.createDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'tokensmith-pgkey-'));
    dirs.push(dir);
    const keyFile = join(dir, 'station.key');
    const env = { TOKENSMITH_MASTER_KEY_FILE: keyFile };
    expect(pgKeyFilePath(url, env)).toBe(keyFile);
    expect(pgKeyFilePath(url, { XDG_DATA_HOME: dir })).toMatch(
      /postgres-127\.0\.0\.1_\d+_tokensmith_t_[0-9a-f]+\.key$/,
    );
    const s = await open(url, env);
    await s.tokens.insert({ ...baseToken, serial: 'F1', seed: randomBytes(20) });
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const other = join(dir, 'other.key');
    const s2 = await open(url, { TOKENSMITH_MASTER_KEY_FILE: other });
    await expect(s2.tokens.openSeed((await s2.tokens.findOne('', 'F1'))!)).rejects.toMatchObject({
      exitCode: 4,
      code: 'missing-master-key',
    });
    expect(existsSync(other)).toBe(false);
    writeFileSync(other, randomBytes(32).toString('hex'), { mode: 0o600 });
    const s3 = await open(url, { TOKENSMITH_MASTER_KEY_FILE: other });
    await expect(s3.tokens.openSeed((await s3.tokens.findOne('', 'F1'))!)).rejects.toMatchObject({
      code: 'wrong-master-key',
      message: expect.stringContaining(other),
    });
  });

  it('two stations assigning the same token at once: exactly one wins, the other gets assignment-conflict (exit 5)', async () => {
    const url = await server.createDatabase();
    const env = keyEnv();
    const a = await open(url, env);
    const b = await open(url, env);
    const r = await a.resources.create({ name: 'Staff' });
    const t = await a.tokens.insert({ ...baseToken, serial: 'ONE' });
    const users = await Promise.all(['u1', 'u2'].map((login) => a.users.create({ login })));
    let entered = 0;
    let release!: () => void;
    const bothIn = new Promise<void>((res) => (release = res));
    const assign = (s: PostgresStore, userId: number) =>
      s.transaction(async (tx) => {
        const holder = await tx.assignments.byToken(t.id);
        if (++entered === 2) release();
        await bothIn; // both have read "no holder" before either writes
        if (holder) throw new Error('unexpected holder');
        await createAssignment(tx, { tokenId: t.id, userId, resourceId: r.id });
        await tx.audit.append({ action: 'token.assign', subject: 'token:ONE' });
      });
    const results = await Promise.allSettled([assign(a, users[0]!.id), assign(b, users[1]!.id)]);
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ exitCode: 5, code: 'assignment-conflict' });
    expect(await a.assignments.list()).toHaveLength(1);
    expect(await a.audit.verify()).toEqual({ ok: true, rows: 1 });
  });

  it('a deadlock between two stations is retried from the start: both changes land, once each', async () => {
    const url = await server.createDatabase();
    const env = keyEnv();
    const a = await open(url, env);
    const b = await open(url, env);
    const t1 = await a.tokens.insert({ ...baseToken, serial: 'DL1' });
    const t2 = await a.tokens.insert({ ...baseToken, serial: 'DL2' });
    let attempts = 0;
    let bothLocked = 0;
    let go!: () => void;
    const barrier = new Promise<void>((res) => (go = res));
    const cross = (s: PostgresStore, first: number, second: number, tag: string) =>
      s.transaction(async (tx) => {
        attempts++;
        const x = (await tx.tokens.get(first))!; // FOR UPDATE inside a transaction
        if (++bothLocked === 2) go();
        await barrier;
        const y = (await tx.tokens.get(second))!;
        await tx.tokens.update(x.id, { failedAttempts: x.failedAttempts + 1 });
        await tx.tokens.update(y.id, { failedAttempts: y.failedAttempts + 1 });
        await tx.audit.append({ action: 'test', subject: `tag:${tag}` });
      });
    await Promise.all([cross(a, t1.id, t2.id, 'a'), cross(b, t2.id, t1.id, 'b')]);
    expect(attempts).toBe(3); // one of the two ran again after PostgreSQL broke the deadlock
    expect((await a.tokens.get(t1.id))!.failedAttempts).toBe(2);
    expect((await a.tokens.get(t2.id))!.failedAttempts).toBe(2);
    expect(await a.audit.verify()).toEqual({ ok: true, rows: 2 });
  }, 20_000);

  it('many stations appending audit rows at once keep one unbroken chain; an edit is still caught', async () => {
    const url = await server.createDatabase();
    const env = keyEnv();
    const stations = await Promise.all(Array.from({ length: 4 }, () => open(url, env)));
    await Promise.all(
      stations.flatMap((s, i) =>
        Array.from({ length: 15 }, (_, j) =>
          s.transaction(async (tx) => {
            await tx.tokens.insert({ ...baseToken, serial: `S${i}-${j}` });
            await tx.audit.append({ action: 'token.add', subject: `token:S${i}-${j}` });
          }),
        ),
      ),
    );
    // Outside a transaction too: each append is its own.
    await Promise.all(stations.map((s, i) => s.audit.append({ action: 'note', subject: `station:${i}` })));
    expect(await stations[0]!.audit.verify()).toEqual({ ok: true, rows: 64 });
    await sql(url, "UPDATE audit SET subject = 'token:forged' WHERE seq = 30");
    expect(await stations[1]!.audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 30 } });
  }, 30_000);
});
