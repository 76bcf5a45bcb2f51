// @module-tag subprocess
/**
 * The CLI's file edges: no writing through symbolic links, new files 0600,
 * -o onto an existing file only with --force, temporary files removed when an
 * export is interrupted, a key file open to others refused, and a warning for
 * secrets typed into argv.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase32 } from '../../src/core/codecs.js';
import { assertBuilt, BIN, cliEnv, tokensmith } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

let dir: string;
let db: string;
const key = randomBytes(32).toString('hex');
const ts = (...args: string[]) => tokensmith(['--db', db, ...args], { TOKENSMITH_MASTER_KEY: key });
const mode = (p: string) => statSync(p).mode & 0o777;

beforeAll(async () => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-files-'));
  db = join(dir, 't.db');
  writeFileSync(join(dir, 'seed.txt'), 'JBSWY3DPEHPK3PXP\n', { mode: 0o600 });
  for (const serial of ['F-1', 'F-2'])
    expect((await ts('tokens', 'add', serial, '--secret-file', join(dir, 'seed.txt'))).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('no writing through symbolic links; new files are 0600', () => {
  it('-o onto a symbolic link is refused (exit 5) and the file it points to is untouched', async () => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'keep me\n');
    const link = join(dir, 'link.csv');
    symlinkSync(victim, link);
    const r = await ts('export', '--format', 'oath-csv', '--plaintext', '--force', '-o', link);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toMatch(/symbolic link/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(victim, 'utf8')).toBe('keep me\n');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('a QR code whose file name is a symbolic link is refused and nothing is written through it', async () => {
    const qr = join(dir, 'qr-link');
    mkdirSync(qr);
    const victim = join(dir, 'victim.png');
    writeFileSync(victim, 'not a png\n');
    symlinkSync(victim, join(qr, 'F-1.png'));
    const r = await ts('export', '--format', 'otpauth', '--plaintext', '--qr', qr, '-o', join(dir, 'uris-link.txt'));
    expect(r.code, r.stderr).toBe(5);
    expect(readFileSync(victim, 'utf8')).toBe('not a png\n');
    expect(existsSync(join(dir, 'uris-link.txt'))).toBe(false);
  });

  it('a --qr folder that is a symbolic link is refused', async () => {
    const real = join(dir, 'qr-real');
    mkdirSync(real);
    symlinkSync(real, join(dir, 'qr-dirlink'));
    const r = await ts(
      'export',
      '--format',
      'otpauth',
      '--plaintext',
      '--qr',
      join(dir, 'qr-dirlink'),
      '-o',
      join(dir, 'uris-dirlink.txt'),
    );
    expect(r.code, r.stderr).toBe(5);
    expect(readdirSync(real)).toEqual([]);
  });

  it("a QR code written over an old 0644 one is a new 0600 file, not the old file's mode", async () => {
    const qr = join(dir, 'qr-old');
    mkdirSync(qr);
    writeFileSync(join(qr, 'F-1.png'), 'old');
    chmodSync(join(qr, 'F-1.png'), 0o644);
    const r = await ts('export', '--format', 'otpauth', '--plaintext', '--qr', qr, '-o', join(dir, 'uris-old.txt'));
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(qr, 'F-1.png'))).toBe(0o600);
    expect(readFileSync(join(qr, 'F-1.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('-o --force over an old 0644 file leaves a 0600 file', async () => {
    const out = join(dir, 'old.csv');
    writeFileSync(out, 'old\n');
    chmodSync(out, 0o644);
    const r = await ts('export', '--format', 'oath-csv', '--plaintext', '--force', '-o', out);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(out)).toBe(0o600);
    expect(readFileSync(out, 'utf8')).toContain('F-1');
  });
});

describe('-o onto an existing file', () => {
  it('without a terminal and without --force it is refused (exit 5) and the file is kept', async () => {
    const out = join(dir, 'kept.csv');
    writeFileSync(out, 'precious\n');
    const r = await ts('export', '--format', 'oath-csv', '--plaintext', '-o', out);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(`${out} exists; use --force`);
    expect(readFileSync(out, 'utf8')).toBe('precious\n');
  });

  // util-linux `script` gives the CLI a terminal, so the confirm prompt is the one a person sees.
  const noScript = toolsMissing('the prompt at a terminal', 'script');
  it.skipIf(noScript).each([
    ['n', 5, 'precious\n'],
    ['y', 0, null],
  ] as const)(
    titled('at a terminal it asks; answering %s exits %i', noScript),
    async (answer, code, kept) => {
      const out = join(dir, `asked-${answer}.csv`);
      writeFileSync(out, 'precious\n');
      const command = [process.execPath, BIN, '--db', db, 'export', '--format', 'oath-csv', '--plaintext', '-o', out]
        .map((a) => `'${a}'`)
        .join(' ');
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        env: cliEnv({ TOKENSMITH_MASTER_KEY: key }),
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let screen = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        screen += d;
        if (screen.includes('Write over it?') && !child.stdin.writableEnded) child.stdin.end(`${answer}\r`);
      });
      const exited = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(screen).toContain(`${out} exists. Write over it?`);
      expect(exited, screen).toBe(code);
      if (kept) expect(readFileSync(out, 'utf8')).toBe(kept);
      else expect(readFileSync(out, 'utf8')).toContain('F-1');
    },
    30_000,
  );

  it('--json gets the refusal as the error object', async () => {
    const out = join(dir, 'kept.csv');
    const r = await ts('--json', 'export', '--format', 'oath-csv', '--plaintext', '-o', out);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'exists', exitCode: 5 } });
  });
});

describe('an interrupted export leaves no temporary file', () => {
  let bigDb: string;
  beforeAll(async () => {
    bigDb = join(dir, 'big.db');
    const csv = join(dir, 'big.csv');
    const rows = ['upn,serial number,secret key,time interval,manufacturer,model'];
    for (let i = 0; i < 20000; i++) rows.push(`u${i}@x.example,BIG${i},${encodeBase32(randomBytes(20))},30,Acme,C200`);
    writeFileSync(csv, rows.join('\n') + '\n');
    const r = await tokensmith(['--db', bigDb, 'import', csv], { TOKENSMITH_MASTER_KEY: key });
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)(
    '%s during the export exits %i and removes the temporary file',
    async (signal, code) => {
      const outDir = join(dir, `out-${signal}`);
      mkdirSync(outDir);
      const child = spawn(
        process.execPath,
        [BIN, '--db', bigDb, 'export', '--format', 'pskc', '--plaintext', '-o', join(outDir, 'all.xml')],
        {
          env: cliEnv({ TOKENSMITH_MASTER_KEY: key }),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<number | null>((resolve) =>
        child.on('close', (c, sig) => resolve(c ?? (sig ? -1 : null))),
      );
      // Wait until the temporary file exists and has seeds in it, then interrupt.
      const deadline = Date.now() + 30_000;
      let temp: string | undefined;
      while (Date.now() < deadline && !temp) {
        temp = readdirSync(outDir).find((n) => n.endsWith('.tmp') && statSync(join(outDir, n)).size > 0);
        if (!temp) await new Promise((r) => setTimeout(r, 5));
      }
      expect(temp, 'the export never started writing').toBeDefined();
      child.kill(signal);
      expect(await exited, stderr).toBe(code);
      expect(readdirSync(outDir)).toEqual([]);
    },
    60_000,
  );
});

describe('the key file', () => {
  it('a key file readable by group or others is refused (exit 5) with the chmod that fixes it', async () => {
    const kdb = join(dir, 'k.db');
    expect((await tokensmith(['--db', kdb, 'tokens', 'add', 'K-1', '--secret-file', join(dir, 'seed.txt')])).code).toBe(
      0,
    );
    expect(mode(`${kdb}.key`)).toBe(0o600);
    chmodSync(`${kdb}.key`, 0o644);
    const r = await tokensmith(['--db', kdb, 'tokens', 'code', 'K-1']);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain(`chmod 600 ${kdb}.key`);
    chmodSync(`${kdb}.key`, 0o600);
    expect((await tokensmith(['--db', kdb, 'tokens', 'code', 'K-1'])).code).toBe(0);
  });
});

describe('secrets in argv', () => {
  it.each([
    [
      'export --password',
      ['export', '--format', 'pskc', '--password', 'argv pw', '--force', '-o', join(tmpdir(), 'unused')],
      '--password',
      '--password-file',
    ],
    [
      'export --key',
      ['export', '--format', 'pskc', '--key', '000102030405060708090a0b0c0d0e0f', '-o', '-'],
      '--key',
      '--key-file',
    ],
    ['tokens add --secret', ['tokens', 'add', 'ARGV-1', '--secret', 'JBSWY3DPEHPK3PXP'], '--secret', '--secret-file'],
  ])('%s warns that argv is visible to other users and names the alternative', async (_what, args, flag, instead) => {
    const r = await ts(...args.map((a) => (a === join(tmpdir(), 'unused') ? join(dir, 'argv.xml') : a)));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${flag} on the command line is visible to other users`);
    expect(r.stderr).toContain(instead);
    // The warning names the option, never its value.
    expect(r.stderr).not.toMatch(/argv pw|000102030405060708090a0b0c0d0e0f|JBSWY3DPEHPK3PXP/);
  });

  it('--key-file reads the key from a file, with no warning', async () => {
    writeFileSync(join(dir, 'k.hex'), '000102030405060708090a0b0c0d0e0f\n', { mode: 0o600 });
    const r = await ts('export', '--format', 'pskc', '--key-file', join(dir, 'k.hex'), '-o', join(dir, 'kf.xml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/visible to other users/);
    expect(readFileSync(join(dir, 'kf.xml'), 'utf8')).toContain('EncryptedValue');
  });
});
