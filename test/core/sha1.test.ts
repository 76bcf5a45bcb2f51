import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex, utf8Encode } from '../../src/core/bytes.js';
import { sha1 } from '../../src/core/sha1.js';

describe('sha1 (pure TypeScript)', () => {
  it('gives the FIPS 180 known answers', () => {
    expect(toHex(sha1(utf8Encode('abc')))).toBe('A9993E364706816ABA3E25717850C26C9CD0D89D');
    expect(toHex(sha1(new Uint8Array(0)))).toBe('DA39A3EE5E6B4B0D3255BFEF95601890AFD80709');
    expect(toHex(sha1(utf8Encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))).toBe('84983E441C3BD26EBAAE4AA1F95129E5E54670F1');
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
