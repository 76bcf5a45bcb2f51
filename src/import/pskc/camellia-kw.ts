/**
 * Camellia key wrap (RFC 3657): the RFC 3394 wrapping process with Camellia
 * as the block cipher (node:crypto has Camellia but no Camellia key wrap).
 * Wrap is kept beside unwrap for tests and the RFC's vectors.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { DataError } from '../../core/errors.js';

/** RFC 3394 section 2.2.3.1's default initial value, which RFC 3657 keeps. */
const IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');

function ecbName(kek: Buffer): string {
  if (kek.length !== 16 && kek.length !== 24 && kek.length !== 32) {
    throw new DataError(`Camellia key wrap needs a 16, 24 or 32-byte key, got ${kek.length}`, {
      code: 'bad-key-length',
    });
  }
  return `camellia-${kek.length * 8}-ecb`;
}

/** Wraps n 64-bit blocks (RFC 3394 section 2.2.1, index form). */
export function camelliaKeyWrap(kek: Buffer, plain: Buffer): Buffer {
  if (plain.length < 16 || plain.length % 8 !== 0)
    throw new DataError(`Camellia key wrap needs a multiple of 8 bytes, at least 16, got ${plain.length}`, {
      code: 'bad-length',
    });
  const c = createCipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const n = plain.length / 8;
  let a: Buffer = Buffer.from(IV);
  const r = Buffer.from(plain);
  for (let j = 0; j <= 5; j++) {
    for (let i = 1; i <= n; i++) {
      const b = c.update(Buffer.concat([a, r.subarray((i - 1) * 8, i * 8)]));
      a = xorCounter(b.subarray(0, 8), BigInt(n * j + i));
      b.copy(r, (i - 1) * 8, 8, 16);
    }
  }
  return Buffer.concat([a, r]);
}

/** Unwraps (RFC 3394 section 2.2.2, index form); null when the integrity check fails (a wrong key). */
export function camelliaKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer | null {
  if (wrapped.length < 24 || wrapped.length % 8 !== 0) return null;
  const d = createDecipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const n = wrapped.length / 8 - 1;
  let a: Buffer = Buffer.from(wrapped.subarray(0, 8));
  const r = Buffer.from(wrapped.subarray(8));
  for (let j = 5; j >= 0; j--) {
    for (let i = n; i >= 1; i--) {
      const b = d.update(Buffer.concat([xorCounter(a, BigInt(n * j + i)), r.subarray((i - 1) * 8, i * 8)]));
      a = b.subarray(0, 8);
      b.copy(r, (i - 1) * 8, 8, 16);
    }
  }
  return timingSafeEqual(a, IV) ? r : null;
}

function xorCounter(a: Buffer, t: bigint): Buffer {
  const out = Buffer.from(a);
  const tb = Buffer.alloc(8);
  tb.writeBigUInt64BE(t);
  for (let k = 0; k < 8; k++) out[k]! ^= tb[k]!;
  return out;
}
