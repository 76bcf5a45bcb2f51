/**
 * The cryptography of PSKC (RFC 6030 section 6): the xmlenc ciphers, AES key
 * wrap (RFC 3394 / 5649), triple-DES key wrap (RFC 3217), PBKDF2 and the
 * HMAC of ValueMAC. Bytes in, bytes out; errors say which algorithm failed.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { DataError } from '../../core/errors.js';
import { camelliaKeyUnwrap, camelliaKeyWrap } from './camellia-kw.js';

export interface CipherSpec {
  /** Short name as in the URI fragment: aes128-cbc, kw-aes256, tripledes-cbc ... */
  name: string;
  keyBytes: number;
  kind: 'cbc' | 'aes-kw' | 'tdes-kw' | 'camellia-kw';
  /** Node cipher name for CBC. */
  node?: string;
  blockBytes: number;
}

const CIPHERS: Record<string, CipherSpec> = {
  'aes128-cbc': { name: 'aes128-cbc', keyBytes: 16, kind: 'cbc', node: 'aes-128-cbc', blockBytes: 16 },
  'aes192-cbc': { name: 'aes192-cbc', keyBytes: 24, kind: 'cbc', node: 'aes-192-cbc', blockBytes: 16 },
  'aes256-cbc': { name: 'aes256-cbc', keyBytes: 32, kind: 'cbc', node: 'aes-256-cbc', blockBytes: 16 },
  'tripledes-cbc': { name: 'tripledes-cbc', keyBytes: 24, kind: 'cbc', node: 'des-ede3-cbc', blockBytes: 8 },
  'kw-aes128': { name: 'kw-aes128', keyBytes: 16, kind: 'aes-kw', blockBytes: 8 },
  'kw-aes192': { name: 'kw-aes192', keyBytes: 24, kind: 'aes-kw', blockBytes: 8 },
  'kw-aes256': { name: 'kw-aes256', keyBytes: 32, kind: 'aes-kw', blockBytes: 8 },
  'kw-tripledes': { name: 'kw-tripledes', keyBytes: 24, kind: 'tdes-kw', blockBytes: 8 },
  // RFC 4051 (xmldsig-more) names for Camellia; kw-camellia is RFC 3657.
  'camellia128-cbc': { name: 'camellia128-cbc', keyBytes: 16, kind: 'cbc', node: 'camellia-128-cbc', blockBytes: 16 },
  'camellia192-cbc': { name: 'camellia192-cbc', keyBytes: 24, kind: 'cbc', node: 'camellia-192-cbc', blockBytes: 16 },
  'camellia256-cbc': { name: 'camellia256-cbc', keyBytes: 32, kind: 'cbc', node: 'camellia-256-cbc', blockBytes: 16 },
  'kw-camellia128': { name: 'kw-camellia128', keyBytes: 16, kind: 'camellia-kw', blockBytes: 8 },
  'kw-camellia192': { name: 'kw-camellia192', keyBytes: 24, kind: 'camellia-kw', blockBytes: 8 },
  'kw-camellia256': { name: 'kw-camellia256', keyBytes: 32, kind: 'camellia-kw', blockBytes: 8 },
};

/** Known xmlenc / xmlenc11 namespaces; other URIs are accepted by their fragment only when it names a known cipher. */
const XMLENC_PREFIXES = ['http://www.w3.org/2001/04/xmlenc#', 'http://www.w3.org/2009/xmlenc11#'];

/** Looks a cipher up by its URI (or the bare name old files use); null when unknown. */
export function cipherByUri(uri: string): CipherSpec | null {
  // A file names one or two ciphers, once per value: remember the last answer.
  if (uri === lastCipher.uri) return lastCipher.spec;
  const spec = lookUpCipher(uri);
  lastCipher = { uri, spec };
  return spec;
}
let lastCipher: { uri: string; spec: CipherSpec | null } = { uri: '', spec: null };

function lookUpCipher(uri: string): CipherSpec | null {
  const u = uri.trim();
  const prefix = XMLENC_PREFIXES.find((p) => u.startsWith(p));
  const frag = (prefix ? u.slice(prefix.length) : u.includes('#') ? u.slice(u.lastIndexOf('#') + 1) : u).toLowerCase();
  return CIPHERS[frag] ?? CIPHERS[LEGACY_NAMES[frag] ?? ''] ?? null;
}

/** Draft-hoyer container EncryptionMethod names (python-pskc's aliases): PBE- means a PBKDF2 key from a password. */
const LEGACY_NAMES: Record<string, string> = {
  '3des-cbc': 'tripledes-cbc',
  '3des112-cbc': 'tripledes-cbc',
  '3des168-cbc': 'tripledes-cbc',
  'pbe-3des112-cbc': 'tripledes-cbc',
  'pbe-3des168-cbc': 'tripledes-cbc',
  'pbe-aes128-cbc': 'aes128-cbc',
  'pbe-aes192-cbc': 'aes192-cbc',
  'pbe-aes256-cbc': 'aes256-cbc',
};

export class DecryptError extends DataError {
  constructor(message: string) {
    super(message, { code: 'decrypt-failed' });
  }
}

/** Two-key (16-byte) triple DES is K1 K2 K1: widened to the three-key form node:crypto takes. */
function transportKeyFor(spec: CipherSpec, key: Buffer): Buffer {
  return spec.keyBytes === 24 && spec.name.includes('tripledes') && key.length === 16
    ? Buffer.concat([key, key.subarray(0, 8)])
    : key;
}

function checkKey(spec: CipherSpec, key: Buffer): void {
  if (key.length !== spec.keyBytes) {
    throw new DataError(
      `the transport key is ${key.length} bytes but ${spec.name} needs ${spec.keyBytes}: check --key (hex) or the file`,
      { code: 'bad-key-length' },
    );
  }
}

function cbcDecrypt(node: string, key: Buffer, iv: Buffer, ct: Buffer, autoPadding = true): Buffer {
  const d = createDecipheriv(node, key, iv);
  d.setAutoPadding(autoPadding);
  return Buffer.concat([d.update(ct), d.final()]);
}

type Ecb = ReturnType<typeof createDecipheriv>;

/**
 * ECB deciphers kept per cipher and key, the latest used first (at most 8): CBC done by hand over one
 * long-lived ECB object costs a third of a new decipher per value, and a file decrypts every value with
 * one key, so the first entry nearly always answers. Keys are compared by their bytes and kept as copies.
 */
const ecbCache: { spec: CipherSpec; key: Buffer; ecb: Ecb }[] = [];

function ecbFor(spec: CipherSpec, key: Buffer): Ecb {
  const first = ecbCache[0];
  if (first && first.spec === spec && first.key.equals(key)) return first.ecb;
  const at = ecbCache.findIndex((e) => e.spec === spec && e.key.equals(key));
  let entry = at >= 0 ? ecbCache.splice(at, 1)[0]! : null;
  if (!entry) {
    const ecb = createDecipheriv(spec.node!.replace(/-cbc$/, '-ecb'), key, null);
    ecb.setAutoPadding(false);
    entry = { spec, key: Buffer.from(key), ecb };
    if (ecbCache.length >= 8) ecbCache.pop();
  }
  ecbCache.unshift(entry);
  return entry.ecb;
}

function cbcDecryptFast(spec: CipherSpec, key: Buffer, iv: Buffer, ct: Buffer): Buffer {
  const ecb = ecbFor(spec, key);
  const out = ecb.update(ct);
  const b = spec.blockBytes;
  for (let i = 0; i < out.length; i++) out[i]! ^= i < b ? iv[i]! : ct[i - b]!;
  return out;
}

function cbcEncrypt(node: string, key: Buffer, iv: Buffer, pt: Buffer, autoPadding = true): Buffer {
  const c = createCipheriv(node, key, iv);
  c.setAutoPadding(autoPadding);
  return Buffer.concat([c.update(pt), c.final()]);
}

/**
 * Decrypts a CipherValue. CBC: IV || ciphertext (or ciphertext alone with a
 * file-wide IV), PKCS#7 padded. A wrong key almost always shows as bad padding
 * or a failed key-wrap check: a DecryptError.
 */
export function decryptValue(spec: CipherSpec, given: Buffer, data: Buffer, globalIv?: Buffer): Buffer {
  const key = transportKeyFor(spec, given);
  checkKey(spec, key);
  if (spec.kind === 'cbc') {
    const iv = globalIv ?? data.subarray(0, spec.blockBytes);
    const ct = globalIv ? data : data.subarray(spec.blockBytes);
    if (ct.length === 0 || ct.length % spec.blockBytes !== 0)
      throw new DecryptError(
        `${spec.name}: the ciphertext is ${ct.length} bytes, not a whole number of ${spec.blockBytes}-byte blocks`,
      );
    const plain = cbcDecryptFast(spec, key, iv, ct);
    const pad = plain[plain.length - 1]!;
    let ok = pad >= 1 && pad <= spec.blockBytes;
    for (let i = plain.length - pad; ok && i < plain.length; i++) if (plain[i] !== pad) ok = false;
    if (!ok) throw new DecryptError(`${spec.name}: the value does not decrypt (bad padding)`);
    return plain.subarray(0, plain.length - pad);
  }
  if (spec.kind === 'aes-kw') return aesKeyUnwrap(key, data);
  if (spec.kind === 'camellia-kw') {
    const plain = camelliaKeyUnwrap(key, data);
    if (!plain) throw new DecryptError(`${spec.name}: the value does not unwrap (integrity check failed)`);
    return plain;
  }
  return tripleDesKeyUnwrap(key, data);
}

/** Encrypts a value the way decryptValue reads it (used by tests, the bench and the demo). */
export function encryptValue(spec: CipherSpec, given: Buffer, plain: Buffer, iv: Buffer): Buffer {
  const key = transportKeyFor(spec, given);
  checkKey(spec, key);
  if (spec.kind === 'cbc') return Buffer.concat([iv, cbcEncrypt(spec.node!, key, iv, plain)]);
  if (spec.kind === 'aes-kw') return aesKeyWrap(key, plain);
  if (spec.kind === 'camellia-kw') return camelliaKeyWrap(key, plain);
  return tripleDesKeyWrap(key, plain, iv);
}

const AES_KW_NODE: Record<number, string> = { 16: 'aes128', 24: 'aes192', 32: 'aes256' };

/** RFC 3394 AES key unwrap; a 20-byte HOTP secret arrives RFC 5649-padded, which python-pskc also accepts. */
export function aesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  const bits = AES_KW_NODE[kek.length];
  if (!bits)
    throw new DataError(`AES key wrap needs a 16, 24 or 32-byte key, got ${kek.length}`, { code: 'bad-key-length' });
  if (wrapped.length < 16 || wrapped.length % 8 !== 0)
    throw new DecryptError(`AES key wrap: ${wrapped.length} bytes is not a wrapped key (multiple of 8, at least 16)`);
  // RFC 3394 first (IV A6A6A6A6A6A6A6A6), then RFC 5649 (AIV A65959A6 || length).
  try {
    return cbcLessUnwrap(`id-${bits}-wrap`, kek, wrapped, Buffer.from('a6a6a6a6a6a6a6a6', 'hex'));
  } catch {
    try {
      return cbcLessUnwrap(`id-${bits}-wrap-pad`, kek, wrapped, Buffer.from('a65959a6', 'hex'));
    } catch {
      throw new DecryptError('AES key wrap: the integrity check fails (wrong key or altered value)');
    }
  }
}

function cbcLessUnwrap(node: string, kek: Buffer, wrapped: Buffer, iv: Buffer): Buffer {
  const d = createDecipheriv(node, kek, iv);
  return Buffer.concat([d.update(wrapped), d.final()]);
}

export function aesKeyWrap(kek: Buffer, plain: Buffer): Buffer {
  const bits = AES_KW_NODE[kek.length];
  if (!bits)
    throw new DataError(`AES key wrap needs a 16, 24 or 32-byte key, got ${kek.length}`, { code: 'bad-key-length' });
  const pad = plain.length % 8 !== 0 || plain.length < 16;
  const c = createCipheriv(
    pad ? `id-${bits}-wrap-pad` : `id-${bits}-wrap`,
    kek,
    Buffer.from(pad ? 'a65959a6' : 'a6a6a6a6a6a6a6a6', 'hex'),
  );
  return Buffer.concat([c.update(plain), c.final()]);
}

/** RFC 3217 section 3.1: the fixed IV of the second encryption pass. */
const TDES_KW_IV = Buffer.from('4adda22c79e82105', 'hex');

/** RFC 3217 CMS key checksum: the first 8 bytes of SHA-1 of the key. */
function cmsKeyChecksum(key: Buffer): Buffer {
  return createHash('sha1').update(key).digest().subarray(0, 8);
}

/** RFC 3217 triple-DES key wrap (the sender side), for tests and generators. */
export function tripleDesKeyWrap(kek: Buffer, plain: Buffer, iv: Buffer): Buffer {
  if (plain.length % 8 !== 0)
    throw new DataError(`triple-DES key wrap needs a value that is a multiple of 8 bytes, got ${plain.length}`, {
      code: 'bad-length',
    });
  if (iv.length !== 8) throw new DataError('triple-DES key wrap needs an 8-byte IV', { code: 'bad-length' });
  const temp1 = cbcEncrypt('des-ede3-cbc', kek, iv, Buffer.concat([plain, cmsKeyChecksum(plain)]), false);
  const temp3 = Buffer.from(Buffer.concat([iv, temp1])).reverse();
  return cbcEncrypt('des-ede3-cbc', kek, TDES_KW_IV, temp3, false);
}

/** RFC 3217 section 3.2: decrypt with the fixed IV, reverse, decrypt with the carried IV, check the checksum. */
export function tripleDesKeyUnwrap(kek: Buffer, wrapped: Buffer): Buffer {
  if (kek.length !== 24)
    throw new DataError(`triple-DES key wrap needs a 24-byte key, got ${kek.length}`, { code: 'bad-key-length' });
  if (wrapped.length < 24 || wrapped.length % 8 !== 0)
    throw new DecryptError(
      `triple-DES key wrap: ${wrapped.length} bytes is not a wrapped key (multiple of 8, at least 24)`,
    );
  const temp3 = cbcDecrypt('des-ede3-cbc', kek, TDES_KW_IV, wrapped, false);
  const temp2 = Buffer.from(temp3).reverse();
  const iv = temp2.subarray(0, 8);
  const wkcks = cbcDecrypt('des-ede3-cbc', kek, iv, temp2.subarray(8), false);
  const wk = wkcks.subarray(0, wkcks.length - 8);
  const cks = wkcks.subarray(wkcks.length - 8);
  if (!timingSafeEqual(cks, cmsKeyChecksum(wk)))
    throw new DecryptError('triple-DES key wrap: the key checksum does not match (wrong key or altered value)');
  return Buffer.from(wk);
}

export type MacHash = 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** MAC (and PBKDF2 PRF) algorithm URIs: xmldsig hmac-sha1, xmldsig-more hmac-sha224..512. */
export function macHashByUri(uri: string): MacHash | null {
  const m = /hmac-?(sha1|sha224|sha256|sha384|sha512)$/i.exec(uri.trim());
  return m ? (m[1]!.toLowerCase() as MacHash) : null;
}

export function hmac(hash: MacHash, key: Buffer, data: Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

export function macEquals(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function pbkdf2(password: string, salt: Buffer, iterations: number, keyBytes: number, prf: MacHash): Buffer {
  return pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyBytes, prf);
}
