/**
 * `device ... --model yubikey-oath` refuses what it cannot do before any
 * reader is opened (exit 2, the flag named): no PC/SC stack needed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, tokensmith } from './helpers.js';

beforeAll(() => assertBuilt());

describe('device --model yubikey-oath: usage errors name the flag', () => {
  it.each([
    [['device', 'erase', '--model', 'yubikey-oath', '--yes'], /--name/],
    [['device', 'erase', '--model', 'yubikey-oath', '--name', 'alice'], /confirm with --yes/],
    [['device', 'sync', '--model', 'yubikey-oath'], /yubikey-oath has no 'sync'/],
    [['device', 'flash', '--model', 'yubikey-oath', '--yes', '--digits', '9'], /--digits/],
    [['device', 'flash', '--model', 'yubikey-oath', '--yes', '--display-timeout', '60'], /--display-timeout is not for a YubiKey/],
    [['device', 'flash', '--model', 'yubikey-oath', '--yes', '--type', 'hotp', '--period', '60'], /--period/],
    [['device', 'flash', '--model', 'yubikey-oath'], /confirm with --yes/],
    [['device', 'flash', '--model', 'yubikey-oath', '--yes', '--batch', '2', '--seed', 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'], /--seed with --batch/],
  ])('%j: exit 2', async (args, message) => {
    const r = await tokensmith(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a --password-file that cannot be read is a data error naming the file (exit 4), before any reader', async () => {
    const r = await tokensmith(['device', 'profiles', '--model', 'yubikey-oath', '--password-file', '/nonexistent/oath.pw']);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/--password-file \/nonexistent\/oath.pw cannot be read \(ENOENT\)/);
  });
});
