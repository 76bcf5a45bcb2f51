// @module-tag subprocess
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
    [
      ['device', 'flash', '--model', 'yubikey-oath', '--yes', '--display-timeout', '60'],
      /--display-timeout is not for a YubiKey/,
    ],
    [['device', 'flash', '--model', 'yubikey-oath', '--yes', '--type', 'hotp', '--period', '60'], /--period/],
    [['device', 'flash', '--model', 'yubikey-oath'], /confirm with --yes/],
    [
      [
        'device',
        'flash',
        '--model',
        'yubikey-oath',
        '--yes',
        '--batch',
        '2',
        '--seed',
        'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
      ],
      /--seed with --batch/,
    ],
    // One family, two models: a flag or verb of the other model is refused by name.
    [
      ['device', 'flash', '--model', 'yubikey-oath', '--yes', '--slot', '1'],
      /yubikey-oath has no --slot for device flash \(--slot is for yubikey-otp\)/,
    ],
    [
      ['device', 'flash', '--model', 'yubikey-otp', '--yes', '--slot', '1', '--issuer', 'Corp'],
      /yubikey-otp has no --issuer for device flash \(--issuer is for yubikey-oath\)/,
    ],
    [['device', 'info', '--model', 'yubikey-otp', '--password', 'x'], /yubikey-otp has no --password for device info/],
    [
      ['device', 'verify', '--model', 'yubikey-otp'],
      /yubikey-otp has no 'verify' \(yubikey-otp supports device info, device flash/,
    ],
    [
      ['device', 'erase', '--model', 'yubikey-oath', '--profile', '3', '--name', 'a', '--yes'],
      /yubikey-oath has no --profile for device erase \(--profile is for token2-molto2/,
    ],
    [
      ['device', 'flash', '--model', 'token2-card', '--yes', '--touch'],
      /token2-card has no --touch for device flash \(--touch is for yubikey/,
    ],
    [
      ['device', 'flash', '--model', 'yubikey-otp', '--yes', '--slot', '1', '--batch', '2', '--users', 'u.csv'],
      /yubikey-otp has no --users/,
    ],
  ])('%j: exit 2', async (args, message) => {
    const r = await tokensmith(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('a --password-file that cannot be read is a data error naming the file (exit 4), before any reader', async () => {
    const r = await tokensmith([
      'device',
      'profiles',
      '--model',
      'yubikey-oath',
      '--password-file',
      '/nonexistent/oath.pw',
    ]);
    expect(r.code, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/--password-file \/nonexistent\/oath.pw cannot be read \(ENOENT\)/);
  });
});
