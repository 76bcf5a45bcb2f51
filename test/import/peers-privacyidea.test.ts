// @module-tag subprocess
/**
 * privacyIDEA's import fixtures (fixtures/peers/privacyidea: tests/testdata and the strings of
 * tests/test_lib_importotp.py) as a table: what privacyIDEA's own test expects of each, and that
 * tokensmith stores exactly that (serial, seed, type, digits, period, counter) or refuses with
 * exit 4. Where tokensmith refuses what privacyIDEA reads, `diverges` says why.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parserFor } from '../../src/import/formats/index.js';
import { peerDir, peersMissing } from '../helpers/peers.js';
import { toolsMissing } from '../helpers/tools.js';
import { base32ToHex, CliStore, collect } from './helpers.js';

/** privacyIDEA's files are not committed here: they are read from ../shared/peers/privacyidea (origin in its README). */
const PEER_DIR = peerDir('privacyidea', 'testdata/import.oath');
const missing =
  peersMissing('privacyidea', 'testdata/import.oath') ?? toolsMissing('the privacyIDEA peer table test', 'oathtool');
const PEER = PEER_DIR ? `${PEER_DIR}/` : '';
const RFC_SEED = '3132333435363738393031323334353637383930';

interface Stored {
  serial: string;
  seed: string;
  type: 'hotp' | 'totp';
  digits: number;
  period?: number;
  counter?: number;
  /** T0 other than 1970 (checked at the parser; codes with T0 belong to the core's T0 support). */
  t0?: number;
}

const AT = '2020-01-01T00:00:00Z';

/** The code oathtool (the OATH Toolkit, not ours) gives for a stored token. */
function oathtoolCode(t: Stored): string {
  const start = t.t0
    ? [
        '-S',
        new Date(t.t0 * 1000)
          .toISOString()
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC'),
      ]
    : [];
  const args =
    t.type === 'totp'
      ? ['--totp', '-s', `${t.period}s`, ...start, '-N', '2020-01-01 00:00:00 UTC']
      : ['-c', String(t.counter)];
  return execFileSync('oathtool', [...args, '-d', String(t.digits), t.seed], { encoding: 'utf8' }).trim();
}

interface Row {
  file: string;
  /** What privacyIDEA's own test says about it (file and assertion). */
  privacyidea: string;
  args?: string[];
  /** Imported exactly these, and skipped this many rows (serial-only lines). */
  stores?: Stored[];
  skipped?: number;
  /** Refused with exit 4: each error (in order) matches one of these. */
  refused?: RegExp[];
  /** Why tokensmith refuses a file privacyIDEA reads. */
  diverges?: string;
}

const TABLE: Row[] = [
  {
    file: 'testdata/import.oath',
    privacyidea: 'test_api_token.py test_11_load_tokens: type oathcsv, n_imported == 3',
    stores: [
      { serial: 'token01', seed: RFC_SEED, type: 'hotp', digits: 6, counter: 0 },
      { serial: 'token02', seed: RFC_SEED, type: 'totp', digits: 6, period: 30 },
      { serial: 'token03', seed: RFC_SEED, type: 'totp', digits: 8, period: 60 },
    ],
  },
  {
    file: 'testdata/empty.oath',
    privacyidea: 'test_api_token.py test_11_load_tokens: 400 "ERR905: Error loading token file. File empty!"',
    refused: [/the file is empty/],
  },
  {
    file: 'testdata/yubico-oath.csv',
    privacyidea: 'test_api_token.py test_11_load_tokens: type yubikeycsv, n_imported == 3, UBOM508327_X present',
    stores: [
      {
        serial: 'UBOM00000000_1',
        seed: '916821d3a138bf855e70069605559a206ba854cd',
        type: 'hotp',
        digits: 6,
        counter: 0,
      },
      { serial: 'UBOM508327_X', seed: '69cfb9202438ca68964ec3244bfa4843d073a43b', type: 'hotp', digits: 6, counter: 0 },
      {
        serial: 'UBOM1382042_X',
        seed: 'bf7efc1c8b6f23604930a9ce693bdd6c3265be00',
        type: 'hotp',
        digits: 6,
        counter: 0,
      },
    ],
  },
  {
    file: 'testdata/yubico-oath-long.csv',
    privacyidea: 'test_api_token.py test_11_load_tokens_tokenhandler: n_imported == 100 (UBOM1_X ... with otpkey "0")',
    refused: Array(100).fill(/secret \(hex\): odd number of hex digits/),
    diverges: 'every row gives the secret "0" (one hex digit): no key, privacyIDEA stores it as given',
  },
  {
    file: 'testdata/yubico.csv',
    privacyidea:
      'parseYubicoCSV (the same rows as YUBIKEY_CSV\'s "Traditional" and "Yubico" parts): UBAM yubikey tokens and UBOM hotp tokens',
    refused: [
      /'Yubico OTP' slot \(slot 1\) is not an OATH token/,
      /'Static Password' slot/,
      /'Yubico OTP' slot is not/,
      /'Static Password' slot is not/,
    ],
    diverges: 'Yubico OTP and static-password slots are not OATH tokens: refused by name, so the file is not imported',
  },
  {
    file: 'testdata/ocra.csv',
    privacyidea: 'test_api_validate_displaytan.py: imported as an OCRA token',
    refused: [/token type 'ocra' cannot be served/],
    diverges: 'tokensmith serves HOTP and TOTP only',
  },
  {
    file: 'testdata/pskc-password.xml',
    args: ['--password', 'qwerty'],
    privacyidea: 'test_api_token.py test_11_load_tokens: password qwerty, n_imported == 1',
    stores: [{ serial: '987654321', seed: RFC_SEED, type: 'hotp', digits: 8, counter: 0 }],
  },
  {
    file: 'testdata/pskc-aes.xml',
    args: ['--key', '12345678901234567890123456789012'],
    privacyidea: 'test_api_token.py test_11_load_tokens: psk 1234...9012, n_imported == 1',
    refused: [/the file is truncated/],
    diverges:
      'the file ends without </KeyContainer>: not well-formed XML (privacyIDEA reads it with BeautifulSoup, which closes it)',
  },
  {
    file: 'strings/OATHCSV.csv',
    privacyidea:
      'test_lib_importotp.py test_00_import_oath: 6 tokens tok1..tok6, tok6 counter 345, tok4 timeStep 60 and no counter; serialX makes no token',
    stores: [
      { serial: 'tok1', seed: '1212', type: 'hotp', digits: 6, counter: 0 },
      { serial: 'tok2', seed: '1212', type: 'totp', digits: 6, period: 30 },
      { serial: 'tok3', seed: '1212', type: 'hotp', digits: 8, counter: 0 },
      { serial: 'tok4', seed: '1212', type: 'totp', digits: 8, period: 60 },
      { serial: 'tok5', seed: '12345678901234567890123456789023', type: 'hotp', digits: 6, counter: 0 },
      { serial: 'tok6', seed: '1212', type: 'hotp', digits: 6, counter: 345 },
    ],
    skipped: 1,
  },
  {
    file: 'strings/OATHCSV_USER.csv',
    privacyidea:
      'test_lib_importotp.py test_00_import_oath_user: 2 tokens tok1 (user1, resolver1) and tok3 (resolver3); the row with an empty serial is ignored',
    stores: [
      { serial: 'tok1', seed: '1212', type: 'hotp', digits: 6, counter: 0 },
      { serial: 'tok3', seed: '1212', type: 'totp', digits: 6, period: 30 },
    ],
    skipped: 1,
  },
  {
    file: 'strings/YUBIKEY_CSV.csv',
    privacyidea:
      'test_lib_importotp.py test_02_import_yubikey: parseYubicoCSV gives 7 tokens, UBAM00508326_1 among them',
    refused: [
      ...Array(3).fill(/'Static Password: Scan Code' slot/),
      /:7: a 'Yubico OTP' slot/,
      /:8: a 'Yubico OTP' slot/,
      /:12: a 'Yubico OTP' slot/,
      ...Array(3).fill(/'Static Password: Scan Code' slot/),
      /:23: a 'Static Password' slot/,
      /:24: a 'Static Password' slot/,
      /:25: a 'Static Password' slot/,
      /:26: the row does not start with a slot type .* is it the rest of the line before\?/,
      /:28: a 'Yubico OTP' slot/,
      /:30: a 'Static Password' slot/,
      /:36 serial UBAM508328_X: a 'Yubico OTP' slot is not/,
      /:38 serial UBSM508329_X: a 'Static Password' slot is not/,
      // The two OATH-HOTP rows of public id cccccccccccc (lines 14 and 29) carry different secrets.
      /:14 serial UBOM00000000_1: .*appears twice in the file with different seeds: first at YUBIKEY_CSV.csv:10/,
    ],
    diverges:
      'Yubico OTP and static-password slots are refused by name; UBOM00000000_1 comes with two different secrets (privacyIDEA keeps the last one silently)',
  },
  {
    file: 'strings/ALADDINXML.xml',
    privacyidea:
      'test_lib_importotp.py test_01_import_aladdin_xml: 2 tokens, 00040008CFA52 among them (the token without serial and the one without <Seed> left out)',
    refused: [
      /00040008CFA5 .*odd number of hex digits \(9\)|odd number of hex digits \(9\)/,
      /no <Application> with a <Seed>/,
    ],
    diverges:
      '00040008CFA5 has the 9-digit seed "123412354", which is no whole number of bytes; token_without_seed has no seed: refused, not left out',
  },
  {
    file: 'strings/ALADDINXML_WITHOUT_TOKENS.xml',
    privacyidea: 'test_lib_importotp.py test_01_import_aladdin_xml: TokenImportException (no toplevel element Tokens)',
    refused: [/root <Token> is no seed format/],
  },
  {
    file: 'strings/XML_PSKC.xml',
    privacyidea: 'test_lib_importotp.py test_03_import_pskc: 7 tokens, PW001 of type pw',
    refused: [/PW001.*|pskc:pw/],
    diverges:
      'PW001 is a password token (pskc:pw), which tokensmith does not serve; the other six are read (only PW001 is reported)',
  },
  {
    file: 'strings/XML_PSKC_AES.xml',
    args: ['--key', '12345678901234567890123456789012'],
    privacyidea: 'test_lib_importotp.py test_04_import_pskc_aes: 1 token 987654321, hotp, 8 digits',
    refused: [/the file is truncated/],
    diverges: 'the string ends without </KeyContainer>: not well-formed XML',
  },
  {
    file: 'strings/XML_PSKC_PASSWORD_PREFIX.xml',
    args: ['--password', 'qwerty'],
    privacyidea: 'test_lib_importotp.py test_05_import_pskc_password: with qwerty 1 token 987654321',
    refused: [/<\/pskc:EncryptionKey> closes <EncryptionKey>/],
    diverges: '<EncryptionKey> is closed by </pskc:EncryptionKey> (an undeclared prefix): not well-formed XML',
  },
  {
    file: 'strings/YUBIKEY_PSKC_TOTP.xml',
    privacyidea: 'test_lib_importotp.py test_02_import_yubikey: 1 token UBAM10944003_2 of type yubikey',
    refused: [/the file is truncated/],
    diverges: 'not well-formed (no </KeyContainer>); and a yubikey-aes key is no OATH token',
  },
  {
    file: 'strings/YUBIKEY_PSKC_HOTP.xml',
    privacyidea: 'test_lib_importotp.py test_02_import_yubikey: 1 token UBOM10944003_1 of type hotp',
    refused: [/the file is truncated/],
    diverges: 'the string ends without </KeyContainer>: not well-formed XML',
  },
  {
    file: 'strings/DATDATA.dat',
    privacyidea:
      'test_lib_importotp.py defines DATDATA but no test reads it; LinOTP reads the same records (tests/functional/fixtures/safework_tokens.dat, test_parse_DAT): RAINER01 and RAINER02',
    stores: [
      { serial: 'RAINER01', seed: 'e26bf3661c254bbab7370296a6de60d7ac8e0141', type: 'hotp', digits: 6, counter: 0 },
      {
        serial: 'RAINER02',
        seed: '535cc2cb9dea0b55b0a2d585eab648ebce73ac8b',
        type: 'totp',
        digits: 6,
        period: 30,
        t0: 946684800,
      },
    ],
  },
];

if (missing) it.skip(`privacyIDEA's import fixtures: skipped: ${missing}`, () => undefined);

describe.skipIf(missing !== null)("privacyIDEA's import fixtures", () => {
  let s: CliStore;
  beforeAll(() => {
    s = new CliStore();
  });
  afterAll(() => s.cleanup());

  for (const row of TABLE) {
    it(`${row.file}: ${row.stores ? `stores ${row.stores.length} tokens` : 'refused (exit 4)'} — privacyIDEA: ${row.privacyidea}`, async () => {
      const db = `${row.file.replace(/\W/g, '_')}.db`;
      const r = await s.run(['--db', `${s.dir}/${db}`, '--json', 'import', PEER + row.file, ...(row.args ?? [])]);
      const out = JSON.parse(r.stdout);
      if (row.refused) {
        expect(r.code, r.stderr).toBe(4);
        expect(out.imported).toBe(0);
        expect(out.errors.length, JSON.stringify(out.errors)).toBe(row.refused.length);
        out.errors.forEach((e: { message: string; where: string }, i: number) =>
          expect(`${e.where}: ${e.message}`).toMatch(row.refused![i]!),
        );
        // No secret of the file reaches a message (hex runs of 16 digits or more would be one).
        expect(JSON.stringify(out.errors)).not.toMatch(/[0-9a-f]{16}/i);
        return;
      }
      expect(r.code, r.stderr).toBe(0);
      expect(out).toMatchObject({ imported: row.stores!.length, skipped: row.skipped ?? 0, failed: 0 });
      for (const t of row.stores!) {
        const v = await s.json(['--db', `${s.dir}/${db}`, 'tokens', 'show', t.serial, '--show-secret']);
        expect(base32ToHex(v.secret), t.serial).toBe(t.seed);
        expect(v, t.serial).toMatchObject({
          serial: t.serial,
          type: t.type,
          algorithm: 'sha1',
          digits: t.digits,
          ...(t.type === 'totp' ? { period: t.period } : { counter: t.counter }),
        });
        const code = (await s.json(['--db', `${s.dir}/${db}`, 'tokens', 'code', t.serial, '--at', AT])).code;
        expect(code, `${t.serial}: tokens code equals oathtool`).toBe(oathtoolCode(t));
      }
    });
  }

  it('where privacyIDEA reads a token tokensmith refuses the file over, the tokens both read agree (parser level)', async () => {
    const aladdin = await collect(await parserFor('safenet-xml'), PEER + 'strings/ALADDINXML.xml');
    const cfa52 = aladdin.find((i) => i.record?.serial === '00040008CFA52')!.record!;
    expect([cfa52.seed.toString('hex'), cfa52.type, cfa52.counter, cfa52.algorithm]).toEqual([
      '123456',
      'hotp',
      1,
      'sha1',
    ]);
    const dat = await collect(await parserFor('etoken-dat'), PEER + 'strings/DATDATA.dat');
    // LinOTP: sccPrTime means the token counts from 2000-01-01 (timeShift of the start date).
    expect(dat.map((i) => i.record?.t0)).toEqual([undefined, 946684800]);
  });
});
