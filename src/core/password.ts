/**
 * Password hashing with scrypt (node:crypto). Stored as a PHC-like string,
 *   $scrypt$ln=15,r=8,p=1$<salt base64>$<hash base64>
 * so the cost can be raised later and old hashes still verify.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { DataError } from './errors.js';

const DEFAULTS = { ln: 15, r: 8, p: 1 };
const SALT_BYTES = 16;
const HASH_BYTES = 32;

function scryptAsync(password: string, salt: Buffer, length: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function costOptions(ln: number, r: number, p: number): ScryptOptions {
  const N = 2 ** ln;
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is exactly too small for ln=15.
  return { N, r, p, maxmem: 256 * N * r + 1024 * 1024 };
}

export async function hashPassword(
  password: string,
  cost: { ln?: number; r?: number; p?: number } = {},
): Promise<string> {
  if (password.length === 0) throw new DataError('the password is empty', { code: 'empty-password' });
  const { ln, r, p } = { ...DEFAULTS, ...cost };
  const salt = randomBytes(SALT_BYTES);
  const hash = await scryptAsync(password, salt, HASH_BYTES, costOptions(ln, r, p));
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ParsedHash {
  ln: number;
  r: number;
  p: number;
  salt: Buffer;
  hash: Buffer;
}

function parseHash(stored: string): ParsedHash | null {
  const m = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+=*)\$([A-Za-z0-9+/]+=*)$/.exec(stored);
  if (!m) return null;
  const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (ln < 1 || ln > 20 || r < 1 || p < 1) return null;
  return { ln, r, p, salt: Buffer.from(m[4]!, 'base64'), hash: Buffer.from(m[5]!, 'base64') };
}

/** True when the password matches; the comparison takes the same time wherever the bytes differ. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed)
    throw new DataError('the stored password hash is not in the $scrypt$ form tokensmith writes', {
      code: 'bad-password-hash',
    });
  const candidate = await scryptAsync(
    password,
    parsed.salt,
    parsed.hash.length,
    costOptions(parsed.ln, parsed.r, parsed.p),
  );
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

export function isPasswordHash(stored: string): boolean {
  return parseHash(stored) !== null;
}
