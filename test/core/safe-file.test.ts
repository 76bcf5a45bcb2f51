/** The file writer every seed-holding file goes through: no links followed, new 0600 files, no temporary file left. */
import { afterAll, describe, expect, it } from 'vitest';
import {
  chmodSync,
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
import { SymlinkRefusedError, writeFileSafely, writeFileSafelySync } from '../../src/core/safe-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-safe-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  ['writeFileSafely', (p: string, d: string, mode?: number) => writeFileSafely(p, d, mode)],
  ['writeFileSafelySync', async (p: string, d: string, mode?: number) => writeFileSafelySync(p, d, mode)],
])('%s', (name, write) => {
  it('refuses a symbolic link at the destination and leaves its target alone', async () => {
    const victim = join(dir, `${name}-victim`);
    writeFileSync(victim, 'keep');
    const link = join(dir, `${name}-link`);
    symlinkSync(victim, link);
    await expect(write(link, 'seed')).rejects.toBeInstanceOf(SymlinkRefusedError);
    expect(readFileSync(victim, 'utf8')).toBe('keep');
  });

  it('replaces an old 0644 file with a new 0600 one instead of keeping the old mode', async () => {
    const target = join(dir, `${name}-old`);
    writeFileSync(target, 'old');
    chmodSync(target, 0o644);
    await write(target, 'new');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readFileSync(target, 'utf8')).toBe('new');
  });

  it('writes another mode when told (cassettes are 0644) and leaves no temporary file', async () => {
    const target = join(dir, `${name}-public`);
    await write(target, 'public', 0o644);
    expect(statSync(target).mode & 0o777).toBe(0o644 & ~process.umask());
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
