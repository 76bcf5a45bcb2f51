/**
 * Seed codecs: hex, base32 (RFC 4648) and base64. Decoders are strict about
 * content and tolerant about presentation (case, spaces, `=` padding), and
 * their errors name the bad character and its position but never echo the
 * input, since the input is a seed.
 */
import { DataError } from './errors.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return code >= 0x21 && code <= 0x7e ? `'${ch}'` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

export function decodeHex(input: string, what = 'hex seed'): Buffer {
  const s = input.replace(/\s+/g, '').replace(/^0x/i, '');
  if (s.length === 0) throw new DataError(`${what} is empty`, { code: 'bad-hex' });
  for (let i = 0; i < s.length; i++) {
    if (!/[0-9a-fA-F]/.test(s[i]!)) {
      throw new DataError(`${what}: invalid hex character ${describeChar(s[i]!)} at position ${i + 1}`, {
        code: 'bad-hex',
      });
    }
  }
  if (s.length % 2 !== 0) {
    throw new DataError(`${what}: odd number of hex digits (${s.length}); hex needs two digits per byte`, {
      code: 'bad-hex',
    });
  }
  return Buffer.from(s, 'hex');
}

export function encodeHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function decodeBase32(input: string, what = 'base32 seed'): Buffer {
  // ASCII-only upper case: toUpperCase() would turn 'ß' into 'SS' and 'ı' into 'I', accepting them silently.
  let s = input.replace(/[\s-]+/g, '').replace(/[a-z]/g, (c) => c.toUpperCase());
  const firstPad = s.indexOf('=');
  if (firstPad >= 0) {
    const tail = s.slice(firstPad);
    if (!/^=+$/.test(tail)) {
      const bad = firstPad + tail.search(/[^=]/);
      throw new DataError(`${what}: character after '=' padding at position ${bad + 1}`, { code: 'bad-base32' });
    }
    s = s.slice(0, firstPad);
  }
  if (s.length === 0) throw new DataError(`${what} is empty`, { code: 'bad-base32' });
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (let i = 0; i < s.length; i++) {
    const idx = BASE32_ALPHABET.indexOf(s[i]!);
    if (idx < 0) {
      const hint =
        s[i] === '0' || s[i] === '1' || s[i] === '8' || s[i] === '9'
          ? ' (base32 uses A-Z and 2-7; 0, 1, 8, 9 are not in it)'
          : '';
      throw new DataError(`${what}: invalid base32 character ${describeChar(s[i]!)} at position ${i + 1}${hint}`, {
        code: 'bad-base32',
      });
    }
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  // Lengths 1, 3 and 6 (mod 8) cannot come from whole bytes.
  if ([1, 3, 6].includes(s.length % 8)) {
    throw new DataError(`${what}: ${s.length} characters is not a valid base32 length`, { code: 'bad-base32' });
  }
  return Buffer.from(out);
}

export function encodeBase32(bytes: Uint8Array, opts: { padding?: boolean } = {}): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= 0xff;
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  if (opts.padding) while (out.length % 8 !== 0) out += '=';
  return out;
}

/** Whether each character code is in the standard base64 alphabet. */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/')
  BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** Canonical base64: whole quads of the standard alphabet, at most two '=' at the very end. */
function isCanonicalBase64(s: string): boolean {
  const n = s.length;
  if (n === 0 || n % 4 !== 0) return false;
  let end = n;
  if (s.charCodeAt(end - 1) === 0x3d) end--;
  if (s.charCodeAt(end - 1) === 0x3d) end--;
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || BASE64_ALPHABET[c] === 0) return false;
  }
  return true;
}

export function decodeBase64(input: string, what = 'base64 seed'): Buffer {
  if (isCanonicalBase64(input)) return Buffer.from(input, 'base64');
  const s = input.replace(/\s+/g, '');
  if (s.length === 0) throw new DataError(`${what} is empty`, { code: 'bad-base64' });
  const m = /[^A-Za-z0-9+/=_-]/.exec(s);
  if (m)
    throw new DataError(`${what}: invalid base64 character ${describeChar(m[0])} at position ${m.index + 1}`, {
      code: 'bad-base64',
    });
  const pad = s.indexOf('=');
  if (pad >= 0 && !/^=+$/.test(s.slice(pad))) {
    throw new DataError(`${what}: character after '=' padding at position ${pad + s.slice(pad).search(/[^=]/) + 1}`, {
      code: 'bad-base64',
    });
  }
  const body = pad >= 0 ? s.slice(0, pad) : s;
  if (body.length % 4 === 1)
    throw new DataError(`${what}: ${body.length} characters is not a valid base64 length`, { code: 'bad-base64' });
  return Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

export type SeedEncoding = 'hex' | 'base32' | 'base64';

export function decodeSeed(input: string, encoding: SeedEncoding, what?: string): Buffer {
  switch (encoding) {
    case 'hex':
      return decodeHex(input, what);
    case 'base32':
      return decodeBase32(input, what);
    case 'base64':
      return decodeBase64(input, what);
  }
}
