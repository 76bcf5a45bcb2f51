/** PSKC cryptography against published vectors and OpenSSL's own implementations. */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  aesKeyUnwrap,
  aesKeyWrap,
  cipherByUri,
  decryptValue,
  encryptValue,
  macHashByUri,
  pbkdf2,
  tripleDesKeyUnwrap,
  tripleDesKeyWrap,
} from '../../src/import/pskc/crypto.js';
import { HmacSha1 } from '../../src/import/pskc/hmac-sha1.js';

describe('AES key wrap', () => {
  it('matches RFC 3394 section 4.1 (128-bit KEK, 128-bit key data)', () => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F', 'hex');
    const data = Buffer.from('00112233445566778899AABBCCDDEEFF', 'hex');
    const wrapped = Buffer.from('1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5', 'hex');
    expect(aesKeyWrap(kek, data).equals(wrapped)).toBe(true);
    expect(aesKeyUnwrap(kek, wrapped).equals(data)).toBe(true);
  });

  it('matches RFC 3394 section 4.6 (256-bit KEK, 256-bit key data)', () => {
    const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
    const data = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex');
    const wrapped = Buffer.from(
      '28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21',
      'hex',
    );
    expect(aesKeyUnwrap(kek, wrapped).equals(data)).toBe(true);
  });

  it('unwraps RFC 5649 padded values (a 20-byte HOTP secret) and refuses a wrong key', () => {
    const kek = randomBytes(16);
    const secret = Buffer.from('12345678901234567890');
    const wrapped = aesKeyWrap(kek, secret);
    expect(aesKeyUnwrap(kek, wrapped).equals(secret)).toBe(true);
    expect(() => aesKeyUnwrap(randomBytes(16), wrapped)).toThrow(/integrity check/);
  });
});

describe('triple-DES key wrap (RFC 3217)', () => {
  it('round-trips and unwraps what OpenSSL wraps (id-smime-alg-CMS3DESwrap)', () => {
    const kek = randomBytes(24);
    const cek = randomBytes(24);
    const ours = tripleDesKeyWrap(kek, cek, randomBytes(8));
    expect(ours.length).toBe(40);
    expect(tripleDesKeyUnwrap(kek, ours).equals(cek)).toBe(true);
    // OpenSSL's implementation, the independent reference: it must read ours, and we must read its.
    const theirs = createCipheriv('id-smime-alg-CMS3DESwrap', kek, null);
    const wrappedByOpenssl = Buffer.concat([theirs.update(cek), theirs.final()]);
    expect(tripleDesKeyUnwrap(kek, wrappedByOpenssl).equals(cek)).toBe(true);
    const d = createDecipheriv('id-smime-alg-CMS3DESwrap', kek, null);
    expect(Buffer.concat([d.update(ours), d.final()]).equals(cek)).toBe(true);
  });

  it('refuses a wrong key by the CMS key checksum', () => {
    const kek = randomBytes(24);
    const wrapped = tripleDesKeyWrap(kek, randomBytes(24), randomBytes(8));
    expect(() => tripleDesKeyUnwrap(randomBytes(24), wrapped)).toThrow(/checksum/);
  });
});

describe('CBC values and algorithm URIs', () => {
  it('decrypts IV || ciphertext for every CBC cipher and refuses bad padding', () => {
    for (const name of ['aes128-cbc', 'aes192-cbc', 'aes256-cbc', 'tripledes-cbc']) {
      const spec = cipherByUri(`http://www.w3.org/2001/04/xmlenc#${name}`)!;
      const key = randomBytes(spec.keyBytes);
      for (const len of [1, 16, 20, 32]) {
        const plain = randomBytes(len);
        const ct = encryptValue(spec, key, plain, randomBytes(spec.blockBytes));
        expect(decryptValue(spec, key, ct).equals(plain), `${name} ${len}`).toBe(true);
      }
    }
    const spec = cipherByUri('http://www.w3.org/2001/04/xmlenc#aes128-cbc')!;
    const key = randomBytes(16);
    const ct = encryptValue(spec, key, Buffer.alloc(16, 7), randomBytes(16));
    // The last plaintext byte is the padding length 16; flipping the same bit of the block before makes it 0.
    ct[ct.length - 17]! ^= 0x10;
    expect(() => decryptValue(spec, key, ct)).toThrow(/bad padding/);
    expect(cipherByUri('http://www.w3.org/2001/04/xmlenc#tokensmith-no-such-cipher')).toBeNull();
    expect(() => decryptValue(spec, randomBytes(24), ct)).toThrow(/needs 16/);
  });

  it('reads MAC and PRF URIs from xmldsig and xmldsig-more', () => {
    expect(macHashByUri('http://www.w3.org/2000/09/xmldsig#hmac-sha1')).toBe('sha1');
    expect(macHashByUri('http://www.w3.org/2001/04/xmldsig-more#hmac-sha512')).toBe('sha512');
    expect(macHashByUri('http://www.w3.org/2001/04/xmldsig-more#hmac-md5')).toBeNull();
  });

  it('derives RFC 6030 figure 7 key with PBKDF2', () => {
    const key = pbkdf2('qwerty', Buffer.from('Ej7/PEpyEpw=', 'base64'), 1000, 16, 'sha1');
    expect(key.toString('hex')).toBe('651e63cd57008476af1ff6422cd02e41');
  });
});

describe('HMAC-SHA1 with a precomputed key schedule', () => {
  it('matches RFC 2202 test case 2', () => {
    const h = new HmacSha1(Buffer.from('Jefe'));
    expect(h.mac(Buffer.from('what do ya want for nothing?')).toString('hex')).toBe(
      'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79',
    );
  });

  it('matches createHmac for keys and values of every length around the block edges', () => {
    for (const keyLength of [0, 1, 16, 20, 63, 64, 65, 131]) {
      for (const dataLength of [0, 1, 20, 48, 55, 56, 63, 64, 65, 119, 120, 128, 1000]) {
        const key = randomBytes(keyLength);
        const data = randomBytes(dataLength);
        const h = new HmacSha1(key);
        const expected = createHmac('sha1', key).update(data).digest();
        expect(h.mac(data).equals(expected), `key ${keyLength} data ${dataLength}`).toBe(true);
        // The same object again: no state carries over from one value to the next.
        expect(h.verify(data, expected)).toBe(true);
      }
    }
  });

  it('verify refuses a MAC that differs in any byte or in length', () => {
    const key = randomBytes(20);
    const data = randomBytes(48);
    const h = new HmacSha1(key);
    const mac = createHmac('sha1', key).update(data).digest();
    for (let i = 0; i < mac.length; i++) {
      const bad = Buffer.from(mac);
      bad[i]! ^= 0x01;
      expect(h.verify(data, bad)).toBe(false);
    }
    expect(h.verify(data, mac.subarray(0, 19))).toBe(false);
    expect(h.verify(data, Buffer.concat([mac, Buffer.alloc(1)]))).toBe(false);
    expect(h.verify(Buffer.concat([data, Buffer.alloc(1)]), mac)).toBe(false);
  });
});
