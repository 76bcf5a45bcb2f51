/**
 * The batch sealer: its AES-GCM must be OpenSSL's, byte for byte, for every
 * key size, message length and associated-data length; and sealSeeds must
 * give what sealSeed gives (same layout, fresh nonces, opens with openSeed).
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmEncryptMany, type GcmMessage } from '../../src/store/gcm-many.js';
import { openSeed, sealSeeds, seedBinding } from '../../src/store/vault.js';

function openssl(key: Buffer, m: GcmMessage): { ct: Buffer; tag: Buffer } {
  const c = createCipheriv(`aes-${key.length * 8}-gcm` as 'aes-256-gcm', key, m.nonce);
  c.setAAD(m.aad);
  const ct = Buffer.concat([c.update(m.plaintext), c.final()]);
  return { ct, tag: c.getAuthTag() };
}

describe('gcmEncryptMany', () => {
  for (const keyBytes of [16, 24, 32]) {
    it(`AES-${keyBytes * 8}-GCM equals OpenSSL for plaintexts of 0..100 bytes and associated data of 0..70 bytes`, () => {
      const key = randomBytes(keyBytes);
      const messages: GcmMessage[] = [];
      for (let p = 0; p <= 100; p++)
        messages.push({ nonce: randomBytes(12), plaintext: randomBytes(p), aad: randomBytes((p * 7) % 71) });
      // Block edges on both sides, and all-zero / all-one inputs.
      for (const n of [15, 16, 17, 31, 32, 33, 48, 64]) {
        messages.push({ nonce: randomBytes(12), plaintext: Buffer.alloc(n, 0xff), aad: Buffer.alloc(n) });
        messages.push({ nonce: Buffer.alloc(12), plaintext: Buffer.alloc(n), aad: Buffer.alloc(0) });
      }
      const seen: number[] = [];
      gcmEncryptMany(key, messages, (i, ct, tag) => {
        const ref = openssl(key, messages[i]!);
        expect(Buffer.from(ct).toString('hex'), `message ${i}`).toBe(ref.ct.toString('hex'));
        expect(Buffer.from(tag).toString('hex'), `tag ${i}`).toBe(ref.tag.toString('hex'));
        seen.push(i);
      });
      expect(seen).toEqual(messages.map((_, i) => i));
    });
  }

  it('a key change between calls takes the new key', () => {
    const m: GcmMessage = { nonce: randomBytes(12), plaintext: randomBytes(20), aad: Buffer.from('a') };
    for (const key of [randomBytes(32), randomBytes(32), randomBytes(16)]) {
      gcmEncryptMany(key, [m], (_, ct, tag) => {
        expect(Buffer.from(ct)).toEqual(openssl(key, m).ct);
        expect(Buffer.from(tag)).toEqual(openssl(key, m).tag);
      });
    }
  });

  it('refuses a nonce that is not 12 bytes and a key that is not an AES key', () => {
    expect(() =>
      gcmEncryptMany(
        randomBytes(32),
        [{ nonce: randomBytes(16), plaintext: randomBytes(4), aad: Buffer.alloc(0) }],
        () => {},
      ),
    ).toThrow(/12 bytes/);
    expect(() =>
      gcmEncryptMany(
        randomBytes(20),
        [{ nonce: randomBytes(12), plaintext: randomBytes(4), aad: Buffer.alloc(0) }],
        () => {},
      ),
    ).toThrow(/16, 24 or 32/);
  });
});

describe('sealSeeds', () => {
  it('seals like sealSeed: version byte, a fresh nonce each, and each one opens with openSeed under its own binding only', () => {
    const key = randomBytes(32);
    const items = Array.from({ length: 300 }, (_, i) =>
      i % 50 === 7
        ? null
        : {
            seed: randomBytes(1 + (i % 64)),
            aad: seedBinding({ manufacturer: i % 3 ? 'Bench' : 'Größe AG', serial: `S${i}` }),
          },
    );
    const sealed = sealSeeds(key, items);
    expect(sealed).toHaveLength(items.length);
    const nonces = new Set<string>();
    for (const [i, it] of items.entries()) {
      const s = sealed[i];
      if (!it) {
        expect(s).toBeNull();
        continue;
      }
      expect(s![0]).toBe(0x01);
      expect(s!.length).toBe(1 + 12 + it.seed.length + 16);
      nonces.add(s!.subarray(1, 13).toString('hex'));
      expect(openSeed(key, s!, it.aad)).toEqual(Buffer.from(it.seed));
      expect(openSeed(key, s!, seedBinding({ manufacturer: 'Bench', serial: `S${i}x` }))).toBeNull();
      expect(openSeed(randomBytes(32), s!, it.aad)).toBeNull();
    }
    expect(nonces.size).toBe(items.filter(Boolean).length);
  });
});
