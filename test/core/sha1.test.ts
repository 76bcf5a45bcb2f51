import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../src/core/bytes.js';
import { sha1 } from '../../src/core/sha1.js';

describe('sha1 (pure TypeScript)', () => {
  it('gives the FIPS 180 known answers', () => {
    expect(toHex(sha1(utf8Encode('abc')))).toBe('A9993E364706816ABA3E25717850C26C9CD0D89D');
    expect(toHex(sha1(new Uint8Array(0)))).toBe('DA39A3EE5E6B4B0D3255BFEF95601890AFD80709');
    expect(toHex(sha1(utf8Encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe(
      '84983E441C3BD26EBAAE4AA1F95129E5E54670F1',
    );
  });

  it('matches node:crypto for every length around the block and padding edges', () => {
    for (let len = 0; len <= 200; len++) {
      const data = randomBytes(len);
      expect(toHex(sha1(data)), `length ${len}`).toBe(createHash('sha1').update(data).digest('hex').toUpperCase());
    }
  });

  it('derives the Molto2 factory SM4 key from TOKEN2MOLTO1-KEY (protocols fact sheet)', () => {
    expect(toHex(sha1(utf8Encode('TOKEN2MOLTO1-KEY')).subarray(0, 16))).toBe('099250FDB017F442DA429ECBBEE17F79');
  });
});

describe('bytes helpers', () => {
  it('round-trips hex and refuses what is not hex', () => {
    expect(toHex(fromHex('80 c0 00 00 10'))).toBe('80C0000010');
    expect(() => fromHex('8')).toThrow(RangeError);
    expect(() => fromHex('zz')).toThrow(RangeError);
  });
});

describe('HMAC-SHA1, PBKDF2-HMAC-SHA1, SHA-256 and SHA-512 (pure TypeScript, for the YubiKey OATH driver)', () => {
  it('match node:crypto for keys and messages around the block sizes', async () => {
    const { createHmac, pbkdf2Sync } = await import('node:crypto');
    const { hmacSha1, pbkdf2HmacSha1 } = await import('../../src/core/sha1.js');
    const { sha256, sha512 } = await import('../../src/core/sha2.js');
    for (const len of [0, 1, 20, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 200]) {
      const data = randomBytes(len);
      expect(toHex(sha256(data)), `sha256 ${len}`).toBe(createHash('sha256').update(data).digest('hex').toUpperCase());
      expect(toHex(sha512(data)), `sha512 ${len}`).toBe(createHash('sha512').update(data).digest('hex').toUpperCase());
      const key = randomBytes(len);
      expect(toHex(hmacSha1(key, data)), `hmac ${len}`).toBe(
        createHmac('sha1', key).update(data).digest('hex').toUpperCase(),
      );
    }
    const salt = randomBytes(8);
    expect(toHex(pbkdf2HmacSha1(utf8Encode('correct horse'), salt, 1000, 16))).toBe(
      pbkdf2Sync('correct horse', salt, 1000, 16, 'sha1').toString('hex').toUpperCase(),
    );
    expect(toHex(pbkdf2HmacSha1(utf8Encode('pw'), salt, 3, 45))).toBe(
      pbkdf2Sync('pw', salt, 3, 45, 'sha1').toString('hex').toUpperCase(),
    );
  });
});
