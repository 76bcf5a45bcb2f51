/**
 * Issue 14, the seed-file formats beside PSKC: CSV leniency as privacyIDEA and LinOTP read
 * their files, the YubiKey personalization log, SafeNet eToken XML and SafeWord/eToken .dat,
 * each auto-detected. privacyIDEA's own fixtures are in peers-privacyidea.test.ts.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectFormat } from '../../src/import/detect.js';
import { parserFor } from '../../src/import/formats/index.js';
import type { ImportFormat, ParseItem } from '../../src/import/types.js';
import { collect } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tokensmith-formats-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a file, detects its format and reads it: the format and the parser's items. */
async function read(name: string, content: string): Promise<{ format: ImportFormat; items: ParseItem[] }> {
  const path = join(dir, name);
  writeFileSync(path, content);
  const format = detectFormat(readFileSync(path), name);
  return { format, items: await collect(await parserFor(format), path) };
}

const records = (items: ParseItem[]) => items.filter((i) => i.record).map((i) => i.record!);
const problems = (items: ParseItem[]) => items.filter((i) => i.problem).map((i) => i.problem!);
const skips = (items: ParseItem[]) => items.filter((i) => i.skip).map((i) => i.skip!);

describe('CSV leniency (privacyIDEA / LinOTP)', () => {
  it('a blank first line, indented comments, blank lines, a serial-only row and a row without serial: skipped and reported, the tokens read', async () => {
    const csv = [
      '',
      '   tok1, 3132333435363738393031323334353637383930',
      '   # an indented comment, with a comma',
      '',
      '   serialX',
      ' , 3434, hotp',
      'tok2, 3132333435363738393031323334353637383930, totp, 8, 60',
      '',
    ].join('\n');
    const { format, items } = await read('lenient.csv', csv);
    expect(format).toBe('oath-csv');
    expect(problems(items)).toEqual([]);
    expect(records(items).map((r) => [r.serial, r.type, r.digits, r.period])).toEqual([
      ['tok1', 'hotp', 6, 30],
      ['tok2', 'totp', 8, 60],
    ]);
    expect(skips(items).map((s) => [s.where, s.serial])).toEqual([
      ['lenient.csv:5', 'serialX'],
      ['lenient.csv:6', undefined],
    ]);
    expect(skips(items)[0]!.message).toMatch(/only a serial/);
    expect(skips(items)[1]!.message).toMatch(/no serial/);
  });

  it('the version line after a blank first line still says version 2; an empty serial in a user row is skipped', async () => {
    const csv = '\n# version: 2\nuser1, resolver1, realm1, tok1, 1212, hotp\nuser2, resolver2, realm2, , 3434, hotp\n';
    const { format, items } = await read('v2.csv', csv);
    expect(format).toBe('oath-csv');
    expect(records(items).map((r) => [r.serial, r.attributes.user])).toEqual([['tok1', 'user1']]);
    expect(skips(items)).toHaveLength(1);
  });

  it('LinOTP CSV: indented comments and serial-only rows skipped', async () => {
    const csv = '  # LinOTP export\nTSX1, 3132333435363738393031323334353637383930, totp, 6, 30, sha1\nTSX2\n';
    const { format, items } = await read('linotp.csv', csv);
    expect(format).toBe('linotp-csv');
    expect(records(items).map((r) => r.serial)).toEqual(['TSX1']);
    expect(skips(items).map((s) => s.serial)).toEqual(['TSX2']);
  });
});

describe('DPW lists', () => {
  it("LinOTP's own import test (test_additionals.py TestDPWImport): tabs between serial and key, the key kept as written", async () => {
    const { format, items } = await read('dpw.txt', 'dpw123456\t12121212121212\ndpw23456789\t\t3434343434343434');
    expect(format).toBe('dpw');
    expect(records(items).map((r) => [r.serial, r.type, r.seed.toString('ascii')])).toEqual([
      ['dpw123456', 'dpw', '12121212121212'],
      ['dpw23456789', 'dpw', '3434343434343434'],
    ]);
  });
});

describe('YubiKey personalization tool CSV log', () => {
  const log = [
    'LOGGING START,11.12.13 18:55',
    'OATH-HOTP,11.12.13 18:55,1,cccccccirblh,,916821d3a138bf855e70069605559a206ba854cd,,,0,0,0,6,0,0,0,0,0,0',
    'OATH-HOTP,10.10.19 10:42,2,cccccccirbli,,fcdb079e452ffca6b66898a1b06f5e69b7b017e7,,,0,0,0,8,0,0,0,0,0,0',
    '508327,,0,69cfb9202438ca68964ec3244bfa4843d073a43b,,2013-12-12T08:41:07,',
  ].join('\n');

  it('OATH-HOTP rows of both layouts become HOTP tokens named as privacyIDEA names them', async () => {
    const { format, items } = await read('yk.csv', log);
    expect(format).toBe('yubikey-csv');
    expect(problems(items)).toEqual([]);
    expect(
      records(items).map((r) => [r.serial, r.type, r.algorithm, r.digits, r.counter, r.seed.toString('hex')]),
    ).toEqual([
      ['UBOM00508326_1', 'hotp', 'sha1', 6, 0, '916821d3a138bf855e70069605559a206ba854cd'],
      ['UBOM00508327_2', 'hotp', 'sha1', 8, 0, 'fcdb079e452ffca6b66898a1b06f5e69b7b017e7'],
      ['UBOM508327_X', 'hotp', 'sha1', 6, 0, '69cfb9202438ca68964ec3244bfa4843d073a43b'],
    ]);
  });

  it.each([
    [
      'Yubico OTP,12/11/2013 11:10,1,vvgutbiedkvi,ab86c04de6a3,d26a7c0f85fdda28bd816e406342b214,,,0,0,0,0,0,0,0,0,0,0',
      'Yubico OTP',
    ],
    [
      'Static Password: Scan Code,17.04.12 12:25,1,051212172c092728,,,,,0,0,0,0,0,0,0,0,0,0',
      'Static Password: Scan Code',
    ],
    [
      'Challenge-Response: HMAC-SHA1,17.04.12 12:25,2,,,fcdb079e452ffca6b66898a1b06f5e69b7b017e7,,,0,0,0,0,0,0,0,0,0,0',
      'Challenge-Response: HMAC-SHA1',
    ],
    ['508328,cccccccccccc,83cebdfb7b93,a47c5bf9c152202f577be6721c0113af,,2013-12-12T08:43:17,', 'Yubico OTP'],
    ['508329,,,9e2fd386224a7f77e9b5aee775464033,,2013-12-12T08:44:34,', 'Static Password'],
  ])('a non-OATH slot is refused by name: %s', async (row, name) => {
    const { format, items } = await read('yk-refused.csv', `${log}\n${row}\n`);
    expect(format).toBe('yubikey-csv');
    const p = problems(items);
    expect(p).toHaveLength(1);
    expect(p[0]!.where).toBe('yk-refused.csv:5');
    expect(p[0]!.message).toContain(`'${name}'`);
    expect(p[0]!.message).toMatch(/not an OATH token/);
  });

  it('an OATH-HOTP row without a public id is skipped (no serial), as privacyIDEA skips it', async () => {
    const { items } = await read(
      'yk-nopub.csv',
      `${log}\nOATH-HOTP,11.12.13 19:01,1,,,d41845578effd750887edc70f04df754603e2b63,,,0,0,0,6,0,0,0,0,0,0\n`,
    );
    expect(problems(items)).toEqual([]);
    expect(skips(items).map((s) => s.where)).toEqual(['yk-nopub.csv:5']);
  });
});

describe('SafeNet / Aladdin eToken XML', () => {
  const xml = `<?xml version="1.0"?>
<Tokens>
  <Token serial="TSE0001">
    <CaseModel>5</CaseModel><Model>101</Model><ProductionDate>02/19/2009</ProductionDate><ProductName>Safeword Alpine</ProductName>
    <Applications><Application ConnectorID="{x}"><Seed>3132333435363738393031323334353637383930</Seed><MovingFactor>7</MovingFactor></Application></Applications>
  </Token>
  <Token serial="TSE0002">
    <Applications><Application><Seed>3132333435363738393031323334353637383930313233343536373839303132</Seed><MovingFactor>1</MovingFactor></Application></Applications>
  </Token>
  <Token info="no serial"><Applications><Application><Seed>3132</Seed></Application></Applications></Token>
</Tokens>
`;
  it('reads serial, seed, moving factor; 64 hex digits mean SHA-256; a token without serial is skipped', async () => {
    const { format, items } = await read('safenet.xml', xml);
    expect(format).toBe('safenet-xml');
    expect(problems(items)).toEqual([]);
    expect(records(items).map((r) => [r.serial, r.type, r.algorithm, r.digits, r.counter, r.model])).toEqual([
      ['TSE0001', 'hotp', 'sha1', 6, 7, 'Safeword Alpine'],
      ['TSE0002', 'hotp', 'sha256', 6, 1, null],
    ]);
    expect(skips(items).map((s) => s.where)).toEqual(['safenet.xml:10']);
  });

  it('a token without a <Seed> is refused by serial; a root other than <Tokens> is refused', async () => {
    const { items } = await read(
      'safenet-noseed.xml',
      '<Tokens><Token serial="TSE9"><Applications><Application><MovingFactor>1</MovingFactor></Application></Applications></Token></Tokens>',
    );
    expect(problems(items)).toMatchObject([{ serial: 'TSE9', code: 'missing-secret' }]);
    expect(() => detectFormat(Buffer.from('<Token serial="x"><Seed>31</Seed></Token>'), 'one.xml')).toThrow(
      /could not tell|no seed format/,
    );
  });
});

describe('SafeWord / eToken PASS .dat', () => {
  const dat = `
# ===== SafeWord Authenticator Records $Version: 100$ =====
dn: sccAuthenticatorId=TSD0001
objectclass: sccCompatibleToken
sccAuthenticatorId: TSD0001
sccTokenType: eToken-PASS-ES
sccTokenData: sccKey=3132333435363738393031323334353637383930;sccMode=E;sccPwLen=6;sccVer=6.20;
sccSignature:MC0CFGxPAjrb0zg7MwFzrPibnC70klMnAhUAwZzVdGBaKGjA0djXrGuv6ejTtII=

dn: sccAuthenticatorId=TSD0002
sccAuthenticatorId: TSD0002
sccTokenType: eToken-PASS-TS
sccTokenData: sccKey=3132333435363738393031323334353637383930313233343536373839303132;sccMode=T;sccPwLen=8;sccTick=60;sccPrTime=2013/03/12 00:00:00;crypto=HmacSHA256
`;
  it('event records are HOTP, time records TOTP with their tick, length and hash; sccPrTime means T0 = 2000-01-01', async () => {
    const { format, items } = await read('tokens.dat', dat);
    expect(format).toBe('etoken-dat');
    expect(problems(items)).toEqual([]);
    expect(
      records(items).map((r) => [r.serial, r.model, r.type, r.algorithm, r.digits, r.period, r.t0, r.where]),
    ).toEqual([
      ['TSD0001', 'eToken-PASS-ES', 'hotp', 'sha1', 6, 30, undefined, 'tokens.dat:3'],
      ['TSD0002', 'eToken-PASS-TS', 'totp', 'sha256', 8, 60, 946684800, 'tokens.dat:10'],
    ]);
  });

  it('an unknown sccMode or crypto is refused with its value', async () => {
    const { items } = await read(
      'bad.dat',
      'sccAuthenticatorId: TSD9\nsccTokenData: sccKey=3132;sccMode=X\n\nsccAuthenticatorId: TSD8\nsccTokenData: sccKey=3132;sccMode=E;crypto=HmacMD5\n',
    );
    expect(problems(items).map((p) => [p.serial, p.message.match(/'[^']*'/)?.[0]])).toEqual([
      ['TSD9', "'X'"],
      ['TSD8', "'HmacMD5'"],
    ]);
  });
});
