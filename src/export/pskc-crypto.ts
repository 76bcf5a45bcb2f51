/**
 * The cryptography of an encrypted PSKC file (RFC 6030 section 6): the
 * transport key (pre-shared, or derived from a password with PBKDF2), the
 * value encryption, and the ValueMAC under a separate random MAC key.
 */
import { createCipheriv, createHmac, pbkdf2, randomBytes, type Cipher } from 'node:crypto';
import { promisify } from 'node:util';
import { UsageError } from '../core/errors.js';

const pbkdf2Async = promisify(pbkdf2);

const XENC = 'http://www.w3.org/2001/04/xmlenc#';

export interface CipherSpec {
  name: string;
  uri: string;
  keyBytes: number;
  /** Node cipher name; for key wrap, the padded variant is chosen by plaintext length. */
  node: string;
  /** The block cipher in ECB mode, which CBC chains (CBC only). */
  ecb?: string;
  mode: 'cbc' | 'kw';
  ivBytes: number;
}

export const CIPHERS: Record<string, CipherSpec> = {
  'aes128-cbc': {
    name: 'aes128-cbc',
    uri: `${XENC}aes128-cbc`,
    keyBytes: 16,
    node: 'aes-128-cbc',
    ecb: 'aes-128-ecb',
    mode: 'cbc',
    ivBytes: 16,
  },
  'aes192-cbc': {
    name: 'aes192-cbc',
    uri: `${XENC}aes192-cbc`,
    keyBytes: 24,
    node: 'aes-192-cbc',
    ecb: 'aes-192-ecb',
    mode: 'cbc',
    ivBytes: 16,
  },
  'aes256-cbc': {
    name: 'aes256-cbc',
    uri: `${XENC}aes256-cbc`,
    keyBytes: 32,
    node: 'aes-256-cbc',
    ecb: 'aes-256-ecb',
    mode: 'cbc',
    ivBytes: 16,
  },
  'tripledes-cbc': {
    name: 'tripledes-cbc',
    uri: `${XENC}tripledes-cbc`,
    keyBytes: 24,
    node: 'des-ede3-cbc',
    ecb: 'des-ede3-ecb',
    mode: 'cbc',
    ivBytes: 8,
  },
  'kw-aes128': {
    name: 'kw-aes128',
    uri: `${XENC}kw-aes128`,
    keyBytes: 16,
    node: 'id-aes128-wrap',
    mode: 'kw',
    ivBytes: 0,
  },
  'kw-aes192': {
    name: 'kw-aes192',
    uri: `${XENC}kw-aes192`,
    keyBytes: 24,
    node: 'id-aes192-wrap',
    mode: 'kw',
    ivBytes: 0,
  },
  'kw-aes256': {
    name: 'kw-aes256',
    uri: `${XENC}kw-aes256`,
    keyBytes: 32,
    node: 'id-aes256-wrap',
    mode: 'kw',
    ivBytes: 0,
  },
};
export const DEFAULT_CIPHER = 'aes128-cbc';

export interface MacSpec {
  name: string;
  uri: string;
  hash: string;
  keyBytes: number;
}

export const MACS: Record<string, MacSpec> = {
  'hmac-sha1': { name: 'hmac-sha1', uri: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1', hash: 'sha1', keyBytes: 20 },
  'hmac-sha256': {
    name: 'hmac-sha256',
    uri: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha256',
    hash: 'sha256',
    keyBytes: 32,
  },
  'hmac-sha384': {
    name: 'hmac-sha384',
    uri: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha384',
    hash: 'sha384',
    keyBytes: 48,
  },
  'hmac-sha512': {
    name: 'hmac-sha512',
    uri: 'http://www.w3.org/2001/04/xmldsig-more#hmac-sha512',
    hash: 'sha512',
    keyBytes: 64,
  },
};
export const DEFAULT_MAC = 'hmac-sha1';

/** The floor for PBKDF2 iterations: what python-pskc writes and current guidance for HMAC-SHA1 asks. */
export const MIN_PBKDF2_ITERATIONS = 100_000;
export const PBKDF2_SALT_BYTES = 16;
export const PBKDF2_URI = 'http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2';

export function cipherSpec(name: string): CipherSpec {
  const c = CIPHERS[name.trim().toLowerCase()];
  if (!c) throw new UsageError(`--cipher: unknown cipher '${name}'; use one of ${Object.keys(CIPHERS).join(', ')}`);
  return c;
}

export function macSpec(name: string): MacSpec {
  const m = MACS[name.trim().toLowerCase()];
  if (!m) throw new UsageError(`--mac: unknown MAC algorithm '${name}'; use one of ${Object.keys(MACS).join(', ')}`);
  return m;
}

/** How the transport key came about, for the EncryptionKey element. */
export type KeySource = { kind: 'password'; salt: Buffer; iterations: number } | { kind: 'preshared'; keyName: string };

export interface TransportKeys {
  cipher: CipherSpec;
  mac: MacSpec;
  /** Encrypts seeds and the MAC key. */
  key: Buffer;
  /** Random per file; it authenticates every encrypted value. */
  macKey: Buffer;
  source: KeySource;
}

/** Derives the key once per file (PBKDF2 with HMAC-SHA1, the PRF every importer knows). */
export async function deriveTransportKeys(opts: {
  password: string;
  iterations?: number;
  cipher?: string;
  mac?: string;
  salt?: Buffer;
}): Promise<TransportKeys> {
  const cipher = cipherSpec(opts.cipher ?? DEFAULT_CIPHER);
  const mac = macSpec(opts.mac ?? DEFAULT_MAC);
  const iterations = opts.iterations ?? MIN_PBKDF2_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < MIN_PBKDF2_ITERATIONS) {
    throw new UsageError(
      `--iterations must be at least ${MIN_PBKDF2_ITERATIONS.toLocaleString('en')}, got ${iterations}`,
    );
  }
  if (opts.password.length === 0) throw new UsageError('the export password is empty');
  const salt = opts.salt ?? randomBytes(PBKDF2_SALT_BYTES);
  const key = await pbkdf2Async(Buffer.from(opts.password, 'utf8'), salt, iterations, cipher.keyBytes, 'sha1');
  return { cipher, mac, key, macKey: randomBytes(mac.keyBytes), source: { kind: 'password', salt, iterations } };
}

/** A pre-shared transport key given as hex; its length must match the cipher. */
export function presharedTransportKeys(opts: {
  keyHex: string;
  cipher?: string;
  mac?: string;
  keyName?: string;
}): TransportKeys {
  const mac = macSpec(opts.mac ?? DEFAULT_MAC);
  const hex = opts.keyHex.trim().replace(/^0x/i, '');
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(hex))
    throw new UsageError('--key must be the transport key in hex (32, 48 or 64 hex digits)');
  const key = Buffer.from(hex, 'hex');
  // Without --cipher, the key length picks the AES variant.
  const byLength: Record<number, string> = { 16: 'aes128-cbc', 24: 'aes192-cbc', 32: 'aes256-cbc' };
  const cipher = cipherSpec(opts.cipher ?? byLength[key.length] ?? DEFAULT_CIPHER);
  if (key.length !== cipher.keyBytes) {
    throw new UsageError(
      `--key is ${key.length} bytes but ${cipher.name} needs a ${cipher.keyBytes}-byte key (${cipher.keyBytes * 2} hex digits)`,
    );
  }
  return {
    cipher,
    mac,
    key,
    macKey: randomBytes(mac.keyBytes),
    source: { kind: 'preshared', keyName: opts.keyName ?? 'Pre-shared-key' },
  };
}

/** Random bytes from a pooled buffer: one CSPRNG call per 4 KiB instead of one per IV. */
class RandomPool {
  private buf = Buffer.alloc(0);
  private pos = 0;
  take(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      this.buf = randomBytes(4096);
      this.pos = 0;
    }
    const out = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

/**
 * Encrypts values under one transport key. For CBC, CipherValue = IV ||
 * ciphertext with PKCS#7 padding; the chaining runs over one keyed ECB
 * cipher reused for every value, because creating a cipher per value is the
 * main cost of exporting 100,000 tokens. For key wrap, the wrapped value.
 */
export class ValueEncryptor {
  private readonly ecb: Cipher | null;
  private readonly pool = new RandomPool();

  constructor(
    readonly cipher: CipherSpec,
    private readonly key: Buffer,
  ) {
    this.ecb = cipher.mode === 'cbc' ? createCipheriv(cipher.ecb!, key, null).setAutoPadding(false) : null;
  }

  encrypt(plain: Uint8Array): Buffer {
    if (!this.ecb) return wrapKey(this.cipher, this.key, plain);
    const bs = this.cipher.ivBytes;
    const padLen = bs - (plain.length % bs);
    const padded = Buffer.alloc(plain.length + padLen, padLen);
    padded.set(plain);
    const out = Buffer.allocUnsafe(bs + padded.length);
    this.pool.take(bs).copy(out, 0);
    const block = Buffer.allocUnsafe(bs);
    for (let off = 0; off < padded.length; off += bs) {
      // C_i = E(P_i xor C_{i-1}), with C_0 = IV; out holds IV then each C_i.
      for (let i = 0; i < bs; i++) block[i] = padded[off + i]! ^ out[off + i]!;
      this.ecb.update(block).copy(out, bs + off);
    }
    padded.fill(0);
    block.fill(0);
    return out;
  }
}

const KW_IV = Buffer.from('a6a6a6a6a6a6a6a6', 'hex');
const KWP_IV = Buffer.from('a65959a6', 'hex');

function wrapKey(cipher: CipherSpec, key: Buffer, plain: Uint8Array): Buffer {
  // RFC 3394 needs whole 64-bit blocks, at least two; anything else takes RFC 5649 padding.
  const padded = plain.length % 8 !== 0 || plain.length < 16;
  const c = createCipheriv(padded ? `${cipher.node}-pad` : cipher.node, key, padded ? KWP_IV : KW_IV);
  return Buffer.concat([c.update(plain), c.final()]);
}

/** Encrypts one value with a fresh cipher (the MAC key; tests). */
export function encryptValue(cipher: CipherSpec, key: Buffer, plain: Uint8Array): Buffer {
  if (cipher.mode === 'kw') return wrapKey(cipher, key, plain);
  const iv = randomBytes(cipher.ivBytes);
  const c = createCipheriv(cipher.node, key, iv);
  return Buffer.concat([iv, c.update(plain), c.final()]);
}

/** ValueMAC = HMAC(MACKey, CipherValue), i.e. over IV || ciphertext for CBC. */
export function valueMac(mac: MacSpec, macKey: Buffer, cipherValue: Buffer): Buffer {
  return createHmac(mac.hash, macKey).update(cipherValue).digest();
}
