/**
 * Loading the master key of a store and checking it against the key check
 * value the database keeps in meta, the same on both dialects; only reading
 * and writing that value is the dialect's.
 */
import { existsSync } from 'node:fs';
import { DataError } from '../../core/errors.js';
import { keyFilePath } from '../paths.js';
import { keyCheckValue, loadMasterKey, WrongMasterKeyError, type MasterKey } from '../vault.js';

export interface KeySource {
  /** The store, fit for messages. */
  location: string;
  /** The key file; null for an in-memory store, which falls back to a throw-away key. */
  keyFile: string | null;
  env: NodeJS.ProcessEnv;
  /** What to tell the operator when the key is missing. */
  missingHint: string;
  /** False where only an existing key will do (reading the audit anchor): a missing one is an error, not created. */
  create?: boolean;
}

export interface CheckedKey {
  key: MasterKey;
  check: string;
  /** The database has no check value yet: the caller stores `check`. */
  firstUse: boolean;
}

let ephemeral: Buffer | null = null;
function ephemeralKey(): Buffer {
  ephemeral ??= Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(32)));
  return ephemeral;
}

/** The key file of a store at `dbPath`: TOKENSMITH_MASTER_KEY_FILE when set (as for PostgreSQL), else `<database>.key`. */
export function sqliteKeyFile(dbPath: string, env: NodeJS.ProcessEnv): string | null {
  if (env.TOKENSMITH_MASTER_KEY_FILE) return env.TOKENSMITH_MASTER_KEY_FILE;
  return dbPath === ':memory:' ? null : keyFilePath(dbPath);
}

/** What the operator is told when a key file was created: where, and that it must be kept. */
export function keyCreatedNotice(keyFile: string): string {
  return `created the master key file ${keyFile} (mode 0600): back it up apart from the database; without it the seeds cannot be opened`;
}

/** The master key for a database whose stored check value is `stored` (undefined: none yet). */
export function checkedMasterKey(stored: string | undefined, src: KeySource): CheckedKey {
  if (stored !== undefined && src.keyFile !== null && !src.env.TOKENSMITH_MASTER_KEY && !existsSync(src.keyFile)) {
    // Seeds were sealed under some key: a fresh key file here would never open them, only mislead.
    throw new DataError(
      `no master key for ${src.location}: its seeds are sealed, but TOKENSMITH_MASTER_KEY is not set and the key file ${src.keyFile} is missing. ${src.missingHint}`,
      {
        code: 'missing-master-key',
      },
    );
  }
  if (src.create === false && src.keyFile !== null && !src.env.TOKENSMITH_MASTER_KEY && !existsSync(src.keyFile)) {
    throw new DataError(
      `no master key for ${src.location} yet: TOKENSMITH_MASTER_KEY is not set and there is no key file ${src.keyFile}`,
      { code: 'missing-master-key' },
    );
  }
  const key: MasterKey =
    src.keyFile === null && !src.env.TOKENSMITH_MASTER_KEY
      ? { key: ephemeralKey(), source: 'a throw-away in-memory key' }
      : loadMasterKey(src.keyFile ?? '', src.env);
  const check = keyCheckValue(key.key);
  if (stored !== undefined && stored !== check) throw new WrongMasterKeyError(key.source);
  return { key, check, firstUse: stored === undefined };
}
