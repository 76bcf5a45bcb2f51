/**
 * Several stations at once: tokensmith processes importing overlapping seed
 * files and assigning the same tokens, all against one database, then every
 * invariant checked: serials unique, each import wholly in or wholly refused,
 * seeds as in their files, no token with two users, no user with two tokens
 * in a Resource, every refusal reported, and one unbroken audit chain.
 * PostgreSQL with 4 writers; one SQLite file (WAL, busy timeout) with 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import { startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { cli, seedOf, serialOf, writeSeedFile } from './helpers.js';

export interface Setup {
  name: string;
  skip: string | null;
  writers: number;
  perFile: number;
  tokens: number;
}
export function stationsSuite(setup: Setup): void {
  describe(`${setup.name}: ${setup.writers} stations at once`, () => {
    let server: TestPostgres | null = null;
    const dir = mkdtempSync(join(tmpdir(), `tokensmith-stations-${setup.name}-`));
    const key = randomBytes(32).toString('hex');
    let n = 0;
    const newDb = async () => (setup.name === 'postgres' ? server!.createDatabase() : join(dir, `inv-${++n}.db`));
    const envOf = (db: string) => ({ TOKENSMITH_DB: db, TOKENSMITH_MASTER_KEY: key, CI: '1' });
    const test = setup.skip ? it.skip : it;
    if (setup.skip) it.skip(`skipped: ${setup.skip}`, () => undefined);

    beforeAll(async () => {
      if (setup.name === 'postgres' && !setup.skip) server = await startTestPostgres();
    }, 60_000);
    afterAll(async () => {
      await server?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function withInventory<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
      const s = await openStore({ db, env: { TOKENSMITH_MASTER_KEY: key }, operator: 'check' });
      try {
        return await fn(s);
      } finally {
        await s.close();
      }
    }

    async function seedsMatchFiles(s: Store): Promise<Map<string, number | null>> {
      const batchOf = new Map<string, number | null>();
      for await (const { token, seed } of s.tokens.iterateWithSeeds()) {
        expect(batchOf.has(token.serial)).toBe(false);
        batchOf.set(token.serial, token.batchId);
        expect(seed?.toString('hex')).toBe(seedOf(token.serial).toString('hex'));
      }
      return batchOf;
    }

    /** Files k = 0..writers-1, each overlapping the next by half. */
    function overlappingFiles(tag: string): { path: string; serials: string[] }[] {
      const half = setup.perFile / 2;
      return Array.from({ length: setup.writers }, (_, k) => {
        const path = join(dir, `${tag}-${k}.csv`);
        return { path, serials: writeSeedFile(path, k * half, k * half + setup.perFile) };
      });
    }

    test('overlapping imports (--on-duplicate fail): each file wholly imported or wholly refused; the inventory is the union of the imported ones', async () => {
      const db = await newDb();
      const files = overlappingFiles(`fail-${n}`);
      const runs = await Promise.all(
        files.map((f) => cli(['--json', 'import', f.path, '--format', 'oath-csv'], envOf(db))),
      );
      const imported = files.filter((_, k) => runs[k]!.code === 0);
      runs.forEach((r, k) => {
        if (r.code === 0) expect(JSON.parse(r.stdout)).toMatchObject({ imported: setup.perFile, failed: 0 });
        else {
          expect(r.code, `${files[k]!.path}: ${r.stderr}`).toBe(4);
          expect(r.stderr).toMatch(/already in the store/);
        }
      });
      expect(imported.length).toBeGreaterThanOrEqual(Math.ceil(setup.writers / 2));
      const union = new Set(imported.flatMap((f) => f.serials));
      expect(union.size).toBe(imported.length * setup.perFile); // imported files never overlap
      await withInventory(db, async (s) => {
        const batchOf = await seedsMatchFiles(s);
        expect(new Set(batchOf.keys())).toEqual(union);
        for (const f of imported) expect(new Set(f.serials.map((x) => batchOf.get(x))).size).toBe(1); // one batch per file
      });
      const verify = await cli(['--json', 'audit', 'verify'], envOf(db));
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toEqual({ ok: true, rows: imported.length });
    }, 120_000);

    test('overlapping imports (--on-duplicate skip): every file lands; the inventory is exactly the union of all serials', async () => {
      const db = await newDb();
      const files = overlappingFiles(`skip-${n}`);
      const runs = await Promise.all(
        files.map((f) =>
          cli(['--json', 'import', f.path, '--format', 'oath-csv', '--on-duplicate', 'skip'], envOf(db)),
        ),
      );
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const union = new Set(files.flatMap((f) => f.serials));
      const totalImported = runs.reduce((a, r) => a + (JSON.parse(r.stdout) as { imported: number }).imported, 0);
      expect(totalImported).toBe(union.size);
      await withInventory(db, async (s) => expect(new Set((await seedsMatchFiles(s)).keys())).toEqual(union));
      expect((await cli(['audit', 'verify'], envOf(db))).code).toBe(0);
    }, 120_000);

    test('assigning the same tokens to different users at once: no token has two users, no user two tokens, every refusal reported', async () => {
      const db = await newDb();
      const env = envOf(db);
      const T = setup.tokens;
      const singles = 3;
      expect((await cli(['resource', 'create', 'Staff'], env)).code).toBe(0);
      const stock = join(dir, `stock-${n}.csv`);
      const serials = writeSeedFile(stock, 0, T + singles);
      expect((await cli(['import', stock, '--format', 'oath-csv', '--resource', 'Staff'], env)).code).toBe(0);
      const users = join(dir, `users-${n}.csv`);
      const logins = (p: number) => Array.from({ length: T }, (_, i) => `u${p}-${i}`);
      const singleLogins = (p: number) => Array.from({ length: singles }, (_, i) => `s${p}-${i}`);
      const all = Array.from({ length: setup.writers }, (_, p) => [...logins(p), ...singleLogins(p)]).flat();
      writeFileSync(users, ['login,resources', ...all.map((l) => `${l},Staff`)].join('\n') + '\n');
      const ui = await cli(['user', 'import', users], env);
      expect(ui.code, ui.stderr).toBe(0);

      // Bulk: every station assigns all T tokens, each to its own users, all or nothing.
      const csvs = Array.from({ length: setup.writers }, (_, p) => {
        const path = join(dir, `assign-${n}-${p}.csv`);
        writeFileSync(
          path,
          ['serial,login,resource', ...serials.slice(0, T).map((s, i) => `${s},${logins(p)[i]},Staff`)].join('\n') +
            '\n',
        );
        return path;
      });
      // Singles: every station assigns the same few tokens one command at a time.
      const singleRuns = async (p: number) => {
        const out: { serial: string; code: number; stderr: string }[] = [];
        for (let i = 0; i < singles; i++) {
          const serial = serialOf(T + i);
          const r = await cli(['assign', serial, singleLogins(p)[i]!, '--resource', 'Staff'], env);
          out.push({ serial, code: r.code, stderr: r.stderr });
        }
        return out;
      };
      const [bulk, single] = await Promise.all([
        Promise.all(csvs.map((c) => cli(['--json', 'assign', '--from', c], env))),
        Promise.all(Array.from({ length: setup.writers }, (_, p) => singleRuns(p))),
      ]);
      expect(bulk.filter((r) => r.code === 0)).toHaveLength(1);
      for (const r of bulk.filter((x) => x.code !== 0)) {
        expect(r.code, r.stderr).toBe(4);
        // Each refused line is named on stderr: the token's other user, or the assignment conflict.
        expect(
          r.stderr
            .split('\n')
            .filter((l) => /^assign-\d+-\d+\.csv:\d+: (refused|the token already has a user)/.test(l)),
        ).toHaveLength(T);
      }
      for (let i = 0; i < singles; i++) {
        const tries = single.map((runs) => runs[i]!);
        expect(
          tries.filter((t) => t.code === 0),
          `token ${serialOf(T + i)}`,
        ).toHaveLength(1);
        for (const t of tries.filter((x) => x.code !== 0)) {
          expect(t.code, t.stderr).toBe(5);
          expect(t.stderr).toMatch(/refused|already has a user/);
        }
      }
      await withInventory(db, async (s) => {
        const as = await s.assignments.list();
        expect(as).toHaveLength(T + singles);
        expect(new Set(as.map((a) => a.tokenId)).size).toBe(as.length);
        expect(new Set(as.map((a) => `${a.userId}:${a.resourceId}`)).size).toBe(as.length);
        expect(await s.tokens.count({ state: 'assigned' })).toBe(T + singles);
      });
      const verify = await cli(['--json', 'audit', 'verify'], env);
      expect(verify.code, verify.stderr).toBe(0);
    }, 180_000);
  });
}
