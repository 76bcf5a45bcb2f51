// @module-tag subprocess
/**
 * Issue 14 through the built CLI: DPW codes equal LinOTP's vectors and no export carries
 * them; --type/--algorithm/--digits/--period fill what a file leaves out and are refused
 * where it says otherwise; otpauth accounts under two issuers; repeated CSV rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CliStore, fixture } from './helpers.js';

let s: CliStore;
beforeEach(() => {
  s = new CliStore();
  // LinOTP takes the day in the server's time zone; the vectors are given for a fixed day.
  s.env.TZ = 'UTC';
});
afterEach(() => s.cleanup());

function file(name: string, content: string): string {
  const path = join(s.dir, name);
  writeFileSync(path, content);
  return path;
}

describe('DPW (LinOTP day password)', () => {
  it('tokens code --at equals LinOTP getotp/getmultiotp vectors (test_getotp.py, key 1234...1234)', async () => {
    const days = file('days.txt', 'dpw1\t12341234123412341234123412341234\n');
    expect(await s.json(['import', days])).toMatchObject({ imported: 1, failed: 0 });
    expect(await s.json(['tokens', 'show', 'dpw1'])).toMatchObject({ type: 'dpw', digits: 6 });
    const codes = [];
    for (const at of ['2012-05-16T09:00:52Z', '2012-05-17T00:00:01Z', '2012-05-18T23:59:59Z'])
      codes.push((await s.json(['tokens', 'code', 'dpw1', '--at', at])).code);
    expect(codes).toEqual(['427701', '028193', '857788']);
  });

  it('--digits gives the code length the file does not carry; --type totp on a DPW file is refused naming the field', async () => {
    const days = file('days8.txt', 'dpw8 12341234123412341234123412341234\n');
    expect(await s.json(['import', days, '--digits', '8'])).toMatchObject({ imported: 1 });
    expect(await s.json(['tokens', 'show', 'dpw8'])).toMatchObject({ type: 'dpw', digits: 8 });
    const r = await s.run(['import', file('days-totp.txt', 'dpw9 1234\n'), '--type', 'totp']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/type dpw, but --type totp/);
  });

  it('exports that cannot carry a day password leave it out with the reason', async () => {
    await s.json(['import', file('days.txt', 'dpw1 12341234123412341234123412341234\n')]);
    await s.json(['import', file('one.csv', 'TSF1, 3132333435363738393031323334353637383930, totp, 6, 30\n')]);
    const out = join(s.dir, 'out.csv');
    const r = await s.json(['export', '--format', 'oath-csv', '--plaintext', '-o', out]);
    expect(r).toMatchObject({
      exported: 1,
      skipped: [{ serial: 'dpw1', reason: expect.stringMatching(/day password/) }],
    });
  });
});

describe('import --type/--algorithm/--digits/--period', () => {
  it('Protectimus CSV (which carries none of them) takes them', async () => {
    const r = await s.json([
      'import',
      fixture('csv', 'protectimus.csv'),
      '--type',
      'hotp',
      '--algorithm',
      'sha256',
      '--digits',
      '8',
    ]);
    expect(r).toMatchObject({ imported: 3, failed: 0 });
    expect(await s.json(['tokens', 'show', 'TSC3051'])).toMatchObject({ type: 'hotp', algorithm: 'sha256', digits: 8 });
  });

  it('a bare seed list (serial, seed) takes --type and --period', async () => {
    const bare = file(
      'bare.csv',
      'TSF7, 3132333435363738393031323334353637383930\nTSF8, 3132333435363738393031323334353637383930\n',
    );
    expect(await s.json(['import', bare, '--type', 'totp', '--period', '60'])).toMatchObject({ imported: 2 });
    expect(await s.json(['tokens', 'show', 'TSF8'])).toMatchObject({
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 60,
    });
  });

  it('--period fills a TOTP row without a step and is refused for a row that gives another', async () => {
    const csv = file('steps.csv', 'TSF2, 3132333435363738393031323334353637383930, totp, 6\n');
    expect(await s.json(['import', csv, '--period', '60'])).toMatchObject({ imported: 1 });
    expect(await s.json(['tokens', 'show', 'TSF2'])).toMatchObject({ type: 'totp', period: 60 });
    const r = await s.run([
      '--json',
      'import',
      file('steps30.csv', 'TSF3, 3132333435363738393031323334353637383930, totp, 6, 30\n'),
      '--period',
      '60',
    ]);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout).errors[0]).toMatchObject({
      where: 'steps30.csv:1 serial TSF3',
      message: expect.stringMatching(/period 30, but --period 60/),
    });
  });

  it('a bad value is a usage error naming the flag (exit 2); PSKC takes none of them (exit 2)', async () => {
    const bad = await s.run(['import', fixture('csv', 'protectimus.csv'), '--digits', '3']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--digits: digits must be between/);
    const alg = await s.run(['import', fixture('csv', 'protectimus.csv'), '--algorithm', 'md5']);
    expect(alg.code).toBe(2);
    expect(alg.stderr).toMatch(/--algorithm: unknown algorithm 'md5'/);
    const pskc = await s.run(['import', fixture('rfc6030', 'figure2.xml'), '--digits', '8']);
    expect(pskc.code).toBe(2);
    expect(pskc.stderr).toMatch(/PSKC.*drop --type\/--algorithm\/--digits\/--period/);
  });
});

describe('otpauth lists and repeated CSV rows', () => {
  it('the same account under two issuers is two tokens, named issuer:account', async () => {
    const uris = file(
      'apps.txt',
      [
        'otpauth://totp/GitHub:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=GitHub',
        'otpauth://totp/GitLab:alice?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&issuer=GitLab',
      ].join('\n'),
    );
    expect(await s.json(['import', uris])).toMatchObject({ imported: 2, failed: 0 });
    expect([...(await s.tokens()).keys()].sort()).toEqual(['GitHub:alice', 'GitLab:alice']);
  });

  it('one serial with the same seed but another counter or user is refused, naming what differs; an identical repeat is imported once and said', async () => {
    const counters = await s.run([
      'import',
      '--format',
      'oath-csv',
      file(
        'twice.csv',
        'TSF4, 3132333435363738393031323334353637383930, hotp, 6, 0\nTSF4, 3132333435363738393031323334353637383930, hotp, 6, 5\n',
      ),
    ]);
    expect(counters.code).toBe(4);
    expect(counters.stderr).toMatch(/twice\.csv:2 serial TSF4: .*same seed but different counter \(0 and 5\)/);
    const users = await s.run([
      'import',
      file(
        'users.csv',
        '# version: 2\nalice, r, realm, TSF5, 3132333435363738393031323334353637383930, totp\nbob, r, realm, TSF5, 3132333435363738393031323334353637383930, totp\n',
      ),
    ]);
    expect(users.code).toBe(4);
    expect(users.stderr).toMatch(/users\.csv:3 serial TSF5: .*same seed but different details/);
    const same = await s.run([
      'import',
      file(
        'same.csv',
        'TSF6, 3132333435363738393031323334353637383930, totp, 6, 30\nTSF6, 3132333435363738393031323334353637383930, totp, 6, 30\n',
      ),
    ]);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(
      /same\.csv:2: serial TSF6 repeats same\.csv:1 with the same seed and settings: imported once/,
    );
  });
});
