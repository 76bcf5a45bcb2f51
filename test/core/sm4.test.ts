import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sm4, padMethod2 } from '../../src/core/sm4.js';
import { padIfNeeded, sm4CbcMac } from '../../drivers/token2-shared/protocol.js';
import { fromHex as hex, toHex } from '../helpers/bytes.js';

function opensslEcb(key: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('sm4-ecb', key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function opensslCbc(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv('sm4-cbc', key, iv);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

describe('SM4', () => {
  it('matches the GB/T 32907 known answer', () => {
    const k = hex('0123456789abcdeffedcba9876543210');
    const sm4 = new Sm4(k);
    expect(toHex(sm4.encryptBlock(k))).toBe('681edf34d206965e86b3e94f536e4246');
    expect(toHex(sm4.decryptBlock(hex('681edf34d206965e86b3e94f536e4246')))).toBe(toHex(k));
  });

  it('agrees with OpenSSL when iterated 1000 times', () => {
    const k = hex('0123456789abcdeffedcba9876543210');
    const sm4 = new Sm4(k);
    let a: Uint8Array = k;
    let b: Buffer = Buffer.from(k);
    for (let i = 0; i < 1000; i++) {
      a = sm4.encryptBlock(a);
      b = opensslEcb(k, b);
    }
    expect(toHex(a)).toBe(b.toString('hex'));
  });

  it('agrees with OpenSSL sm4-ecb and sm4-cbc on random keys and data', () => {
    for (let i = 0; i < 50; i++) {
      const key = randomBytes(16);
      const iv = randomBytes(16);
      const data = randomBytes(16 * (1 + (i % 5)));
      const sm4 = new Sm4(key);
      expect(toHex(sm4.encryptEcb(data))).toBe(opensslEcb(key, data).toString('hex'));
      expect(toHex(sm4.encryptCbc(data, iv))).toBe(opensslCbc(key, iv, data).toString('hex'));
      expect(toHex(sm4.decryptEcb(sm4.encryptEcb(data)))).toBe(data.toString('hex'));
    }
  });

  it('refuses partial blocks and wrong key sizes', () => {
    expect(() => new Sm4(new Uint8Array(15))).toThrow(/16-byte key/);
    expect(() => new Sm4(new Uint8Array(16)).encryptEcb(new Uint8Array(17))).toThrow(/whole 16-byte blocks/);
  });

  it('pads by ISO 9797-1 method 2 always, and the MAC way only when needed', () => {
    expect(toHex(padMethod2(hex('0102')))).toBe('0102' + '80' + '00'.repeat(13));
    expect(padMethod2(new Uint8Array(32)).length).toBe(48);
    expect(padMethod2(new Uint8Array(32))[32]).toBe(0x80);
    expect(padIfNeeded(new Uint8Array(32)).length).toBe(32);
    expect(padIfNeeded(new Uint8Array(24)).length).toBe(32);
    expect(padIfNeeded(new Uint8Array(24))[24]).toBe(0x80);
  });

  it('computes the CBC-MAC as the first bytes of the last OpenSSL CBC block', () => {
    const key = randomBytes(16);
    const data = randomBytes(24);
    const padded = Buffer.concat([data, hex('80' + '00'.repeat(7))]);
    const enc = opensslCbc(key, Buffer.alloc(16), padded);
    expect(toHex(sm4CbcMac(key, data))).toBe(enc.subarray(16, 20).toString('hex'));
  });
});
