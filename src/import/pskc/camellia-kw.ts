/**
 * Camellia key wrap (RFC 3657): the RFC 3394 wrapping process with Camellia
 * as the block cipher (node:crypto has Camellia but no Camellia key wrap),
 * with RFC 5649's padding for values that are not whole 64-bit blocks (a
 * 20-byte HOTP seed), as python-pskc reads them. Wrap is kept beside unwrap
 * for tests and the RFC's vectors.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import { DataError } from '../../core/errors.js';

/** RFC 3394 section 2.2.3.1's default initial value, which RFC 3657 keeps. */
const IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
/** RFC 5649 section 3's alternative initial value: these 4 bytes, then the value's length (MLI). */
const AIV = Buffer.from('a65959a6', 'hex');

function ecbName(kek: Buffer): string {
  if (kek.length !== 16 && kek.length !== 24 && kek.length !== 32) {
    throw new DataError(`Camellia key wrap needs a 16, 24 or 32-byte key, got ${kek.length}`, {
      code: 'bad-key-length',
    });
  }
  return `camellia-${kek.length * 8}-ecb`;
}

/** Wraps a value: RFC 3394 for whole blocks of 16 bytes or more, RFC 5649 (padded, its one-block shortcut) otherwise. */
export function camelliaKeyWrap(kek: Buffer, plain: Buffer): Buffer {
  if (plain.length === 0)
    throw new DataError('Camellia key wrap needs a value of at least 1 byte', { code: 'bad-length' });
  const c = createCipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const padded = plain.length % 8 !== 0 || plain.length < 16;
  const iv = padded ? Buffer.concat([AIV, uint32(plain.length)]) : IV;
  const r = Buffer.concat([plain, Buffer.alloc((8 - (plain.length % 8)) % 8)]);
  // RFC 5649 section 4.1: a single padded block is one ECB encryption of AIV || P.
  if (r.length === 8) return c.update(Buffer.concat([iv, r]));
  const n = r.length / 8;
  let a: Buffer = iv;
  for (let j = 0; j <= 5; j++) {
    for (let i = 1; i <= n; i++) {
      const b = c.update(Buffer.concat([a, r.subarray((i - 1) * 8, i * 8)]));
      a = xorCounter(b.subarray(0, 8), BigInt(n * j + i));
      b.copy(r, (i - 1) * 8, 8, 16);
    }
  }
  return Buffer.concat([a, r]);
}

/** Unwraps (RFC 3394 section 2.2.2, index form, or RFC 5649 section 4.2); null when the integrity check fails (a wrong key). */
export function camelliaKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer | null {
  if (wrapped.length < 16 || wrapped.length % 8 !== 0) return null;
  const d = createDecipheriv(ecbName(kek), kek, null).setAutoPadding(false);
  const n = wrapped.length / 8 - 1;
  let a: Buffer;
  let r: Buffer;
  if (n === 1) {
    const b = d.update(wrapped);
    [a, r] = [b.subarray(0, 8), b.subarray(8, 16)];
  } else {
    a = Buffer.from(wrapped.subarray(0, 8));
    r = Buffer.from(wrapped.subarray(8));
    for (let j = 5; j >= 0; j--) {
      for (let i = n; i >= 1; i--) {
        const b = d.update(Buffer.concat([xorCounter(a, BigInt(n * j + i)), r.subarray((i - 1) * 8, i * 8)]));
        a = b.subarray(0, 8);
        b.copy(r, (i - 1) * 8, 8, 16);
      }
    }
  }
  // One block under the RFC 3394 IV is not in the RFC, but python-pskc writes an 8-byte value so: read it as it does.
  if (timingSafeEqual(a, IV)) return r;
  return unpadded(a, r);
}

/** RFC 5649 section 3's checks: the AIV, a length within the last block, and zeros after it; null when any fails. */
function unpadded(a: Buffer, r: Buffer): Buffer | null {
  if (!timingSafeEqual(a.subarray(0, 4), AIV)) return null;
  const mli = a.readUInt32BE(4);
  if (mli <= r.length - 8 || mli > r.length) return null;
  if (r.subarray(mli).some((b) => b !== 0)) return null;
  return r.subarray(0, mli);
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function xorCounter(a: Buffer, t: bigint): Buffer {
  const out = Buffer.from(a);
  const tb = Buffer.alloc(8);
  tb.writeBigUInt64BE(t);
  for (let k = 0; k < 8; k++) out[k]! ^= tb[k]!;
  return out;
}
