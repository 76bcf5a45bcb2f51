// @module-tag subprocess
/**
 * Issue 26 items 8 and 9 through the built CLI: a mistyped --db is refused by
 * reading commands and leaves nothing behind; the first write says what it
 * created; TOKENSMITH_MASTER_KEY_FILE works for SQLite; `audit verify` without
 * the key checks the chain, says the anchor was not checked, and its --json is
 * the {"ok": ...} form of docs/cli.md on success and on a broken chain.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, tokensmith } from './helpers.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tokensmith-admin-store-'));
  dirs.push(d);
  return d;
}
beforeAll(() => assertBuilt());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('a mistyped --db', () => {
  it('is refused by reading commands (exit 4 no-database) and creates no database and no key', async () => {
    const dir = tempDir();
    const typo = join(dir, 'tokensmtih.db');
    for (const args of [
      ['tokens', 'list'],
      ['tokens', 'show', '123'],
      ['audit', 'list'],
      ['audit', 'verify'],
      ['user', 'list'],
      ['resource', 'list'],
      ['tokens', 'lost', '123'],
    ]) {
      const r = await tokensmith(['--db', typo, '--json', ...args]);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(4);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'no-database' });
      expect(r.stderr).toContain(`no database at ${typo}: nothing was created`);
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a writing command creates it and says so the first time only', async () => {
    const db = join(tempDir(), 'new.db');
    const first = await tokensmith(['--db', db, 'resource', 'create', 'vpn']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`created a new database at ${db}`);
    expect(first.stderr).toContain(`created the master key file ${db}.key`);
    const second = await tokensmith(['--db', db, 'resource', 'create', 'wiki']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).not.toContain('created');
    const list = await tokensmith(['--db', db, '--json', 'resource', 'list']);
    expect(JSON.parse(list.stdout).map((r: { name: string }) => r.name)).toEqual(['vpn', 'wiki']);
  });
});

describe('TOKENSMITH_MASTER_KEY_FILE and audit verify without the key', () => {
  it('puts the key where the variable says, and verify works without it', async () => {
    const dir = tempDir();
    const db = join(dir, 'inv.db');
    const keyFile = join(dir, 'keys', 'master.key');
    mkdirSync(join(dir, 'keys'), { mode: 0o700 });
    const env = { TOKENSMITH_MASTER_KEY_FILE: keyFile };
    const add = await tokensmith(['--db', db, 'tokens', 'add', 'KF-1', '--secret', 'JBSWY3DPEHPK3PXP'], env);
    expect(add.code, add.stderr).toBe(0);
    expect(existsSync(keyFile)).toBe(true);
    expect(existsSync(`${db}.key`)).toBe(false);
    const shown = await tokensmith(['--db', db, '--json', 'tokens', 'show', 'KF-1', '--show-secret'], env);
    expect(JSON.parse(shown.stdout).secret).toBe('JBSWY3DPEHPK3PXP');
    const without = await tokensmith(['--db', db, '--json', 'tokens', 'show', 'KF-1', '--show-secret']);
    expect(JSON.parse(without.stdout).error.code).toBe('missing-master-key');

    renameSync(keyFile, `${keyFile}.away`);
    const v = await tokensmith(['--db', db, '--json', 'audit', 'verify'], env);
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, rows: 1, anchorChecked: false });
    expect(v.stderr).toMatch(/warning: the anchor was not checked \(no master key is at hand\)/);
    expect(existsSync(keyFile)).toBe(false);
    const text = await tokensmith(['--db', db, 'audit', 'verify']);
    expect(text.stdout).toBe('audit chain intact: 1 rows (the anchor was not checked)\n');

    const raw = new Database(db);
    raw.prepare("UPDATE audit SET actor = 'mallory' WHERE seq = 1").run();
    raw.close();
    const broken = await tokensmith(['--db', db, '--json', 'audit', 'verify'], env);
    expect(broken.code).toBe(4);
    expect(JSON.parse(broken.stdout)).toEqual({
      ok: false,
      rows: 1,
      firstBad: { seq: 1, problem: 'row 1 was edited: its content does not match its hash' },
    });
  });
});
