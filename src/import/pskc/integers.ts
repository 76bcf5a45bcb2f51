/**
 * Integers in PSKC values as python-pskc reads them: decimal text, base64
 * of ASCII digits or of a big-endian number; HOTP counters up to 2^64-1.
 */
import { DataError } from '../../core/errors.js';
import { decodeBase64 } from '../../core/codecs.js';

/** python-pskc's rule for integers: decimal text, else base64 of ASCII digits or of a big-endian number. */
export function plainInteger(text: string, what: string): number {
  const t = text.trim();
  if (/^-?\d+$/.test(t)) return Number(t);
  const bytes = decodeBase64(t, what);
  if (bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39)) return Number(bytes.toString('ascii'));
  return bytesToInteger(bytes, what);
}

export function bytesToInteger(bytes: Buffer, what: string): number {
  const n = bytesToBigInt(bytes, what);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new DataError(`${what}: ${n} is too large`, { code: 'bad-number' });
  return Number(n);
}

function bytesToBigInt(bytes: Buffer, what: string): bigint {
  if (bytes.length === 0 || bytes.length > 8)
    throw new DataError(`${what}: ${bytes.length} bytes is not an integer`, { code: 'bad-number' });
  return bytes.reduce((acc, b) => acc * 256n + BigInt(b), 0n);
}

const MAX_COUNTER = (1n << 64n) - 1n;

/** An HOTP counter as python-pskc reads it, up to 2^64-1 (RFC 4226's 8-byte moving factor); empty is absent. */
export function counterOf(v: Buffer | string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const text = typeof v === 'string' ? v.trim() : /^\d+$/.test(v.toString('latin1')) ? v.toString('latin1') : null;
  if (text === '') return undefined;
  let n: bigint;
  if (text !== null && /^\d+$/.test(text)) n = BigInt(text);
  else {
    const bytes = typeof v === 'string' ? decodeBase64(v.trim(), 'Counter') : v;
    n =
      bytes.length > 0 && bytes.every((b) => b >= 0x30 && b <= 0x39)
        ? BigInt(bytes.toString('ascii'))
        : bytesToBigInt(bytes, 'Counter');
  }
  if (n > MAX_COUNTER)
    throw new DataError(`Counter ${n} is beyond 2^64-1, the largest HOTP counter`, { code: 'bad-counter' });
  return n;
}
