/** Shared by the provisioning tests: an in-memory store and RFC 6238 codes computed here, independently of otpauth. */
import { createHmac } from 'node:crypto';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';

export function memoryStore(): Store {
  return openSqliteStore({ path: ':memory:', env: {}, operator: 'test' });
}

/** RFC 4226 HOTP with SHA-1, 6 digits. */
export function hotp(seed: Buffer, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', seed).update(msg).digest();
  const off = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[off]! & 0x7f) << 24) | (mac[off + 1]! << 16) | (mac[off + 2]! << 8) | mac[off + 3]!;
  return String(bin % 1_000_000).padStart(6, '0');
}

/** The TOTP code (30 s) at a time, `steps` steps away from it. */
export function totp(seed: Buffer, at: Date, steps = 0): string {
  return hotp(seed, Math.floor(at.getTime() / 30000) + steps);
}

export function base32(buf: Buffer): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of buf) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += A[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += A[(value << (5 - bits)) & 31];
  return out;
}

/** Labelled test seeds (never a real token's). */
export const TEST_SEEDS = {
  p1: Buffer.from('12345678901234567890', 'ascii'),
  p2: Buffer.from('test-seed-two-abcdefgh', 'ascii'),
  p3: Buffer.from('test-seed-three-abcdef', 'ascii'),
  c1: Buffer.from('test-seed-classic-abcd', 'ascii'),
};
