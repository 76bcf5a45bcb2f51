import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportTokens } from '../../src/export/service.js';
import { UsersFileWriter } from '../../src/export/usersfile.js';
import type { NewToken, TokenRecord } from '../../src/store/types.js';
import { newToken, SEED20, SEED32, tempStore, type TestStore } from './helpers.js';

let ts: TestStore;
beforeEach(async () => {
  ts = await tempStore();
});
afterEach(async () => ts.close());

const HEX20 = SEED20.toString('hex');

/** Tokens assigned in Resource 'vpn', one user each (login = serial lower-cased unless given). */
async function assigned(tokens: (NewToken & { login?: string })[]): Promise<TokenRecord[]> {
  const r = (await ts.store.resources.findByName('vpn')) ?? (await ts.store.resources.create({ name: 'vpn' }));
  const out: TokenRecord[] = [];
  for (const { login, ...t } of tokens) {
    const u = await ts.store.users.create({ login: login ?? t.serial.toLowerCase() });
    const tok = await ts.store.tokens.insert({ ...t, resourceId: r.id });
    await ts.store.assignments.create({ tokenId: tok.id, userId: u.id, resourceId: r.id });
    out.push(await ts.store.tokens.update(tok.id, { state: t.state === 'in_stock' ? 'assigned' : t.state }));
  }
  return out;
}

/** The users file's token lines (no comments), each split into its fields. */
const tokenLines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('HOTP'))
    .map((l) => l.split('\t'));

const exportTo = (file: string) =>
  exportTokens(ts.store, { format: 'usersfile', output: file, plaintext: true, resource: 'vpn' });

describe('usersfile export', () => {
  it('writes the type strings liboath reads, the login, "-" for no password and the hex seed; HOTP with its counter', async () => {
    await assigned([
      newToken('T30-6'),
      newToken('T60-8', { period: 60, digits: 8 }),
      newToken('T30-7', { digits: 7 }),
      newToken('E-6', { type: 'hotp', counter: 42 }),
      newToken('E-8', { type: 'hotp', digits: 8, state: 'enrolled' }),
    ]);
    const file = join(ts.dir, 'users.oath');
    const r = await exportTo(file);
    expect(r.skipped).toEqual([]);
    expect(tokenLines(file)).toEqual([
      ['HOTP/T30/6', 't30-6', '-', HEX20, '0'],
      ['HOTP/T60/8', 't60-8', '-', HEX20, '0'],
      ['HOTP/T30/7', 't30-7', '-', HEX20, '0'],
      ['HOTP/E/6', 'e-6', '-', HEX20, '42'],
      ['HOTP/E/8', 'e-8', '-', HEX20, '0'],
    ]);
    // The serial sits in a comment above its line, which liboath skips and keeps.
    expect(readFileSync(file, 'utf8')).toContain('# tokensmith serial E-6\nHOTP/E/6\te-6\t');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('leaves out, with the reason, every token liboath would read differently or that nobody signs in with', async () => {
    await assigned([
      newToken('OK'),
      newToken('SHA256', { algorithm: 'sha256', seed: SEED32 }),
      newToken('SHA512', { algorithm: 'sha512' }),
      newToken('STEP45', { period: 45 }),
      newToken('DIGITS4', { digits: 4 }),
      newToken('DIGITS10', { type: 'hotp', digits: 10 }),
      newToken('SEED40', { seed: Buffer.concat([SEED20, SEED20]) }),
      { ...newToken('SPACE'), login: 'two words' },
      newToken('DISABLED', { state: 'disabled' }),
    ]);
    await ts.store.tokens.insert(newToken('STOCK'));
    const file = join(ts.dir, 'users.oath');
    const r = await exportTokens(ts.store, { format: 'usersfile', output: file, plaintext: true });
    expect(r.exported).toBe(1);
    expect(Object.fromEntries(r.skipped.map((s) => [s.serial, s.reason]))).toEqual({
      SHA256: expect.stringMatching(/^SHA256: liboath computes HMAC-SHA1 only/),
      SHA512: expect.stringMatching(/^SHA512: liboath computes HMAC-SHA1 only/),
      STEP45: 'a 45 s time step: liboath reads 30 or 60 s only',
      DIGITS4: '4 digits: liboath reads 6, 7 or 8',
      DIGITS10: '10 digits: liboath reads 6, 7 or 8',
      SEED40: 'a 40-byte seed: liboath reads at most 32 bytes',
      SPACE: expect.stringMatching(/login 'two words' holds white space/),
      DISABLED: 'state disabled: only assigned or enrolled tokens go into the users file',
      STOCK: 'state in_stock: only assigned or enrolled tokens go into the users file',
    });
    expect(tokenLines(file)).toEqual([['HOTP/T30/6', 'ok', '-', HEX20, '0']]);
  });

  it('written over a file as root, keeps the owner of the file it replaces (pam_oath in radiusd reads it as freerad)', async () => {
    if (process.getuid?.() !== 0) return;
    await assigned([newToken('OK')]);
    const file = join(ts.dir, 'users.oath');
    writeFileSync(file, '');
    chownSync(file, 1, 1);
    await exportTo(file);
    expect([statSync(file).uid, statSync(file).gid, statSync(file).mode & 0o777]).toEqual([1, 1, 0o600]);
  });

  it('is refused without --plaintext, and with a password', async () => {
    await assigned([newToken('OK')]);
    const file = join(ts.dir, 'users.oath');
    await expect(exportTokens(ts.store, { format: 'usersfile', output: file })).rejects.toMatchObject({
      exitCode: 2,
      code: 'plaintext-not-confirmed',
    });
    await expect(exportTokens(ts.store, { format: 'usersfile', output: file, password: 'x' })).rejects.toMatchObject({
      exitCode: 2,
    });
  });
});

describe('usersfile export over a file pam_oath has used', () => {
  /** What pam_oath does after accepting a code: the line rewritten with counter, code and local time. */
  function pamOathAccepts(file: string, login: string, counter: number, code: string): void {
    const text = readFileSync(file, 'utf8').replace(
      new RegExp(`^(HOTP\\S*\\t${login}\\t-\\t[0-9a-f]+).*$`, 'm'),
      `$1\t${counter}\t${code}\t2026-01-31T12:00:00L`,
    );
    writeFileSync(file, text, { mode: 0o600 });
  }

  it("keeps the counter, last code and time of unchanged tokens; a changed seed gets a fresh line and the old one is dropped, as is a token's that left its user", async () => {
    const [totp, hotp, reseed, leaves] = await assigned([
      newToken('TOTP'),
      newToken('HOTP', { type: 'hotp', counter: 3 }),
      newToken('RESEED'),
      newToken('LEAVES'),
    ]);
    const file = join(ts.dir, 'users.oath');
    await exportTo(file);
    pamOathAccepts(file, 'totp', 0, '111111');
    pamOathAccepts(file, 'hotp', 4, '222222');
    pamOathAccepts(file, 'reseed', 0, '333333');
    pamOathAccepts(file, 'leaves', 0, '444444');
    // The user 'reseed' is given another token (a reissue); 'leaves' loses hers.
    for (const t of [reseed!, leaves!]) {
      await ts.store.assignments.delete((await ts.store.assignments.byToken(t.id))!.id);
      await ts.store.tokens.update(t.id, { state: 'in_stock' });
    }
    const other = await ts.store.tokens.insert(
      newToken('REISSUED', { resourceId: reseed!.resourceId, seed: Buffer.from(SEED32.subarray(0, 20)).reverse() }),
    );
    await ts.store.assignments.create({
      tokenId: other.id,
      userId: (await ts.store.users.findByLogin('reseed'))!.id,
      resourceId: reseed!.resourceId!,
    });
    await ts.store.tokens.update(other.id, { state: 'assigned' });

    const r = await exportTo(file);
    expect(tokenLines(file)).toEqual([
      ['HOTP/T30/6', 'totp', '-', HEX20, '0', '111111', '2026-01-31T12:00:00L'],
      ['HOTP/E/6', 'hotp', '-', HEX20, '4', '222222', '2026-01-31T12:00:00L'],
      ['HOTP/T30/6', 'reseed', '-', expect.not.stringMatching(HEX20), '0'],
    ]);
    expect(r.exported).toBe(3);
    expect((r as { notes: string[] }).notes).toEqual(
      expect.arrayContaining([
        "kept pam_oath's counter and last code for 2 unchanged token(s)",
        expect.stringMatching(/^dropped 2 line\(s\) .*\(logins: reseed, leaves\)/),
      ]),
    );
    expect([totp!.serial, hotp!.serial]).toEqual(['TOTP', 'HOTP']);
  });

  it("an HOTP counter the store moved past the file's (a resync) wins: the store's counter, no last code", async () => {
    const [hotp] = await assigned([newToken('HOTP', { type: 'hotp', counter: 3 })]);
    const file = join(ts.dir, 'users.oath');
    await exportTo(file);
    pamOathAccepts(file, 'hotp', 4, '222222');
    // The store's next counter is the file's (4 was used, 5 is next): the line stays as pam_oath wrote it.
    await ts.store.tokens.update(hotp!.id, { counter: 5 });
    await exportTo(file);
    expect(tokenLines(file)).toEqual([['HOTP/E/6', 'hotp', '-', HEX20, '4', '222222', '2026-01-31T12:00:00L']]);
    await ts.store.tokens.update(hotp!.id, { counter: 9 });
    await exportTo(file);
    expect(tokenLines(file)).toEqual([['HOTP/E/6', 'hotp', '-', HEX20, '9']]);
  });

  it('names a drifted TOTP token, which the users file cannot carry, with the pam_oath window it needs and the fix', async () => {
    await assigned([newToken('DRIFT', { driftSteps: -14 }), newToken('ON-TIME'), newToken('H', { type: 'hotp' })]);
    const r = await exportTo(join(ts.dir, 'users.oath'));
    expect(r.exported).toBe(3);
    expect(r.drifted).toEqual([
      {
        serial: 'DRIFT',
        driftSteps: -14,
        advice: expect.stringMatching(
          /14 steps \(420 s\) behind.*pam_oath cannot hold a drift.*window=14.*device sync/,
        ),
      },
    ]);
  });

  it('refuses to write over a file it cannot read back (its counters would be lost), leaving it as it was', async () => {
    await assigned([newToken('TOTP')]);
    const file = join(ts.dir, 'users.oath');
    writeFileSync(file, `HOTP/T30/6\ttotp\t-\t${HEX20}\tnot-a-number\n`);
    await expect(exportTo(file)).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringMatching(/users\.oath:1: the counter of 'totp' is not a whole number/),
    });
    expect(readFileSync(file, 'utf8')).toContain('not-a-number');
  });

  it('refuses to finish when pam_oath rewrote the file during the export', () => {
    const file = join(ts.dir, 'users.oath');
    writeFileSync(file, `HOTP/T30/6\ttotp\t-\t${HEX20}\n`);
    const w = new UsersFileWriter(file);
    w.header();
    writeFileSync(file, `HOTP/T30/6\ttotp\t-\t${HEX20}\t0\t111111\t2026-01-31T12:00:00L\n`);
    expect(() => w.footer()).toThrow(/changed while it was exported .*run the export again/);
  });

  it('refuses to finish while pam_oath holds its lock file beside the users file (it is about to rename its copy into place)', async () => {
    await assigned([newToken('TOTP')]);
    const file = join(ts.dir, 'users.oath');
    writeFileSync(`${file}.lock`, '');
    await expect(exportTo(file)).rejects.toMatchObject({
      exitCode: 4,
      message: expect.stringMatching(/users\.oath\.lock exists: pam_oath is recording a login/),
    });
    expect(existsSync(file)).toBe(false);
  });
});
