// @module-tag subprocess
/** The export and enrollment commands through the built CLI: flags, JSON, exit codes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBuilt, tokensmith } from '../cli/helpers.js';
import { MASTER_KEY, pskc2csv, pskctoolValidate, resourceWithUsers, tempStore, type TestStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

let ts: TestStore;
const run = (args: string[]) => tokensmith(['--db', ts.path, ...args], { TOKENSMITH_MASTER_KEY: MASTER_KEY });

beforeAll(async () => {
  assertBuilt();
  ts = await tempStore();
  await resourceWithUsers(ts.store, 'vpn', 3);
  await ts.store.close(); // the CLI opens the database itself
  for (const args of [
    ['X-TOTP', '--secret', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '--manufacturer', 'Acme'],
    ['X-HOTP', '--secret', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ', '--type', 'hotp', '--counter', '9'],
    [
      '=X-SHA256',
      '--secret',
      'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',
      '--algorithm',
      'sha256',
      '--digits',
      '8',
    ],
  ]) {
    const r = await run(['tokens', 'add', ...args]);
    expect(r.code, r.stderr).toBe(0);
  }
});
afterAll(async () => ts.close());

const missing = toolsMissing('tokensmith export against pskctool and pskc2csv', 'pskctool', 'pskc2csv');

describe.skipIf(missing)(titled('tokensmith export', missing), () => {
  it('pskc --json prints exactly the contract keys; the file validates and opens with the password', async () => {
    const out = join(ts.dir, 'all.xml');
    const r = await run(['--json', 'export', '--format', 'pskc', '--password', 'cli pw', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['format', 'file', 'exported', 'skipped', 'drifted', 'encrypted']);
    expect(j).toEqual({ format: 'pskc', file: out, exported: 6, skipped: [], drifted: [], encrypted: true });
    expect(await pskctoolValidate(out)).toBe('OK');
    const rows = await pskc2csv(out, ['-p', 'cli pw']);
    expect(rows.find((x) => x.serial === 'X-HOTP')).toMatchObject({
      secret: Buffer.from('12345678901234567890').toString('hex'),
      counter: '9',
    });
  });

  it('entra-csv without --plaintext exits 2 and writes nothing; with it, lists what it left out', async () => {
    const out = join(ts.dir, 'entra.csv');
    const refused = await run(['export', '--format', 'entra-csv', '-o', out]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/--plaintext/);
    expect(existsSync(out)).toBe(false);
    const r = await run(['--json', 'export', '--format', 'entra-csv', '--plaintext', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.encrypted).toBe(false);
    expect(j.skipped.map((s: { serial: string }) => s.serial).sort()).toEqual([
      '=X-SHA256',
      'X-HOTP',
      'X-TOTP',
      'vpn-T3',
    ]);
    expect(r.stderr).toMatch(/warning: .*in the clear/);
    expect(readFileSync(out, 'utf8').split('\r\n')[0]).toBe(
      'upn,serial number,secret key,time interval,manufacturer,model',
    );
  });

  it('--state takes a comma list, in export and in tokens list; an unknown state in it is exit 2', async () => {
    const out = join(ts.dir, 'assigned.csv');
    const r = await run([
      '--json',
      'export',
      '--format',
      'entra-csv',
      '--plaintext',
      '--state',
      'assigned,enrolled',
      '-o',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exported: 2, skipped: [] });
    const list = await run(['--json', 'tokens', 'list', '--state', 'in_stock,assigned']);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).length).toBe(6);
    const bad = await run(['tokens', 'list', '--state', 'assigned,gone']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown state 'gone'/);
  });

  it('without a terminal, a re-export replaces its own earlier file; an unrelated file still needs --force', async () => {
    const out = join(ts.dir, 'again.csv');
    const args = ['export', '--format', 'entra-csv', '--plaintext', '--state', 'assigned', '-o', out];
    expect((await run(args)).code).toBe(0);
    writeFileSync(out, 'stale\r\n');
    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^upn,serial number/);
    const other = join(ts.dir, 'notes.csv');
    writeFileSync(other, 'my own notes\n');
    const refused = await run([...args.slice(0, -1), other]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/exists; use --force/);
    expect(readFileSync(other, 'utf8')).toBe('my own notes\n');
    // Another format's earlier file at that path is unrelated too.
    const asThales = await run(['export', '--format', 'thales-csv', '--plaintext', '-o', out]);
    expect(asThales.code).toBe(5);
  });

  it('counts the tokens left out per reason; --verbose lists each', async () => {
    const out = join(ts.dir, 'counted.csv');
    const r = await run(['export', '--format', 'entra-csv', '--plaintext', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/left out 2 tokens: not assigned to a user.*\(--verbose lists them\)/);
    expect(r.stderr).not.toMatch(/left out vpn-T3/);
    const v = await run(['export', '--format', 'entra-csv', '--plaintext', '--verbose', '-o', out]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stderr).toMatch(/left out vpn-T3: not assigned/);
    expect(v.stderr).toMatch(/left out X-TOTP: not assigned/);
  });

  it('an empty selection exits 4 with a JSON error and no file', async () => {
    const out = join(ts.dir, 'none.xml');
    const r = await run(['--json', 'export', '--format', 'pskc', '--password', 'x', '--state', 'retired', '-o', out]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'empty-selection', exitCode: 4 });
    expect(existsSync(out)).toBe(false);
  });

  it('-o - writes encrypted PSKC to stdout', async () => {
    const r = await run([
      'export',
      '--format',
      'pskc',
      '--key',
      '000102030405060708090a0b0c0d0e0f',
      '--state',
      'in_stock',
      '-o',
      '-',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^<\?xml/);
    expect(r.stdout).toContain('<ds:KeyName>Pre-shared-key</ds:KeyName>');
  });
});

describe('tokensmith export --format usersfile from cron (no terminal)', () => {
  it("writes over its users file with no --force, and a lost token's line is gone after the re-export", async () => {
    const out = join(ts.dir, 'users.oath');
    const args = ['export', '--format', 'usersfile', '--plaintext', '--resource', 'vpn', '-o', out];
    const first = await run(args);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/\tuser2@example\.test\t/);
    expect((await run(['tokens', 'lost', 'vpn-T2'])).code).toBe(0);
    const again = await run(args);
    expect(again.code, again.stderr).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/user2@example\.test/);
    expect(text).not.toContain('vpn-T2');
    expect(text).toMatch(/\tuser1@example\.test\t/);
    expect(again.stderr).toMatch(/left out vpn-T2: state lost/);
    expect(again.stderr).toMatch(/dropped 1 line/);
  });

  it('a users file pam_oath reads that tokensmith did not write (no audit row, no banner) is replaced too; other files are not', async () => {
    const out = join(ts.dir, 'handmade.oath');
    writeFileSync(out, 'HOTP/T30/6\tuser1@example.test\t-\t3132333435363738393031323334353637383930\n');
    const r = await run(['export', '--format', 'usersfile', '--plaintext', '--resource', 'vpn', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    const other = join(ts.dir, 'passwd');
    writeFileSync(other, 'root:x:0:0:root:/root:/bin/bash\n');
    const refused = await run(['export', '--format', 'usersfile', '--plaintext', '--resource', 'vpn', '-o', other]);
    expect(refused.code).toBe(5);
    expect(readFileSync(other, 'utf8')).toMatch(/^root:x/);
  });
});

describe('tokensmith enrollment inspect', () => {
  it('inspects a 3-user, 3-token package cleanly, and fails on the digest (exit 4) after one flipped byte', async () => {
    const pkg = join(ts.dir, 'vpn.enroll');
    const e = await run([
      '--json',
      'export',
      '--format',
      'enrollment',
      '--resource',
      'vpn',
      '--password',
      'pkg',
      '-o',
      pkg,
    ]);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ format: 'enrollment', exported: 3, encrypted: true });
    const ok = await run(['--json', 'enrollment', 'inspect', pkg]);
    expect(ok.code, ok.stderr).toBe(0);
    const s = JSON.parse(ok.stdout);
    expect(s).toMatchObject({ digestOk: true, version: 1, resource: { name: 'vpn' } });
    expect(s.users).toHaveLength(3);
    expect(s.tokens).toHaveLength(3);
    expect(ok.stdout).not.toMatch(/scrypt|CipherValue/);
    const text = await run(['enrollment', 'inspect', pkg]);
    expect(text.stdout).toMatch(/digest OK/);
    const bytes = readFileSync(pkg);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x80;
    const bad = join(ts.dir, 'bad.enroll');
    writeFileSync(bad, bytes);
    const r = await run(['--json', 'enrollment', 'inspect', bad]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).error.code).toBe('digest-mismatch');
    expect(r.stderr).toMatch(/SHA-256 digest does not match/);
  });
});
