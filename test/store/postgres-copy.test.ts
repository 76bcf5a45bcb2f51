// @module-tag postgres
/** db copy: a SQLite inventory moved to PostgreSQL keeps every row, sealed seed and audit row, and refuses a target that is not empty. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copySqliteToPostgres } from '../../src/store/postgres/copy.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { baseToken } from './helpers.js';

const skip = skipPgReason();
if (skip) it.skip(`skipped: ${skip}`, () => undefined);
let server: TestPostgres;
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-copy-'));
beforeAll(async () => {
  if (!skip) server = await startTestPostgres();
}, 60_000);
afterAll(async () => {
  if (!skip) await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

(skip ? describe.skip : describe)('db copy', () => {
  it('copies every token, sealed seed, assignment and audit row; the copy verifies, opens seeds with the same key, and goes on numbering', async () => {
    const env = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') };
    const path = join(dir, 'inv.db');
    const src = openSqliteStore({ path, env, operator: 'test' });
    const seeds = new Map<string, Buffer>();
    await src.transaction(async (tx) => {
      const r = await tx.resources.create({ name: 'Staff' });
      const u = await tx.users.create({ login: 'alice' });
      await tx.users.addToResource(u.id, r.id);
      for (let i = 0; i < 1500; i++) seeds.set(`CP${i}`, randomBytes(20));
      await tx.tokens.insertMany([...seeds].map(([serial, seed]) => ({ ...baseToken, serial, seed })));
      const t = (await tx.tokens.findOne('', 'CP7'))!;
      await tx.tokens.update(t.id, { locked: true, state: 'assigned' });
      await tx.assignments.create({ tokenId: t.id, userId: u.id, resourceId: r.id });
      for (let i = 0; i < 30; i++) await tx.audit.append({ action: 'test', subject: `n:${i}`, details: { i, s: 'ü' } });
    });
    await src.close();
    const url = await server.createDatabase();
    const report = await copySqliteToPostgres({ from: path, to: url, env, operator: 'test' });
    expect(report.tables).toMatchObject({
      tokens: 1500,
      audit: 30,
      assignments: 1,
      users: 1,
      resources: 1,
      user_resources: 1,
    });
    expect(report.audit).toEqual({ ok: true, rows: 30 });
    const pg = await openPostgresStore({ url, env, operator: 'test' });
    try {
      for await (const { token, seed, assignment } of pg.tokens.iterateWithSeeds()) {
        expect(seed!.equals(seeds.get(token.serial)!)).toBe(true);
        if (token.serial === 'CP7') expect([token.locked, assignment?.userId]).toEqual([true, 1]);
      }
      const added = await pg.tokens.insert({ ...baseToken, serial: 'AFTER' });
      expect(added.id).toBe(1501);
      await pg.audit.append({ action: 'after', subject: 'x' });
      expect(await pg.audit.verify()).toEqual({ ok: true, rows: 31 });
      await expect(copySqliteToPostgres({ from: path, to: url, env, operator: 'test' })).rejects.toMatchObject({
        exitCode: 4,
        code: 'target-not-empty',
      });
    } finally {
      await pg.close();
    }
    await expect(
      copySqliteToPostgres({ from: join(dir, 'missing.db'), to: url, env, operator: 'test' }),
    ).rejects.toMatchObject({ exitCode: 4, code: 'db-open' });
  }, 60_000);
});
