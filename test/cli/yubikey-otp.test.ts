// @module-tag subprocess
/** `device flash --model yubikey-otp` refusals that come before any key is opened: each names its flag (exit 2), and never echoes a secret. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tokensmith } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-ykotp-cli-'));
const env = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: join(dir, 't.db') };
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const flash = (args: string[]) => tokensmith(['device', 'flash', '--model', 'yubikey-otp', ...args], env);

describe('device flash --model yubikey-otp, usage', () => {
  it.each([
    [['--yes'], /--slot: 1 or 2/],
    [['--slot', '3', '--yes'], /--slot: 1 or 2, not '3'/],
    [['--slot', '1', '--digits', '7', '--yes'], /--digits: 6 or 8/],
    [['--slot', '1', '--counter', '20', '--yes'], /--counter: .*multiple of 16/],
    [['--slot', '1', '--seed', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBV', '--yes'], /--seed: .*1 to 20 bytes, not 25/],
    [['--slot', '1'], /confirm with --yes/],
    [['--slot', '1', '--access-code', 'zz0011223344', '--yes'], /--access-code: an access code is 12 hex digits/],
    [['--slot', '1', '--access-code', '-', '--yes'], /no terminal to ask in/],
  ])('%j: exit 2, named', async (args, message) => {
    const r = await flash(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/zz0011223344/);
  });
});
