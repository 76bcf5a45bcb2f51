// @module-tag subprocess
/**
 * Hostile text at the CLI's edges: control and bidi characters and overlong
 * values are refused in arguments (exit 2) and in imported files (exit 4,
 * each bad record listed, nothing imported), and what an older version
 * already stored is printed escaped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../src/store/index.js';
import { validateSpec } from '../../src/core/spec.js';
import { assertBuilt, tokensmith } from './helpers.js';

// 20 bytes (RFC 4226's test seed): a shorter one would add a short-seed warning naming the good record too.
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
let dir: string;
let db: string;
const key = randomBytes(32).toString('hex');
const ts = (...args: string[]) => tokensmith(['--db', db, ...args], { TOKENSMITH_MASTER_KEY: key });

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-text-'));
  db = join(dir, 't.db');
  expect((await ts('resource', 'create', 'vpn')).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('arguments with control or bidi characters, or too long (exit 2)', () => {
  it.each([
    ['a right-to-left override in a serial', ['tokens', 'add', 'AB\u202eCD', '--secret', SECRET]],
    ['an escape sequence in a serial', ['tokens', 'add', 'AB\x1b[2JCD', '--secret', SECRET]],
    ['a DEL in a serial', ['tokens', 'add', 'AB\x7fCD', '--secret', SECRET]],
    ['a C1 control in a serial', ['tokens', 'add', 'AB\u009bCD', '--secret', SECRET]],
    [
      'a first-strong isolate in a manufacturer',
      ['tokens', 'add', 'OK-1', '--secret', SECRET, '--manufacturer', 'Acme\u2068'],
    ],
    ['an Arabic letter mark in a model', ['tokens', 'add', 'OK-2', '--secret', SECRET, '--model', 'C\u061c200']],
    ['a 129-character serial', ['tokens', 'add', 'S'.repeat(129), '--secret', SECRET]],
    ['a 65-character manufacturer', ['tokens', 'add', 'OK-3', '--secret', SECRET, '--manufacturer', 'M'.repeat(65)]],
    ['a left-to-right mark in a user name', ['user', 'add', 'alice', '--resource', 'vpn', '--name', 'Alice\u200e']],
    ['a 129-character user name', ['user', 'add', 'bob', '--resource', 'vpn', '--name', 'B'.repeat(129)]],
  ])('%s is refused', async (_what, args) => {
    const r = await ts(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/control or bidi characters|characters long: at most/);
    // The refusal quotes the value escaped, never the raw character.
    expect(r.stderr).not.toMatch(/[\x1b\x7f\u009b\u202e\u2068\u061c\u200e]/);
  });

  it('nothing refused reached the store', async () => {
    const r = await ts('--json', 'tokens', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([]);
  });
});

describe('imported files with control or bidi characters (exit 4, every bad record listed)', () => {
  it('an otpauth file whose label and issuer carry bidi overrides is refused record by record', async () => {
    const file = join(dir, 'uris.txt');
    writeFileSync(
      file,
      [
        `otpauth://totp/Good:ok@example.com?secret=${SECRET}&issuer=Good`,
        `otpauth://totp/Bank:alice%E2%80%AEmoc.elpmaxe@x?secret=${SECRET}&issuer=Bank`,
        `otpauth://totp/carol?secret=${SECRET}&issuer=Evil%E2%81%A6Corp`,
      ].join('\n') + '\n',
    );
    const r = await ts('--json', 'import', file, '--format', 'otpauth');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('uris.txt:2');
    expect(r.stderr).toContain('uris.txt:3');
    expect(r.stderr).not.toContain('uris.txt:1');
    expect(r.stderr).not.toMatch(/[\u202e\u2066]/);
    expect(JSON.parse((await ts('--json', 'tokens', 'list')).stdout)).toEqual([]);
  });

  it('a CSV whose serial holds a DEL or a C1 control is refused', async () => {
    const file = join(dir, 'entra.csv');
    writeFileSync(
      file,
      `upn,serial number,secret key,time interval,manufacturer,model\na@x.example,E\x7f1,${SECRET},30,Acme,C200\nb@x.example,E2,${SECRET},30,Ac\u0085me,C200\n`,
    );
    const r = await ts('import', file, '--format', 'entra-csv');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toContain('entra.csv:2');
    expect(r.stderr).toContain('entra.csv:3');
    expect(r.stderr).not.toMatch(/[\x7f\u0085]/);
  });
});

describe('what an older version stored is printed escaped', () => {
  beforeAll(async () => {
    // Written with the store API directly, as a version without these checks could have.
    const store = await openStore({ db, env: { TOKENSMITH_MASTER_KEY: key } });
    try {
      await store.tokens.insert({
        serial: 'OLD\x1b]0;pwned\x07-1',
        manufacturer: 'Ev\u202eil',
        model: null,
        kind: 'classic',
        ...validateSpec({}),
        state: 'in_stock',
        seed: Buffer.from('12345678901234567890'),
        resourceId: null,
      });
    } finally {
      await store.close();
    }
  });

  it('tokens list shows the control and bidi characters as escapes', async () => {
    const r = await ts('tokens', 'list');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x1b\x07\u202e]/);
    expect(r.stdout).toContain('OLD\\x1b]0;pwned\\x07-1');
    expect(r.stdout).toContain('Ev\\u202eil');
  });

  it('--json keeps the stored value exactly (JSON escapes it itself)', async () => {
    const r = await ts('--json', 'tokens', 'list');
    expect(r.stdout).not.toMatch(/[\x1b\x07\u202e]/);
    expect((JSON.parse(r.stdout) as { serial: string }[])[0]!.serial).toBe('OLD\x1b]0;pwned\x07-1');
  });

  it('an error quoting the serial escapes it too', async () => {
    const r = await ts('tokens', 'add', 'OLD\x1b]0;pwned\x07-1', '--secret', SECRET);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(/[\x1b\x07]/);
  });
});
