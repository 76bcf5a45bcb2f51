// @module-tag subprocess
/**
 * The foundation's CLI contract, end to end through the built `bin/tokensmith`:
 * adding and showing tokens (codes against oathtool: foundation-codes.test.ts), the wrong master key,
 * audit tampering with the sqlite3 CLI (exit codes, --json and demo: foundation-exit-codes.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase32 } from '../../src/core/codecs.js';
import { assertBuilt, BIN, cliEnv, runCommand, tokensmith } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

/** --secret in argv prints one warning (visible to other users); nothing else goes to stderr. */
const ONLY_SECRET_WARNING = /^warning: --secret on the command line is visible to other users[^\n]*\n$/;
/** stderr without the lines that say what a first write created (the database, its key file). */
const withoutCreated = (stderr: string) =>
  stderr.replace(/^created (a new database|the master key file) [^\n]*\n/gm, '');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tokensmith-cli-test-'));
  dirs.push(d);
  return d;
}
const newKey = () => randomBytes(32).toString('hex');

beforeAll(() => assertBuilt());
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const TOKEN_KEYS = [
  'serial',
  'manufacturer',
  'model',
  'kind',
  'type',
  'algorithm',
  'digits',
  'period',
  'counter',
  'state',
  'driftSteps',
  'resource',
  'user',
];

describe('tokens add / show', () => {
  it('returns the secret only with --show-secret, in canonical base32, on stdout alone', async () => {
    const db = join(tempDir(), 't.db');
    const key = newKey();
    const seed = randomBytes(20);
    const typed = encodeBase32(seed, { padding: true })
      .toLowerCase()
      .replace(/(.{4})/g, '$1 ');
    const add = await tokensmith(
      ['--db', db, 'tokens', 'add', '7000001', '--secret', typed, '--manufacturer', 'Acme', '--model', 'c200'],
      { TOKENSMITH_MASTER_KEY: key },
    );
    expect(withoutCreated(add.stderr)).toMatch(ONLY_SECRET_WARNING);
    expect(add.code, add.stderr).toBe(0);
    expect(add.stdout).toMatch(/added 7000001: classic totp sha1 6 digits 30s, in_stock/);

    const shown = await tokensmith(['--db', db, '--json', 'tokens', 'show', '7000001', '--show-secret'], {
      TOKENSMITH_MASTER_KEY: key,
    });
    expect(shown.code, shown.stderr).toBe(0);
    const v = JSON.parse(shown.stdout);
    expect(v.secret).toBe(encodeBase32(seed));
    expect(Object.keys(v)).toEqual(expect.arrayContaining([...TOKEN_KEYS, 'secret']));
    expect(v).toMatchObject({
      serial: '7000001',
      manufacturer: 'Acme',
      model: 'c200',
      kind: 'classic',
      state: 'in_stock',
      driftSteps: 0,
      resource: null,
      user: null,
    });
    expect(shown.stderr).not.toContain(v.secret);

    const plain = await tokensmith(['--db', db, '--json', 'tokens', 'show', '7000001'], { TOKENSMITH_MASTER_KEY: key });
    expect(plain.code, plain.stderr).toBe(0);
    const p = JSON.parse(plain.stdout);
    expect(p).not.toHaveProperty('secret');
    expect(Object.keys(p)).toEqual(expect.arrayContaining(TOKEN_KEYS));
    expect(plain.stdout + plain.stderr).not.toContain(encodeBase32(seed));

    const list = await tokensmith(['--db', db, '--json', 'tokens', 'list'], { TOKENSMITH_MASTER_KEY: key });
    expect(JSON.parse(list.stdout).map((t: { serial: string }) => t.serial)).toEqual(['7000001']);
    expect(list.stdout).not.toContain(encodeBase32(seed));
  });

  it('creates the database and the key file 0600 (umask 000) and never writes the seed to disk in any encoding', async () => {
    const dir = tempDir();
    const db = join(dir, 'inv.db');
    const seed = randomBytes(32);
    const add = await runCommand(
      '/bin/sh',
      [
        '-c',
        'umask 000 && exec "$0" "$@"',
        process.execPath,
        BIN,
        '--db',
        db,
        'tokens',
        'add',
        'MODE-1',
        '--secret',
        encodeBase32(seed),
        '--algorithm',
        'sha256',
      ],
      {
        env: cliEnv(),
      },
    );
    expect(withoutCreated(add.stderr)).toMatch(ONLY_SECRET_WARNING);
    // The first write says what it created, once.
    expect(add.stderr).toContain(`created a new database at ${db}\n`);
    expect(add.stderr).toContain(`created the master key file ${db}.key`);
    expect(add.code, add.stderr).toBe(0);
    expect((statSync(db).mode & 0o777).toString(8)).toBe('600');
    expect((statSync(`${db}.key`).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(`${db}.key`, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);

    const needles = [
      seed,
      seed.toString('hex'),
      seed.toString('hex').toUpperCase(),
      encodeBase32(seed),
      encodeBase32(seed, { padding: true }),
      encodeBase32(seed).toLowerCase(),
      seed.toString('base64'),
      seed.toString('base64').replace(/=+$/, ''),
      seed.toString('base64url'),
    ].map((n) => (typeof n === 'string' ? Buffer.from(n) : n));
    for (const f of [db, `${db}-wal`]) {
      if (!existsSync(f)) continue; // the WAL is checkpointed and removed on a clean close
      const bytes = readFileSync(f);
      if (f === db) expect(bytes.includes(Buffer.from('MODE-1'))).toBe(true); // the scan sees clear text
      for (const n of needles) expect(bytes.includes(n), `${f} holds the seed`).toBe(false);
    }

    // The key file alone is enough to reopen: the seed comes back.
    const show = await tokensmith(['--db', db, '--json', 'tokens', 'show', 'MODE-1', '--show-secret']);
    expect(JSON.parse(show.stdout).secret).toBe(encodeBase32(seed));
  });

  it('handles several processes registering tokens into a fresh database at once', async () => {
    const db = join(tempDir(), 'race.db');
    const key = newKey();
    for (let round = 0; round < 1; round++) {
      const fresh = `${db}.${round}`;
      const serials = Array.from({ length: 6 }, (_, i) => `R${round}-${i}`);
      const runs = await Promise.all(
        serials.map((s) =>
          tokensmith(['--db', fresh, 'tokens', 'add', s, '--secret', 'JBSWY3DPEHPK3PXP'], {
            TOKENSMITH_MASTER_KEY: key,
          }),
        ),
      );
      for (const r of runs) expect(withoutCreated(r.stderr)).toMatch(ONLY_SECRET_WARNING);
      const list = await tokensmith(['--db', fresh, '--json', 'tokens', 'list'], { TOKENSMITH_MASTER_KEY: key });
      expect(JSON.parse(list.stdout)).toHaveLength(6);
      const verify = await tokensmith(['--db', fresh, 'audit', 'verify'], { TOKENSMITH_MASTER_KEY: key });
      expect(verify.code, verify.stderr).toBe(0);
    }
  });
});

describe('the wrong master key', () => {
  it('tokens show --show-secret and tokens code exit 4 saying the key is wrong; no code is printed', async () => {
    const db = join(tempDir(), 't.db');
    const add = await tokensmith(['--db', db, 'tokens', 'add', 'WK-1', '--secret', 'JBSWY3DPEHPK3PXP'], {
      TOKENSMITH_MASTER_KEY: newKey(),
    });
    expect(add.code, add.stderr).toBe(0);
    const wrong = { TOKENSMITH_MASTER_KEY: newKey() };
    for (const args of [
      ['tokens', 'show', 'WK-1', '--show-secret'],
      ['tokens', 'code', 'WK-1'],
      ['tokens', 'code', 'WK-1', '--at', '2026-01-01T00:00:00Z'],
    ]) {
      const r = await tokensmith(['--db', db, ...args], wrong);
      expect(r.code, args.join(' ')).toBe(4);
      expect(r.stderr).toMatch(/the master key is wrong/);
      expect(r.stdout).toBe('');
      const j = await tokensmith(['--db', db, '--json', ...args], wrong);
      expect(j.code, j.stderr).toBe(4);
      expect(JSON.parse(j.stdout).error).toMatchObject({ code: 'wrong-master-key', exitCode: 4 });
    }
    // Without --show-secret the token is still visible: showing metadata needs no key.
    const meta = await tokensmith(['--db', db, '--json', 'tokens', 'show', 'WK-1'], wrong);
    expect(meta.code, meta.stderr).toBe(0);
  });

  it('forgetting TOKENSMITH_MASTER_KEY exits 4 and writes no stray key file', async () => {
    const db = join(tempDir(), 't.db');
    expect(
      (
        await tokensmith(['--db', db, 'tokens', 'add', 'WK-3', '--secret', 'JBSWY3DPEHPK3PXP'], {
          TOKENSMITH_MASTER_KEY: newKey(),
        })
      ).code,
    ).toBe(0);
    const r = await tokensmith(['--db', db, 'tokens', 'code', 'WK-3']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/no master key .* TOKENSMITH_MASTER_KEY is not set/);
    expect(existsSync(`${db}.key`)).toBe(false);
  });

  it('a replaced key file gives the same exit 4 and names the key file', async () => {
    const db = join(tempDir(), 't.db');
    expect((await tokensmith(['--db', db, 'tokens', 'add', 'WK-2', '--secret', 'JBSWY3DPEHPK3PXP'])).code).toBe(0);
    writeFileSync(`${db}.key`, newKey() + '\n');
    const r = await tokensmith(['--db', db, 'tokens', 'code', 'WK-2']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/the master key is wrong/);
    expect(r.stderr).toContain(`${db}.key`);
  });
});

const noSqlite3 = toolsMissing('audit verify after tampering with sqlite3', 'sqlite3');

describe.skipIf(noSqlite3)(titled('audit verify after tampering with sqlite3', noSqlite3), () => {
  const key = newKey();
  let pristine: string;

  beforeAll(async () => {
    pristine = join(tempDir(), 'audit.db');
    for (const s of ['AU-1', 'AU-2', 'AU-3', 'AU-4']) {
      const r = await tokensmith(['--db', pristine, 'tokens', 'add', s, '--secret', 'JBSWY3DPEHPK3PXP'], {
        TOKENSMITH_MASTER_KEY: key,
      });
      expect(r.code, r.stderr).toBe(0);
    }
  });

  async function tampered(sql: string): Promise<string> {
    const copy = join(tempDir(), 'copy.db');
    writeFileSync(copy, readFileSync(pristine));
    const r = await runCommand('sqlite3', [copy, sql]);
    expect(r.code, r.stderr).toBe(0);
    return copy;
  }

  it('exits 0 on an untouched database and lists the rows', async () => {
    const v = await tokensmith(['--db', pristine, '--json', 'audit', 'verify'], { TOKENSMITH_MASTER_KEY: key });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toEqual({ ok: true, rows: 4 });
    const l = await tokensmith(['--db', pristine, '--json', 'audit', 'list'], { TOKENSMITH_MASTER_KEY: key });
    const rows = JSON.parse(l.stdout);
    expect(
      rows.map((r: { seq: number; action: string; subject: string }) => `${r.seq} ${r.action} ${r.subject}`),
    ).toEqual(['1 token.add token:AU-1', '2 token.add token:AU-2', '3 token.add token:AU-3', '4 token.add token:AU-4']);
    expect(Object.keys(rows[0])).toEqual(
      expect.arrayContaining(['seq', 'at', 'actor', 'action', 'subject', 'details', 'prevHash', 'hash']),
    );
  });

  it.each([
    { what: 'an edited row', sql: "UPDATE audit SET subject = 'token:EVIL' WHERE seq = 2", seq: 2 },
    { what: 'edited details', sql: `UPDATE audit SET details = '{"kind":"programmable"}' WHERE seq = 3`, seq: 3 },
    { what: 'a deleted middle row', sql: 'DELETE FROM audit WHERE seq = 2', seq: 2 },
    { what: 'a deleted last row', sql: 'DELETE FROM audit WHERE seq = 4', seq: 4 },
    {
      what: 'two swapped rows',
      sql: 'UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2;',
      seq: 2,
    },
  ])('$what makes audit verify exit non-zero naming row $seq', async ({ sql, seq }) => {
    const db = await tampered(sql);
    const text = await tokensmith(['--db', db, 'audit', 'verify'], { TOKENSMITH_MASTER_KEY: key });
    expect(text.code, text.stderr).toBe(4);
    expect(text.stdout + text.stderr).toContain(`audit chain broken at row ${seq}`);
    const json = await tokensmith(['--db', db, '--json', 'audit', 'verify'], { TOKENSMITH_MASTER_KEY: key });
    expect(json.code, json.stderr).toBe(4);
    // One JSON document on stdout, the documented shape.
    const j = JSON.parse(json.stdout);
    expect(j.ok).toBe(false);
    expect(j.firstBad.seq).toBe(seq);
  });
});
