/**
 * The portal's one password step, the one place where local and directory
 * users differ: a local user's password is checked against its scrypt hash, a
 * directory user's by binding to the directory as that user (the password is
 * never stored). Every checked try costs one scrypt (a dummy hash when the
 * login has no password), so the time of an answer does not tell whether a
 * login exists or where its password lives. The directory is reached before
 * the try is counted, so a directory that is down answers 503 and counts no
 * failure.
 */
import { randomBytes } from 'node:crypto';
import { hashPassword, verifyPassword } from '../core/password.js';
import type { Repos, Store, UserRecord } from '../store/types.js';
import { TokensmithError } from '../core/errors.js';
import { DirectoryConnection, DirectoryUnavailableError } from '../directory/client.js';
import { configOf } from '../directory/config.js';
import { normaliseDn } from '../directory/escape.js';
import { findPerson } from '../directory/people.js';

let dummyHash: Promise<string> | null = null;
/** A hash to check a password against when the login has none (made ahead: the first try must not cost two). */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

/** Whether `password` is the user's local portal password; false for no user, no password given, or no password set. */
export async function portalPasswordMatches(user: UserRecord | null, password: string | undefined): Promise<boolean> {
  const hash = user?.passwordHash ?? (await dummyPasswordHash());
  const ok = await verifyPassword(password ?? '', hash);
  return ok && user?.passwordHash != null && password !== undefined;
}

/** What the portal says when the directory does not answer: no host names, no error codes of the server. */
export class SignInUnavailableError extends TokensmithError {
  constructor(cause: unknown) {
    super("sign-in is unavailable: the organisation's directory does not answer; try again in a few minutes", {
      code: 'directory-unavailable',
      cause,
    });
  }
}

/** How a user proves who they are: a local hash, a directory bind, or no password at all (emailed code). */
export type PasswordKind = 'local' | 'directory' | 'none';

export async function passwordKindOf(repos: Repos, user: UserRecord | null): Promise<PasswordKind> {
  if (!user) return 'none';
  if (user.passwordHash) return 'local';
  const account = await repos.directories.accountOf(user.id);
  return account && !account.disabled ? 'directory' : 'none';
}

/** A directory user whose account the directory disabled (or who left it): treated as unknown by the portal. */
export async function directoryDisabled(repos: Repos, user: UserRecord): Promise<boolean> {
  if (user.passwordHash) return false;
  return (await repos.directories.accountOf(user.id))?.disabled === true;
}

/** A password check made ready before the try is counted; verify() once, then close(). */
export interface PasswordCheck {
  kind: PasswordKind;
  verify(password: string | undefined): Promise<boolean>;
  close(): Promise<void>;
}

/** Local users (and unknown logins, against the dummy hash): the one local check, one scrypt. */
function localCheck(kind: PasswordKind, user: UserRecord | null): PasswordCheck {
  return { kind, verify: (password) => portalPasswordMatches(user, password), close: async () => {} };
}

/** Directory users: connected and bound as the service account now (503 when that fails), the user's bind on verify. */
async function directoryCheck(store: Store, user: UserRecord, dummyHash: string): Promise<PasswordCheck> {
  const account = (await store.directories.accountOf(user.id))!;
  const d = (await store.directories.get(account.directoryId))!;
  let conn: DirectoryConnection | null = null;
  try {
    conn = await DirectoryConnection.open(d.name, configOf(d.config));
    await conn.bindService(await store.directories.bindPassword(d));
  } catch (err) {
    await conn?.close();
    throw new SignInUnavailableError(err);
  }
  const open = conn;
  const bindAsUser = async (password: string) => {
    // Found again by login (escaped), so a DN moved or an account disabled since the last sync is seen now.
    const person = await findPerson(open, user.login);
    if (!person || person.disabled || normaliseDn(person.dn) !== normaliseDn(account.dn)) return false;
    return open.bind(person.dn, password);
  };
  return {
    kind: 'directory',
    verify: async (password) => {
      try {
        const [, ok] = await Promise.all([verifyPassword(password ?? '', dummyHash), bindAsUser(password ?? '')]);
        return ok;
      } catch (err) {
        if (err instanceof DirectoryUnavailableError) throw new SignInUnavailableError(err);
        throw err;
      }
    },
    close: () => open.close(),
  };
}

/** The check for this user (null: an unknown login, checked against the dummy hash all the same). */
export async function preparePasswordCheck(store: Store, user: UserRecord | null): Promise<PasswordCheck> {
  const kind = await passwordKindOf(store, user);
  if (kind === 'directory') return directoryCheck(store, user!, await dummyPasswordHash());
  return localCheck(kind, user);
}
