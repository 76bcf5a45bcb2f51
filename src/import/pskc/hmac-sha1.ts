/**
 * HMAC-SHA1 for many short messages under one key (the ValueMAC of every key
 * package in a PSKC file). The key's inner and outer padded blocks are
 * compressed once; each MAC then costs two SHA-1 compressions for a value
 * of up to 55 bytes, with no native call. Checked against createHmac in
 * test/import/crypto.test.ts.
 *
 * Why not createHmac: measured 2026-12 on Node 20.20, 100,000 values of 32
 * bytes cost 0.12-0.17 s CPU here and 0.49-0.71 s with a createHmac per value,
 * about 0.45 s of the 5 s a 100,000-token PSKC import takes (9%). With this
 * file and gcm-many.ts both replaced by node:crypto the import took 1.1 s
 * more: 100,000 tokens import in 4.9-5.3 s CPU against pskc2csv's 39-52 s
 * (two runs on a loaded 2-core machine), a CPU lead of 7.5-10.6x that 1.1 s
 * more would cut to 6-8x.
 */
import { createHash } from 'node:crypto';

const W = new Int32Array(80);
const BLOCK = new Uint8Array(64);

/** One SHA-1 compression of `block` (64 bytes at `off`) into the five words of `h`. */
function compress(h: Int32Array, block: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + i * 4;
    W[i] = (block[j]! << 24) | (block[j + 1]! << 16) | (block[j + 2]! << 8) | block[j + 3]!;
  }
  for (let i = 16; i < 80; i++) {
    const x = W[i - 3]! ^ W[i - 8]! ^ W[i - 14]! ^ W[i - 16]!;
    W[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0]!;
  let b = h[1]!;
  let c = h[2]!;
  let d = h[3]!;
  let e = h[4]!;
  for (let i = 0; i < 20; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 20; i < 40; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 40; i < 60; i++) {
    const t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e + 0x8f1bbcdc + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  for (let i = 60; i < 80; i++) {
    const t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0xca62c1d6 + W[i]!) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  h[0] = (h[0]! + a) | 0;
  h[1] = (h[1]! + b) | 0;
  h[2] = (h[2]! + c) | 0;
  h[3] = (h[3]! + d) | 0;
  h[4] = (h[4]! + e) | 0;
}

const INIT = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

const H = new Int32Array(5);
const INNER = new Uint8Array(20);

/** SHA-1 of (a 64-byte prefix already compressed into `state`) || data, left in H. */
function finish(state: Int32Array, data: Uint8Array): void {
  H.set(state);
  let off = 0;
  for (; off + 64 <= data.length; off += 64) compress(H, data, off);
  const rest = data.length - off;
  BLOCK.fill(0);
  BLOCK.set(data.subarray(off), 0);
  BLOCK[rest] = 0x80;
  if (rest >= 56) {
    compress(H, BLOCK, 0);
    BLOCK.fill(0);
  }
  // Message length in bits, after the 64-byte key block; fits in 53 bits for any Buffer.
  const bits = (64 + data.length) * 8;
  const hi = Math.floor(bits / 0x100000000);
  const lo = bits >>> 0;
  BLOCK[56] = hi >>> 24;
  BLOCK[57] = hi >>> 16;
  BLOCK[58] = hi >>> 8;
  BLOCK[59] = hi;
  BLOCK[60] = lo >>> 24;
  BLOCK[61] = lo >>> 16;
  BLOCK[62] = lo >>> 8;
  BLOCK[63] = lo;
  compress(H, BLOCK, 0);
}

function wordsTo(out: Uint8Array): void {
  for (let i = 0; i < 5; i++) {
    const w = H[i]!;
    out[i * 4] = w >>> 24;
    out[i * 4 + 1] = w >>> 16;
    out[i * 4 + 2] = w >>> 8;
    out[i * 4 + 3] = w;
  }
}

export class HmacSha1 {
  private readonly inner = Int32Array.from(INIT);
  private readonly outer = Int32Array.from(INIT);

  constructor(key: Uint8Array) {
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? createHash('sha1').update(key).digest() : key);
    const pad = new Uint8Array(64);
    for (let i = 0; i < 64; i++) pad[i] = k[i]! ^ 0x36;
    compress(this.inner, pad, 0);
    for (let i = 0; i < 64; i++) pad[i] = k[i]! ^ 0x5c;
    compress(this.outer, pad, 0);
    k.fill(0);
    pad.fill(0);
  }

  private run(data: Uint8Array): void {
    finish(this.inner, data);
    wordsTo(INNER);
    finish(this.outer, INNER);
  }

  mac(data: Uint8Array): Buffer {
    this.run(data);
    const out = Buffer.allocUnsafe(20);
    wordsTo(out);
    return out;
  }

  /** Whether `mac` is the MAC of `data`, compared in constant time over its 20 bytes. */
  verify(data: Uint8Array, mac: Uint8Array): boolean {
    if (mac.length !== 20) return false;
    this.run(data);
    let diff = 0;
    for (let i = 0; i < 5; i++)
      diff |= H[i]! ^ ((mac[i * 4]! << 24) | (mac[i * 4 + 1]! << 16) | (mac[i * 4 + 2]! << 8) | mac[i * 4 + 3]!);
    return diff === 0;
  }
}
