import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  decodeBase32,
  decodeBase64,
  decodeHex,
  decodeSeed,
  encodeBase32,
  encodeBase64,
  encodeHex,
} from '../../src/core/codecs.js';
import { DataError, ExitCode } from '../../src/core/errors.js';

/** Runs fn, expects a DataError, returns it for further checks. */
function dataErrorOf(fn: () => unknown): DataError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).exitCode).toBe(ExitCode.data);
    return err as DataError;
  }
  throw new Error('expected a DataError, nothing was thrown');
}

// RFC 4648 section 10 test vectors.
const RFC4648: [string, string, string, string][] = [
  // [plain, base32, base32 unpadded, base64]
  ['', '', '', ''],
  ['f', 'MY======', 'MY', 'Zg=='],
  ['fo', 'MZXQ====', 'MZXQ', 'Zm8='],
  ['foo', 'MZXW6===', 'MZXW6', 'Zm9v'],
  ['foob', 'MZXW6YQ=', 'MZXW6YQ', 'Zm9vYg=='],
  ['fooba', 'MZXW6YTB', 'MZXW6YTB', 'Zm9vYmE='],
  ['foobar', 'MZXW6YTBOI======', 'MZXW6YTBOI', 'Zm9vYmFy'],
];

describe('base32', () => {
  it.each(RFC4648.filter(([p]) => p.length > 0))(
    'decodes and encodes the RFC 4648 vector %j',
    (plain, padded, unpadded) => {
      expect(decodeBase32(padded).toString('latin1')).toBe(plain);
      expect(decodeBase32(unpadded).toString('latin1')).toBe(plain);
      expect(decodeBase32(padded.toLowerCase()).toString('latin1')).toBe(plain);
      expect(encodeBase32(Buffer.from(plain, 'latin1'))).toBe(unpadded);
      expect(encodeBase32(Buffer.from(plain, 'latin1'), { padding: true })).toBe(padded);
    },
  );

  it('tolerates spaces, dashes, lower case and mixed case', () => {
    const seed = Buffer.from('12345678901234567890', 'ascii');
    const b32 = encodeBase32(seed); // GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
    expect(b32).toBe('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
    expect(decodeBase32('gezd gnbv gy3t qojq gezd gnbv gy3t qojq')).toEqual(seed);
    expect(decodeBase32('GEZD-GNBV-GY3T-QOJQ-GEZD-GNBV-GY3T-QOJQ')).toEqual(seed);
    expect(decodeBase32('GeZdGnBvGy3TqOjQgEzDgNbVgY3tQoJq')).toEqual(seed);
    expect(decodeBase32(' GEZDGNBVGY3TQOJQ\tGEZDGNBVGY3TQOJQ\n')).toEqual(seed);
  });

  it('round-trips random seeds of every length 1..70, padded and unpadded', () => {
    for (let n = 1; n <= 70; n++) {
      const seed = randomBytes(n);
      expect(decodeBase32(encodeBase32(seed))).toEqual(seed);
      expect(decodeBase32(encodeBase32(seed, { padding: true }))).toEqual(seed);
    }
  });

  it('names the bad character and its position, without echoing the input', () => {
    const e = dataErrorOf(() => decodeBase32('JBSWY3DP!HPK3PXP'));
    expect(e.code).toBe('bad-base32');
    expect(e.message).toContain("'!'");
    expect(e.message).toContain('position 9');
    expect(e.message).not.toContain('JBSWY3DP');
  });

  it.each([
    ['0', 1],
    ['1', 1],
    ['8', 1],
    ['9', 1],
  ])("explains that digit '%s' is not base32", (digit) => {
    const e = dataErrorOf(() => decodeBase32(`JBSW${digit}3DP`));
    expect(e.message).toContain(`'${digit}'`);
    expect(e.message).toContain('position 5');
    expect(e.message).toMatch(/A-Z and 2-7/);
  });

  it('names a non-printable character by its code point', () => {
    const e = dataErrorOf(() => decodeBase32('JBSW\u00e9Y3DP'));
    expect(e.message).toContain('U+00E9'); // the character typed, not its upper case
    const nul = dataErrorOf(() => decodeBase32('JB\u0000SWY3DP'));
    expect(nul.message).toContain('U+0000');
  });

  // Bug found by this test: toUpperCase() turned 'ß' into 'SS' and 'ı' into 'I', so these decoded silently.
  it.each([
    ['\u00df', 'U+00DF'], // ß -> SS
    ['\u0131', 'U+0131'], // dotless i -> I
    ['\u017f', 'U+017F'], // long s -> S
    ['\ufb00', 'U+FB00'], // ff ligature -> FF
  ])('refuses non-ASCII letter %j whose upper case is ASCII, naming it as %s', (ch, name) => {
    const e = dataErrorOf(() => decodeBase32(`JBSW${ch}Y3DPEHPK3PXP`));
    expect(e.message).toContain(name);
    expect(e.message).toContain('position 5');
  });

  it('refuses characters after the = padding, naming their position', () => {
    const e = dataErrorOf(() => decodeBase32('MZXW6==A='));
    expect(e.message).toMatch(/after '=' padding at position 8/);
  });

  it.each([1, 3, 6, 9, 11, 14])('refuses %i characters as an impossible length, naming the length', (len) => {
    const e = dataErrorOf(() => decodeBase32('A'.repeat(len)));
    expect(e.message).toContain(`${len} characters is not a valid base32 length`);
  });

  it('refuses empty input (only spaces or padding)', () => {
    expect(dataErrorOf(() => decodeBase32('')).message).toMatch(/is empty/);
    expect(dataErrorOf(() => decodeBase32('   ')).message).toMatch(/is empty/);
    expect(dataErrorOf(() => decodeBase32('====')).message).toMatch(/is empty/);
  });

  it('uses the caller-supplied name in messages', () => {
    expect(dataErrorOf(() => decodeBase32('!!', 'the secret')).message).toMatch(/^the secret: /);
  });
});

describe('hex', () => {
  it('decodes upper, lower, spaced and 0x-prefixed hex', () => {
    const want = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x01]);
    expect(decodeHex('deadbeef01')).toEqual(want);
    expect(decodeHex('DEADBEEF01')).toEqual(want);
    expect(decodeHex('de ad be ef 01')).toEqual(want);
    expect(decodeHex('0xDeAdBeEf01')).toEqual(want);
    expect(encodeHex(want)).toBe('deadbeef01');
  });

  it('names the bad character and its position', () => {
    const e = dataErrorOf(() => decodeHex('00112g33'));
    expect(e.code).toBe('bad-hex');
    expect(e.message).toContain("'g'");
    expect(e.message).toContain('position 6');
  });

  it('names the odd length', () => {
    const e = dataErrorOf(() => decodeHex('abc'));
    expect(e.message).toContain('odd number of hex digits (3)');
  });

  it('refuses empty input', () => {
    expect(dataErrorOf(() => decodeHex('  ')).message).toMatch(/is empty/);
  });
});

describe('base64', () => {
  it.each(RFC4648.filter(([p]) => p.length > 0))(
    'decodes and encodes the RFC 4648 vector %j',
    (plain, _b32, _u, b64) => {
      expect(decodeBase64(b64).toString('latin1')).toBe(plain);
      expect(decodeBase64(b64.replace(/=+$/, '')).toString('latin1')).toBe(plain);
      expect(encodeBase64(Buffer.from(plain, 'latin1'))).toBe(b64);
    },
  );

  it('accepts the URL-safe alphabet and spaces', () => {
    const bytes = Buffer.from([0xfb, 0xff, 0xbf, 0xfe]);
    expect(encodeBase64(bytes)).toBe('+/+//g==');
    expect(decodeBase64('-_-__g')).toEqual(bytes);
    expect(decodeBase64('+/+/ /g==')).toEqual(bytes);
  });

  it('names the bad character and its position', () => {
    const e = dataErrorOf(() => decodeBase64('Zm9v*mFy'));
    expect(e.code).toBe('bad-base64');
    expect(e.message).toContain("'*'");
    expect(e.message).toContain('position 5');
  });

  it('refuses characters after padding and impossible lengths, naming them', () => {
    expect(dataErrorOf(() => decodeBase64('Zg==Zg')).message).toMatch(/after '=' padding at position 5/);
    expect(dataErrorOf(() => decodeBase64('Zm9vY')).message).toContain('5 characters is not a valid base64 length');
    expect(dataErrorOf(() => decodeBase64('')).message).toMatch(/is empty/);
  });
});

describe('decodeSeed', () => {
  it('dispatches by encoding', () => {
    const seed = Buffer.from('12345678901234567890', 'ascii');
    expect(decodeSeed(seed.toString('hex'), 'hex')).toEqual(seed);
    expect(decodeSeed(encodeBase32(seed), 'base32')).toEqual(seed);
    expect(decodeSeed(seed.toString('base64'), 'base64')).toEqual(seed);
    expect(dataErrorOf(() => decodeSeed('zz', 'hex', 'PSKC line 7')).message).toMatch(/^PSKC line 7: /);
  });
});
