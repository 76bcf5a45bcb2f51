/**
 * Counting sign-in tries: each try is counted twice before anything is
 * checked, in the Resource (by the login typed) and for the login in every
 * Resource, so a user of several Resources gets no more tries at one
 * password. The count that reaches the Resource's limit locks the login; each
 * lock in a row lasts twice as long as the one before, up to a day. Tries the
 * lock refuses leave an audit row at the 1st, 2nd, 4th, 8th ... refusal of
 * each lock (a count, not a row per request).
 */
import type { Repos, ResourceRecord, Store } from '../store/types.js';

/** The first lock after the Resource's lock-after failed sign-ins; each next lock in a row is twice as long. */
export const SIGNIN_LOCK_MS = 15 * 60 * 1000;
/** The longest lock: the doubling stops at a day. */
export const SIGNIN_MAX_LOCK_MS = 24 * 60 * 60 * 1000;

export const signInSubject = (login: string) => `signin:${login}`;

export interface SignInCount {
  /** The higher of the two counts, this try included. */
  attempts: number;
  /** Counted, but over the limit: not checked. */
  locked: boolean;
  lockedUntilMs: number | null;
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Counts one try of the login in the Resource and everywhere; records the refusals of a lock as they double. */
export async function countSignInTry(
  store: Store,
  r: ResourceRecord,
  login: string,
  nowMs: number,
  audited = `login:${login}`,
): Promise<SignInCount> {
  const subject = signInSubject(login);
  const at = { subject, limit: r.lockAfter, lockMs: SIGNIN_LOCK_MS, maxLockMs: SIGNIN_MAX_LOCK_MS, nowMs };
  return store.transaction(async (tx) => {
    const here = await tx.portal.countAttempt({ resourceId: r.id, ...at });
    const everywhere = await tx.portal.countAttempt({ resourceId: null, ...at });
    const attempts = Math.max(here.attempts, everywhere.attempts);
    const locks = [here, everywhere].filter((c) => c.lockedUntilMs !== null).map((c) => c.lockedUntilMs!);
    const count = { attempts, locked: attempts > r.lockAfter, lockedUntilMs: locks.length ? Math.max(...locks) : null };
    if (count.locked && isPowerOfTwo(attempts - r.lockAfter)) await auditRefusals(tx, r, audited, count);
    return count;
  });
}

async function auditRefusals(tx: Repos, r: ResourceRecord, subject: string, c: SignInCount): Promise<void> {
  await tx.audit.append({
    action: 'portal.signin-locked',
    subject,
    actor: 'portal',
    details: {
      resource: r.name,
      refusedSoFar: c.attempts - r.lockAfter,
      lockedUntil: new Date(c.lockedUntilMs ?? 0).toISOString(),
    },
  });
}

/** After a success: both counts start again, unless a parallel try locked the login meanwhile (that lock stays). */
export async function clearSignInTries(tx: Repos, r: ResourceRecord, login: string, nowMs: number): Promise<void> {
  await tx.portal.clearAttempts(r.id, signInSubject(login), nowMs);
  await tx.portal.clearAttempts(null, signInSubject(login), nowMs);
}
