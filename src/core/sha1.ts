/**
 * SHA-1 (FIPS 180-4), HMAC-SHA1 and PBKDF2-HMAC-SHA1 in plain TypeScript, for
 * drivers that derive keys synchronously and also build for the browser, which
 * has no node:crypto (and WebCrypto's digest is async, which the protocol code
 * is not). Short inputs only; checked against node:crypto in test/core/sha1.test.ts.
 */

const rotl = (x: number, n: number) => (x << n) | (x >>> (32 - n));

/** The padded message: data, 0x80, zeros, then the bit length as 64-bit big-endian. */
function pad(data: Uint8Array): Uint8Array {
  const len = Math.ceil((data.length + 9) / 64) * 64;
  const out = new Uint8Array(len);
  out.set(data);
  out[data.length] = 0x80;
  const view = new DataView(out.buffer);
  view.setUint32(len - 8, Math.floor(data.length / 0x20000000));
  view.setUint32(len - 4, (data.length * 8) >>> 0);
  return out;
}

function compress(h: Uint32Array, block: DataView, w: Uint32Array): void {
  for (let i = 0; i < 16; i++) w[i] = block.getUint32(i * 4);
  for (let i = 16; i < 80; i++) w[i] = rotl(w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!, 1);
  let [a, b, c, d, e] = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  for (let i = 0; i < 80; i++) {
    const [f, k] =
      i < 20
        ? [(b & c) | (~b & d), 0x5a827999]
        : i < 40
          ? [b ^ c ^ d, 0x6ed9eba1]
          : i < 60
            ? [(b & c) | (b & d) | (c & d), 0x8f1bbcdc]
            : [b ^ c ^ d, 0xca62c1d6];
    const t = (rotl(a, 5) + f + e + k + w[i]!) >>> 0;
    [e, d, c, b, a] = [d, c, rotl(b, 30) >>> 0, a, t];
  }
  h[0] = (h[0]! + a) >>> 0;
  h[1] = (h[1]! + b) >>> 0;
  h[2] = (h[2]! + c) >>> 0;
  h[3] = (h[3]! + d) >>> 0;
  h[4] = (h[4]! + e) >>> 0;
}

/** The 20-byte SHA-1 digest of `data`. */
export function sha1(data: Uint8Array): Uint8Array {
  const msg = pad(data);
  const h = Uint32Array.from([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  const w = new Uint32Array(80);
  for (let off = 0; off < msg.length; off += 64) compress(h, new DataView(msg.buffer, off, 64), w);
  const out = new Uint8Array(20);
  const view = new DataView(out.buffer);
  h.forEach((v, i) => view.setUint32(i * 4, v));
  return out;
}

/** HMAC-SHA1 (RFC 2104) over the pure SHA-1: a challenge-response exchange, a few per command. */
export function hmacSha1(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = new Uint8Array(64);
  k.set(key.length > 64 ? sha1(key) : key);
  const inner = new Uint8Array(64 + message.length);
  const outer = new Uint8Array(64 + 20);
  for (let i = 0; i < 64; i++) {
    inner[i] = k[i]! ^ 0x36;
    outer[i] = k[i]! ^ 0x5c;
  }
  inner.set(message, 64);
  outer.set(sha1(inner), 64);
  return sha1(outer);
}

/** PBKDF2-HMAC-SHA1 (RFC 8018): an access key from a password (few rounds, one run per password given). */
export function pbkdf2HmacSha1(password: Uint8Array, salt: Uint8Array, rounds: number, length: number): Uint8Array {
  const out = new Uint8Array(Math.ceil(length / 20) * 20);
  for (let block = 1; block * 20 <= out.length; block++) {
    const first = new Uint8Array(salt.length + 4);
    first.set(salt);
    new DataView(first.buffer).setUint32(salt.length, block);
    let u = hmacSha1(password, first);
    const t = Uint8Array.from(u);
    for (let r = 1; r < rounds; r++) {
      u = hmacSha1(password, u);
      for (let i = 0; i < 20; i++) t[i]! ^= u[i]!;
    }
    out.set(t, (block - 1) * 20);
  }
  return out.subarray(0, length);
}
