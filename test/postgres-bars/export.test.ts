// @module-tag postgres
/**
 * Issue 6's export bars on PostgreSQL (TOKENSMITH_DB=postgres://...): PSKC of
 * every kind (password, each pre-shared-key cipher, plaintext) passes
 * `pskctool --validate` and `pskc2csv` reads back the stored secrets; the
 * entra-csv header and refusals; an enrollment package inspects and fails
 * after one flipped byte. The same tokens also go into a SQLite file, and
 * what the two backends export is compared ("as it does with a file").
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { addTokens, EVERY_KIND, pskc2csv, pskctoolValidate, resourceWithUsers } from '../export/helpers.js';
import { PG_SKIP, PgCli, usePostgres } from './helpers.js';
import { toolsMissing } from '../helpers/tools.js';
import { toHex as hex } from '../helpers/bytes.js';

usePostgres();
const noTools = toolsMissing('the PostgreSQL export against pskctool and pskc2csv', 'pskctool', 'pskc2csv');
const d = PG_SKIP || noTools ? describe.skip : describe;
if (PG_SKIP || noTools) it.skip(`skipped: ${PG_SKIP || noTools}`, () => undefined);

let s: PgCli;
let sqliteDir: string;
let sqlitePath: string;

/** The same tokens, users and assignments, made through the store API, in the database at `db`. */
async function fill(db: string, env: NodeJS.ProcessEnv): Promise<void> {
  const store = await openStore({ db, env, operator: 'test' });
  try {
    await addTokens(store, EVERY_KIND);
    await resourceWithUsers(store, 'vpn', 3);
  } finally {
    await store.close();
  }
}

/** Runs the CLI on the SQLite twin (same master key, --db path) for comparison. */
const onSqlite = (args: string[]) => s.run(['--db', sqlitePath, ...args]);

beforeAll(async () => {
  if (PG_SKIP) return;
  s = await PgCli.create();
  sqliteDir = mkdtempSync(join(tmpdir(), 'tokensmith-pgbars-sqlite-'));
  sqlitePath = join(sqliteDir, 't.db');
  await fill(s.db, s.env);
  await fill(sqlitePath, s.env);
}, 60_000);
afterAll(() => {
  s?.cleanup();
  if (sqliteDir) rmSync(sqliteDir, { recursive: true, force: true });
});

d('export bars on PostgreSQL (issue 6)', () => {
  it('PSKC with a password: pskctool says OK, pskc2csv -p reads back every stored secret and parameter, as from the SQLite file', async () => {
    const out = join(s.dir, 'all.xml');
    const j = await s.json(['export', '--format', 'pskc', '--password', 'pg pw', '-o', out]);
    expect(j).toEqual({ format: 'pskc', file: out, exported: 8, skipped: [], drifted: [], encrypted: true });
    expect(await pskctoolValidate(out)).toBe('OK');
    const rows = await pskc2csv(out, ['-p', 'pg pw']);
    expect(rows).toHaveLength(8);
    for (const t of EVERY_KIND) {
      const row = rows.find((x) => x.serial === t.serial)!;
      expect(row.secret, t.serial).toBe(hex(t.seed!));
      expect(row.algorithm).toBe(`urn:ietf:params:xml:ns:keyprov:pskc:${t.type}`);
      expect(row.response_length).toBe(String(t.digits));
      expect(row.algorithm_suite).toBe(t.algorithm);
      expect(row.manufacturer).toBe(t.manufacturer);
      if (t.type === 'totp') {
        expect(row.time_interval).toBe(String(t.period));
        expect(row.time_drift).toBe(String(t.driftSteps ?? 0));
      } else expect(row.counter).toBe(String(t.counter));
    }
    const twin = join(s.dir, 'twin.xml');
    const r = await onSqlite(['export', '--format', 'pskc', '--password', 'pg pw', '-o', twin]);
    expect(r.code, r.stderr).toBe(0);
    const byKey = (xs: Record<string, string>[]) => xs.map((x) => JSON.stringify(x)).sort();
    expect(byKey(rows)).toEqual(byKey(await pskc2csv(twin, ['-p', 'pg pw'])));
  });

  for (const [cipher, keyHex] of [
    ['aes128-cbc', '000102030405060708090a0b0c0d0e0f'],
    ['aes256-cbc', '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'],
    ['tripledes-cbc', '000102030405060708090a0b0c0d0e0f1011121314151617'],
    ['kw-aes128', '000102030405060708090a0b0c0d0e0f'],
  ] as const) {
    it(`PSKC with a pre-shared key (${cipher}, hmac-sha256): OK, and pskc2csv --secret reads the stored seeds`, async () => {
      const out = join(s.dir, `${cipher}.xml`);
      const j = await s.json([
        'export',
        '--format',
        'pskc',
        '--key',
        keyHex,
        '--cipher',
        cipher,
        '--mac',
        'hmac-sha256',
        '-o',
        out,
      ]);
      expect(j).toMatchObject({ exported: 8, encrypted: true });
      expect(await pskctoolValidate(out)).toBe('OK');
      const rows = await pskc2csv(out, ['--secret', keyHex]);
      const secrets = Object.fromEntries(rows.map((x) => [x.serial, x.secret]));
      for (const t of EVERY_KIND) expect(secrets[t.serial], t.serial).toBe(hex(t.seed!));
      expect(Object.keys(secrets)).toHaveLength(8);
    });
  }

  it('PSKC --plaintext: OK, and pskc2csv reads the stored seeds', async () => {
    const out = join(s.dir, 'plain.xml');
    expect(await s.json(['export', '--format', 'pskc', '--plaintext', '-o', out])).toMatchObject({
      exported: 8,
      encrypted: false,
    });
    expect(await pskctoolValidate(out)).toBe('OK');
    const secrets = Object.fromEntries((await pskc2csv(out, [])).map((x) => [x.serial, x.secret]));
    for (const t of EVERY_KIND) expect(secrets[t.serial], t.serial).toBe(hex(t.seed!));
  });

  it('entra-csv: refused (exit 2, no file) without --plaintext; with it, the Entra header, the same skipped list and the same bytes as from the SQLite file', async () => {
    const out = join(s.dir, 'entra.csv');
    const refused = await s.run(['export', '--format', 'entra-csv', '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--plaintext/);
    expect(existsSync(out)).toBe(false);
    const r = await s.run(['--json', 'export', '--format', 'entra-csv', '--plaintext', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.encrypted).toBe(false);
    expect(j.skipped.map((x: { serial: string }) => x.serial)).toContain('K-HOTP');
    expect(r.stderr).toMatch(/warning: .*in the clear/);
    const text = readFileSync(out, 'utf8');
    expect(text.split('\r\n')[0]).toBe('upn,serial number,secret key,time interval,manufacturer,model');
    // Stock tokens have no UPN: only the assigned ones make rows.
    expect(text).toContain('vpn-T1');
    expect(j.skipped.map((x: { serial: string }) => x.serial)).toContain('K-SHA1-6-30');
    // A comma list of states, filtered in PostgreSQL.
    const listed = await s.json([
      'export',
      '--format',
      'entra-csv',
      '--plaintext',
      '--state',
      'assigned,enrolled',
      '-o',
      join(s.dir, 'entra-states.csv'),
    ]);
    expect(listed).toMatchObject({ exported: 2, skipped: [] });
    const twin = join(s.dir, 'entra-twin.csv');
    const t = await onSqlite(['--json', 'export', '--format', 'entra-csv', '--plaintext', '-o', twin]);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).skipped).toEqual(j.skipped);
    expect(readFileSync(twin, 'utf8')).toBe(text);
  });

  it('an empty selection exits 4 with no file', async () => {
    const out = join(s.dir, 'none.xml');
    const r = await s.run(['--json', 'export', '--format', 'pskc', '--password', 'x', '--state', 'retired', '-o', out]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'empty-selection', exitCode: 4 });
    expect(existsSync(out)).toBe(false);
  });

  it('an enrollment package inspects cleanly (3 users, 3 tokens) and fails on the digest (exit 4) after one flipped byte', async () => {
    const pkg = join(s.dir, 'vpn.enroll');
    expect(
      await s.json(['export', '--format', 'enrollment', '--resource', 'vpn', '--password', 'pkg', '-o', pkg]),
    ).toMatchObject({ format: 'enrollment', exported: 3, encrypted: true });
    const v = await s.json(['enrollment', 'inspect', pkg]);
    expect(v).toMatchObject({ digestOk: true, version: 1, resource: { name: 'vpn' } });
    expect(v.users).toHaveLength(3);
    expect(v.tokens).toHaveLength(3);
    const bytes = readFileSync(pkg);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x80;
    const bad = join(s.dir, 'bad.enroll');
    writeFileSync(bad, bytes);
    const r = await s.run(['--json', 'enrollment', 'inspect', bad]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).error.code).toBe('digest-mismatch');
    expect(r.stderr).toMatch(/SHA-256 digest does not match/);
  });

  it('every export wrote an audit row, and audit verify passes', async () => {
    const rows: { action: string }[] = await s.json(['audit', 'list']);
    expect(rows.filter((r) => /export/.test(r.action)).length).toBeGreaterThanOrEqual(8);
    expect(await s.json(['audit', 'verify'])).toMatchObject({ ok: true });
  });
});
