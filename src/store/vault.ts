/**
 * The seed vault: AES-256-GCM per seed under the master key, with a fresh
 * 96-bit nonce, and the token's identity as associated data so that a sealed
 * seed copied onto another row does not open.
 *
 * Sealed layout: version (1 byte, 0x01) || nonce (12) || ciphertext || tag (16).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readFileSync, writeSync, chmodSync } from 'node:fs';
import { DataError, PolicyError } from '../core/errors.js';
import { gcmEncryptMany, type GcmMessage } from './gcm-many.js';

const VERSION = 0x01;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

export class WrongMasterKeyError extends DataError {
  constructor(source: string) {
    super(
      `the master key is wrong for this database (key from ${source}): it is not the key the seeds were sealed with. ` +
        'Set TOKENSMITH_MASTER_KEY to the right key or restore the key file beside the database.',
      { code: 'wrong-master-key' },
    );
  }
}

export class SealBrokenError extends DataError {
  constructor(what: string) {
    super(
      `the sealed seed of ${what} does not open although the master key is right: the row was edited or copied from another token`,
      {
        code: 'seal-broken',
      },
    );
  }
}

/** Parses a 32-byte key given as 64 hex digits or as base64. */
export function parseMasterKey(text: string, source: string): Buffer {
  const s = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(s)) key = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(s)) key = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (!key || key.length !== 32) {
    throw new DataError(`the master key in ${source} must be 32 bytes, as 64 hex digits or base64`, {
      code: 'bad-master-key',
    });
  }
  return key;
}

export interface MasterKey {
  key: Buffer;
  /** Where it came from, for messages: "TOKENSMITH_MASTER_KEY" or the key file path. */
  source: string;
  /** The key file was created just now. */
  created?: boolean;
}

/**
 * The master key: TOKENSMITH_MASTER_KEY, else the key file beside the
 * database, created (mode 0600, exclusive) on first use.
 */
export function loadMasterKey(keyFile: string, env: NodeJS.ProcessEnv = process.env): MasterKey {
  if (env.TOKENSMITH_MASTER_KEY)
    return { key: parseMasterKey(env.TOKENSMITH_MASTER_KEY, 'TOKENSMITH_MASTER_KEY'), source: 'TOKENSMITH_MASTER_KEY' };
  if (!existsSync(keyFile)) {
    const key = randomBytes(32);
    try {
      const fd = openSync(keyFile, 'wx', 0o600);
      try {
        writeSync(fd, key.toString('hex') + '\n');
      } finally {
        closeSync(fd);
      }
      chmodSync(keyFile, 0o600);
      return { key, source: keyFile, created: true };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      // Another process created it first: use theirs.
    }
  }
  return { key: parseMasterKey(readPrivateKeyFile(keyFile), keyFile), source: keyFile };
}

/**
 * Reads the key file, refusing one that group or others may read or write:
 * whoever reads it opens every seed, whoever writes it can swap the key. The
 * mode is checked on the opened file, so a swap between check and read is moot.
 */
function readPrivateKeyFile(keyFile: string): string {
  const fd = openSync(keyFile, 'r');
  try {
    const mode = fstatSync(fd).mode & 0o777;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new PolicyError(
        `the key file ${keyFile} is open to group or others (mode ${mode.toString(8).padStart(4, '0')}): anyone who can read it can open every seed. ` +
          `Make it private with: chmod 600 ${keyFile}`,
        { code: 'key-file-mode' },
      );
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

/** A value stored beside the data that tells a wrong key from a tampered row. */
export function keyCheckValue(key: Buffer): string {
  return createHmac('sha256', key).update('tokensmith master key check v1').digest('hex').slice(0, 32);
}

// Nonces come from the CSPRNG in blocks: one getrandom call per 4096 seals instead of one per seal
// (a 100,000-token import spent 1.4 s in randomBytes). Each nonce is used once; the pool never rewinds.
const NONCE_POOL_SIZE = 4096 * NONCE_BYTES;
let noncePool = Buffer.alloc(0);
let nonceOffset = 0;
function nextNonce(): Buffer {
  if (nonceOffset + NONCE_BYTES > noncePool.length) {
    noncePool = randomBytes(NONCE_POOL_SIZE);
    nonceOffset = 0;
  }
  const nonce = Buffer.from(noncePool.subarray(nonceOffset, nonceOffset + NONCE_BYTES));
  noncePool.fill(0, nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

export function sealSeed(key: Buffer, seed: Uint8Array, aad: string): Buffer {
  const nonce = nextNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(seed), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), nonce, ct, cipher.getAuthTag()]);
}

/**
 * Seals many seeds at once, byte for byte as sealSeed would (each with its own
 * fresh nonce): one pass of AES over the whole batch instead of a cipher
 * object per seed. For bulk imports; null entries stay null.
 */
export function sealSeeds(key: Buffer, items: ({ seed: Uint8Array; aad: string } | null)[]): (Buffer | null)[] {
  const messages: GcmMessage[] = [];
  const index: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    if (!it) continue;
    messages.push({ nonce: nextNonce(), plaintext: it.seed, aad: Buffer.from(it.aad, 'utf8') });
    index.push(i);
  }
  const out: (Buffer | null)[] = new Array<Buffer | null>(items.length).fill(null);
  gcmEncryptMany(key, messages, (m, ct, tag) => {
    const msg = messages[m]!;
    const sealed = Buffer.allocUnsafe(1 + NONCE_BYTES + ct.length + TAG_BYTES);
    sealed[0] = VERSION;
    sealed.set(msg.nonce, 1);
    sealed.set(ct, 1 + NONCE_BYTES);
    sealed.set(tag, 1 + NONCE_BYTES + ct.length);
    ct.fill(0);
    out[index[m]!] = sealed;
  });
  return out;
}

/** The seeds of tokens about to be inserted, sealed in one pass under their bindings; null where a token has no seed. */
export function sealTokenSeeds(
  key: Buffer,
  tokens: { seed?: Uint8Array | null; manufacturer?: string | null; serial: string }[],
): (Buffer | null)[] {
  return sealSeeds(
    key,
    tokens.map((t) =>
      t.seed ? { seed: t.seed, aad: seedBinding({ manufacturer: t.manufacturer ?? '', serial: t.serial }) } : null,
    ),
  );
}

/** Opens a sealed seed; returns null when authentication fails (the caller tells why). */
export function openSeed(key: Buffer, sealed: Uint8Array, aad: string): Buffer | null {
  const buf = Buffer.from(sealed);
  if (buf.length < 1 + NONCE_BYTES + TAG_BYTES || buf[0] !== VERSION) return null;
  const nonce = buf.subarray(1, 1 + NONCE_BYTES);
  const tag = buf.subarray(buf.length - TAG_BYTES);
  const ct = buf.subarray(1 + NONCE_BYTES, buf.length - TAG_BYTES);
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce);
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  } catch {
    return null;
  }
}

/** What a seed is bound to: manufacturer and serial (unique together, so one row). The profile slot is not part of it. */
export function seedBinding(t: { manufacturer: string; serial: string }): string {
  return `tokensmith-seed-v1\x00${t.manufacturer}\x00${t.serial}`;
}
