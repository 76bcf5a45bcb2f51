/**
 * SM4 (GB/T 32907-2016) block cipher in plain TypeScript: ECB, CBC and ISO
 * 9797-1 padding method 2. Browsers have no SM4 in WebCrypto, so the drivers
 * use this everywhere; tests check it against the standard's known answer and
 * against Node's OpenSSL (sm4-ecb / sm4-cbc).
 *
 * Why not node:crypto (which has sm4-ecb and sm4-cbc on Node 20): drivers that
 * use SM4 are bundled into the browser station (dist/web/station.js), where
 * there is no node:crypto; it is not on the import path, so speed is no reason.
 */

// prettier-ignore
const SBOX = new Uint8Array([
  0xd6, 0x90, 0xe9, 0xfe, 0xcc, 0xe1, 0x3d, 0xb7, 0x16, 0xb6, 0x14, 0xc2, 0x28, 0xfb, 0x2c, 0x05,
  0x2b, 0x67, 0x9a, 0x76, 0x2a, 0xbe, 0x04, 0xc3, 0xaa, 0x44, 0x13, 0x26, 0x49, 0x86, 0x06, 0x99,
  0x9c, 0x42, 0x50, 0xf4, 0x91, 0xef, 0x98, 0x7a, 0x33, 0x54, 0x0b, 0x43, 0xed, 0xcf, 0xac, 0x62,
  0xe4, 0xb3, 0x1c, 0xa9, 0xc9, 0x08, 0xe8, 0x95, 0x80, 0xdf, 0x94, 0xfa, 0x75, 0x8f, 0x3f, 0xa6,
  0x47, 0x07, 0xa7, 0xfc, 0xf3, 0x73, 0x17, 0xba, 0x83, 0x59, 0x3c, 0x19, 0xe6, 0x85, 0x4f, 0xa8,
  0x68, 0x6b, 0x81, 0xb2, 0x71, 0x64, 0xda, 0x8b, 0xf8, 0xeb, 0x0f, 0x4b, 0x70, 0x56, 0x9d, 0x35,
  0x1e, 0x24, 0x0e, 0x5e, 0x63, 0x58, 0xd1, 0xa2, 0x25, 0x22, 0x7c, 0x3b, 0x01, 0x21, 0x78, 0x87,
  0xd4, 0x00, 0x46, 0x57, 0x9f, 0xd3, 0x27, 0x52, 0x4c, 0x36, 0x02, 0xe7, 0xa0, 0xc4, 0xc8, 0x9e,
  0xea, 0xbf, 0x8a, 0xd2, 0x40, 0xc7, 0x38, 0xb5, 0xa3, 0xf7, 0xf2, 0xce, 0xf9, 0x61, 0x15, 0xa1,
  0xe0, 0xae, 0x5d, 0xa4, 0x9b, 0x34, 0x1a, 0x55, 0xad, 0x93, 0x32, 0x30, 0xf5, 0x8c, 0xb1, 0xe3,
  0x1d, 0xf6, 0xe2, 0x2e, 0x82, 0x66, 0xca, 0x60, 0xc0, 0x29, 0x23, 0xab, 0x0d, 0x53, 0x4e, 0x6f,
  0xd5, 0xdb, 0x37, 0x45, 0xde, 0xfd, 0x8e, 0x2f, 0x03, 0xff, 0x6a, 0x72, 0x6d, 0x6c, 0x5b, 0x51,
  0x8d, 0x1b, 0xaf, 0x92, 0xbb, 0xdd, 0xbc, 0x7f, 0x11, 0xd9, 0x5c, 0x41, 0x1f, 0x10, 0x5a, 0xd8,
  0x0a, 0xc1, 0x31, 0x88, 0xa5, 0xcd, 0x7b, 0xbd, 0x2d, 0x74, 0xd0, 0x12, 0xb8, 0xe5, 0xb4, 0xb0,
  0x89, 0x69, 0x97, 0x4a, 0x0c, 0x96, 0x77, 0x7e, 0x65, 0xb9, 0xf1, 0x09, 0xc5, 0x6e, 0xc6, 0x84,
  0x18, 0xf0, 0x7d, 0xec, 0x3a, 0xdc, 0x4d, 0x20, 0x79, 0xee, 0x5f, 0x3e, 0xd7, 0xcb, 0x39, 0x48,
]);

const FK = [0xa3b1bac6, 0x56aa3350, 0x677d9197, 0xb27022dc];

// CK[i] byte j = (4i + j) * 7 mod 256, as the standard defines it.
const CK = Array.from({ length: 32 }, (_, i) => {
  let w = 0;
  for (let j = 0; j < 4; j++) w = (w << 8) | (((4 * i + j) * 7) & 0xff);
  return w >>> 0;
});

const rotl = (x: number, n: number): number => ((x << n) | (x >>> (32 - n))) >>> 0;

function tau(a: number): number {
  return (
    ((SBOX[(a >>> 24) & 0xff]! << 24) |
      (SBOX[(a >>> 16) & 0xff]! << 16) |
      (SBOX[(a >>> 8) & 0xff]! << 8) |
      SBOX[a & 0xff]!) >>>
    0
  );
}

function roundT(x: number): number {
  const b = tau(x);
  return (b ^ rotl(b, 2) ^ rotl(b, 10) ^ rotl(b, 18) ^ rotl(b, 24)) >>> 0;
}

function keyT(x: number): number {
  const b = tau(x);
  return (b ^ rotl(b, 13) ^ rotl(b, 23)) >>> 0;
}

function readWord(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function writeWord(b: Uint8Array, off: number, w: number): void {
  b[off] = w >>> 24;
  b[off + 1] = (w >>> 16) & 0xff;
  b[off + 2] = (w >>> 8) & 0xff;
  b[off + 3] = w & 0xff;
}

/** One SM4 key: the 32 round keys, ready to encrypt or decrypt blocks. */
export class Sm4 {
  private readonly rk: Uint32Array;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError(`SM4 needs a 16-byte key, got ${key.length} bytes`);
    const k = [0, 1, 2, 3].map((i) => (readWord(key, 4 * i) ^ FK[i]!) >>> 0);
    this.rk = new Uint32Array(32);
    for (let i = 0; i < 32; i++) {
      const next = (k[i]! ^ keyT((k[i + 1]! ^ k[i + 2]! ^ k[i + 3]! ^ CK[i]!) >>> 0)) >>> 0;
      k.push(next);
      this.rk[i] = next;
    }
  }

  private crypt(input: Uint8Array, inOff: number, out: Uint8Array, outOff: number, decrypt: boolean): void {
    let x0 = readWord(input, inOff);
    let x1 = readWord(input, inOff + 4);
    let x2 = readWord(input, inOff + 8);
    let x3 = readWord(input, inOff + 12);
    for (let i = 0; i < 32; i++) {
      const rk = this.rk[decrypt ? 31 - i : i]!;
      const x4 = (x0 ^ roundT((x1 ^ x2 ^ x3 ^ rk) >>> 0)) >>> 0;
      x0 = x1;
      x1 = x2;
      x2 = x3;
      x3 = x4;
    }
    writeWord(out, outOff, x3);
    writeWord(out, outOff + 4, x2);
    writeWord(out, outOff + 8, x1);
    writeWord(out, outOff + 12, x0);
  }

  encryptBlock(block: Uint8Array): Uint8Array {
    checkBlocks(block);
    const out = new Uint8Array(16);
    this.crypt(block, 0, out, 0, false);
    return out;
  }

  decryptBlock(block: Uint8Array): Uint8Array {
    checkBlocks(block);
    const out = new Uint8Array(16);
    this.crypt(block, 0, out, 0, true);
    return out;
  }

  /** ECB over whole blocks (no padding: the caller pads). */
  encryptEcb(data: Uint8Array): Uint8Array {
    checkBlocks(data);
    const out = new Uint8Array(data.length);
    for (let off = 0; off < data.length; off += 16) this.crypt(data, off, out, off, false);
    return out;
  }

  decryptEcb(data: Uint8Array): Uint8Array {
    checkBlocks(data);
    const out = new Uint8Array(data.length);
    for (let off = 0; off < data.length; off += 16) this.crypt(data, off, out, off, true);
    return out;
  }

  /** CBC over whole blocks (no padding: the caller pads). */
  encryptCbc(data: Uint8Array, iv: Uint8Array = new Uint8Array(16)): Uint8Array {
    checkBlocks(data);
    if (iv.length !== 16) throw new RangeError(`SM4-CBC needs a 16-byte IV, got ${iv.length} bytes`);
    const out = new Uint8Array(data.length);
    const chain = Uint8Array.from(iv);
    for (let off = 0; off < data.length; off += 16) {
      for (let i = 0; i < 16; i++) chain[i]! ^= data[off + i]!;
      this.crypt(chain, 0, out, off, false);
      chain.set(out.subarray(off, off + 16));
    }
    return out;
  }
}

function checkBlocks(data: Uint8Array): void {
  if (data.length === 0 || data.length % 16 !== 0) {
    throw new RangeError(`SM4 works on whole 16-byte blocks, got ${data.length} bytes`);
  }
}

/** ISO/IEC 9797-1 padding method 2: always append 80, then 00 up to a block multiple. */
export function padMethod2(data: Uint8Array): Uint8Array {
  const len = (Math.floor(data.length / 16) + 1) * 16;
  const out = new Uint8Array(len);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}
