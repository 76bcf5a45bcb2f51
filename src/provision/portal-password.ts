/**
 * The portal's one password check. Every checked try costs one scrypt, a
 * dummy hash when the login has no password, so that the time of an answer
 * does not tell whether a login exists. A user whose password lives elsewhere
 * (a directory) is checked here too: this is the one place to swap.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '../core/password.js';
import type { UserRecord } from '../store/types.js';

let dummyHash: Promise<string> | null = null;
/** A hash to check a password against when the login has none (made ahead: the first try must not cost two). */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

/** Whether `password` is the user's portal password; false for no user, no password given, or no password set. */
export async function portalPasswordMatches(user: UserRecord | null, password: string | undefined): Promise<boolean> {
  const hash = user?.passwordHash ?? (await dummyPasswordHash());
  const ok = await verifyPassword(password ?? '', hash);
  return ok && user?.passwordHash != null && password !== undefined;
}
