import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectFormat } from '../../src/import/detect.js';
import { parserFor } from '../../src/import/formats/index.js';
import { collect } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-usersfile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Labelled test seed (RFC 4226's ASCII "12345678901234567890"). */
const HEX20 = Buffer.from('12345678901234567890', 'ascii').toString('hex');

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A users file as pam_oath leaves it: tokensmith's comments, lines it rewrote (tabs), a hand-written one (spaces). */
const USED = [
  '# OATH Toolkit users file for pam_oath, written by tokensmith 0.1.0.',
  '# tokensmith serial 86596220000317',
  `HOTP/T30/6\tdaemon\t-\t${HEX20}\t0\t755224\t2026-01-31T12:00:00L`,
  '# tokensmith serial HOTP-1',
  `HOTP/E/6\tbin\t-\t${HEX20}\t7\t162583\t2026-01-31T12:00:30L`,
  `HOTP/T60/8  alice  +  ${HEX20}`,
  `HOTP  alice  secretpw  ${HEX20}  12`,
  '',
].join('\n');

describe('usersfile import', () => {
  it('is told apart from the other formats by its type field', () => {
    expect(detectFormat(Buffer.from(USED), 'users.oath')).toBe('usersfile');
    expect(detectFormat(Buffer.from(`HOTP/T30 root - ${HEX20}\n`), 'users.oath')).toBe('usersfile');
  });

  it('reads serials, types, digits, steps and the next HOTP counter (one past the last code pam_oath took)', async () => {
    const items = await collect(await parserFor('usersfile'), file('users.oath', USED));
    expect(items.every((i) => i.record)).toBe(true);
    const records = items.map((i) => i.record!);
    expect(
      records.map(({ serial, type, algorithm, digits, period, counter }) => ({
        serial,
        type,
        algorithm,
        digits,
        period,
        counter,
      })),
    ).toEqual([
      { serial: '86596220000317', type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 },
      { serial: 'HOTP-1', type: 'hotp', algorithm: 'sha1', digits: 6, period: 30, counter: 8 },
      { serial: 'usersfile-alice-1', type: 'totp', algorithm: 'sha1', digits: 8, period: 60, counter: 0 },
      // No last code: the counter in the file is the next one.
      { serial: 'usersfile-alice-2', type: 'hotp', algorithm: 'sha1', digits: 6, period: 30, counter: 12 },
    ]);
    expect(records.every((r) => r.seed.toString('hex') === HEX20)).toBe(true);
    expect(records[0]!.attributes).toMatchObject({
      user: 'daemon',
      usersFileType: 'HOTP/T30/6',
      lastUsed: '2026-01-31T12:00:00L',
      importedFrom: 'users.oath:3',
    });
    // A static password is said, never taken over.
    expect(JSON.stringify(records[3]!.attributes)).not.toContain('secretpw');
    expect(records[3]!.attributes.usersFilePassword).toBe('a static password (not imported)');
  });

  it('names the line of a type liboath does not read, of a line without a seed and of a counter that is no number', async () => {
    const path = file(
      'bad.oath',
      [
        `HOTP/T45/6 x - ${HEX20}`,
        'HOTP/E/6 y -',
        `HOTP/E/6 z - ${HEX20} 1x`,
        `HOTP/E/6 ok - ${HEX20}`,
        `${HEX20} w -`,
        '',
      ].join('\n'),
    );
    const items = await collect(await parserFor('usersfile'), path);
    expect(items.map((i) => i.problem && `${i.problem.where} ${i.problem.message}`)).toEqual([
      expect.stringMatching(/^bad\.oath:1 type 'HOTP\/T45\/6' is none that liboath reads/),
      "bad.oath:2 the line for 'y' has no seed (type, login, password, seed)",
      "bad.oath:3 the counter of 'z' is not a whole number",
      undefined,
      // A line that starts with its seed: the message does not repeat it.
      expect.stringMatching(/^bad\.oath:5 the first field is none that liboath reads/),
    ]);
    expect(JSON.stringify(items)).not.toContain(HEX20.slice(0, 16));
  });
});
