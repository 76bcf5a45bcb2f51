// @module-tag subprocess
/**
 * The foundation's CLI exit codes and --json contract through the built
 * `bin/tokensmith`: usage 2, data 4, error objects on stdout, results on
 * stdout alone, and the demo.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertBuilt, tokensmith } from './helpers.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-exit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const newKey = () => randomBytes(32).toString('hex');

describe('exit codes and --json', () => {
  const key = newKey();
  let db: string;
  beforeAll(async () => {
    db = join(dir, 'x.db');
    expect(
      (
        await tokensmith(['--db', db, 'tokens', 'add', 'EX-1', '--secret', 'JBSWY3DPEHPK3PXP'], {
          TOKENSMITH_MASTER_KEY: key,
        })
      ).code,
    ).toBe(0);
  });
  const ts = (...args: string[]) => tokensmith(['--db', db, ...args], { TOKENSMITH_MASTER_KEY: key });

  it.each([
    ['an unknown option', ['tokens', 'list', '--bogus']],
    ['an unknown global option', ['--bogus', 'tokens', 'list']],
    ['an unknown command', ['frobnicate']],
    ['a missing argument', ['tokens', 'show']],
    ['a missing required option', ['tokens', 'add', 'EX-2']],
    ['an unknown state', ['tokens', 'list', '--state', 'bogus']],
    ['an unreadable --at', ['tokens', 'code', 'EX-1', '--at', 'yesterday-ish']],
  ])('%s exits 2', async (_what, args) => {
    const r = await ts(...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toBe('');
    expect(r.stdout).toBe('');
  });

  it.each([
    ['an unknown option', ['tokens', 'list', '--bogus']],
    ['a missing argument', ['tokens', 'show']],
    ['an unknown state', ['tokens', 'list', '--state', 'bogus']],
  ])('%s with --json puts an error object with exit code 2 on stdout', async (_what, args) => {
    const r = await ts('--json', ...args);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error).toMatchObject({ exitCode: 2 });
  });

  it('not found exits 4 with an error object on stdout under --json', async () => {
    const r = await ts('tokens', 'show', 'NOPE');
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/no token with serial NOPE/);
    const j = await ts('--json', 'tokens', 'code', 'NOPE');
    expect(j.code, j.stderr).toBe(4);
    expect(JSON.parse(j.stdout)).toEqual({
      error: { code: 'not-found', message: 'no token with serial NOPE in the store', exitCode: 4 },
    });
    expect(j.stderr).toMatch(/no token with serial NOPE/);
  });

  it('bad base32 exits 4 naming the bad character and its position, without echoing the secret', async () => {
    const r = await ts('--json', 'tokens', 'add', 'EX-3', '--secret', 'JBSWY3DP1HPK3PXP');
    expect(r.code, r.stderr).toBe(4);
    const e = JSON.parse(r.stdout).error;
    expect(e.code, e.stderr).toBe('bad-base32');
    expect(e.message).toContain("'1' at position 9");
    expect(r.stdout + r.stderr).not.toContain('JBSWY3DP1HPK3PXP');
    expect((await ts('tokens', 'add', 'EX-3', '--secret', 'MZXW6Y')).code).toBe(4); // impossible length
  });

  it('out-of-range spec values and duplicates exit 4', async () => {
    expect((await ts('tokens', 'add', 'EX-4', '--secret', 'JBSWY3DPEHPK3PXP', '--digits', '12')).code).toBe(4);
    expect((await ts('tokens', 'add', 'EX-4', '--secret', 'JBSWY3DPEHPK3PXP', '--algorithm', 'md5')).code).toBe(4);
    const dup = await ts('tokens', 'add', 'EX-1', '--secret', 'JBSWY3DPEHPK3PXP');
    expect(dup.code, dup.stderr).toBe(4);
    expect(dup.stderr).toMatch(/already in the store/);
  });

  it('a malformed TOKENSMITH_MASTER_KEY exits 4 without echoing it', async () => {
    const r = await tokensmith(['--db', db, 'tokens', 'code', 'EX-1'], {
      TOKENSMITH_MASTER_KEY: 'too-short-to-be-a-key',
    });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/must be 32 bytes/);
    expect(r.stderr).not.toContain('too-short-to-be-a-key');
  });

  it('--json results go to stdout alone and parse as one document', async () => {
    for (const args of [
      ['tokens', 'list'],
      ['tokens', 'show', 'EX-1'],
      ['audit', 'list'],
      ['audit', 'verify'],
    ]) {
      const r = await ts('--json', ...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(() => JSON.parse(r.stdout)).not.toThrow();
      expect(r.stderr).toBe('');
    }
  });

  it('--version and --help exit 0', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const v = await tokensmith(['--version']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe(pkg.version);
    const h = await tokensmith(['--help']);
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toMatch(/Exit codes: 0 ok/);
  });
});

describe('demo', () => {
  it('exits 0, narrates on stderr, and reports every step ok as JSON on stdout', async () => {
    const r = await tokensmith(['--json', 'demo']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.steps.length).toBeGreaterThanOrEqual(3);
    for (const s of j.steps) expect(s.ok, s.title).toBe(true);
    expect(j.kept).toBe(false);
    expect(existsSync(j.dir)).toBe(false);
    expect(r.stderr).toMatch(/throw-away database/);
    const text = await tokensmith(['demo']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/demo finished: \d+ steps ok/);
  });
});
