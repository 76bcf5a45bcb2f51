/**
 * Signing in to a Resource's portal without telling who exists. Every try is
 * counted (by the login typed, known or not; in the Resource and in every
 * Resource) in the store before anything is checked, so parallel tries count
 * one each and stop at the Resource's limit; every checked try costs one
 * scrypt (a dummy hash when there is no password); and every refusal says the
 * same words whatever was wrong. A user who held a token in the Resource
 * keeps needing one (src/provision/portal-challenge.ts secondFactorOf).
 */
import { PolicyError } from '../core/errors.js';
import { findCode } from '../core/otp.js';
import type { ResourceRecord, Store, UserRecord } from '../store/types.js';
import { refuse } from './assign.js';
import { memberOf, secondFactorOf, signInCodeMatches, SIGNIN_CODE_TRIES } from './portal-challenge.js';
import { clearSignInTries, countSignInTry } from './portal-lock.js';
import { preparePasswordCheck, type PasswordCheck } from './portal-password.js';
import { checkField } from './portal-rules.js';
import { findResource } from './resources.js';
import { PortalSession } from './portal-actions.js';

export {
  beginSignIn,
  SIGNIN_CODE_DIGITS,
  SIGNIN_CODE_TRIES,
  SIGNIN_CODE_TTL_MS,
  type SignInBeginInput,
  type SignInChallenge,
} from './portal-challenge.js';
export { SIGNIN_LOCK_MS, SIGNIN_MAX_LOCK_MS, signInSubject } from './portal-lock.js';
export { dummyPasswordHash } from './portal-password.js';

export interface SignInInput {
  resource: string;
  login: string;
  password?: string;
  emailCode?: string;
  tokenCode?: string;
  at?: Date;
}

/** Why a try failed when the user held a token in the Resource and none is left to ask for. */
const NO_SECOND_FACTOR = 'the token the user held in this Resource is no longer in use';

/** The one refusal for every wrong sign-in: unknown login, another Resource's user, wrong password, code or token code. */
function wrongSignIn(r: ResourceRecord, attempts: number, lockedUntilMs: number | null): PolicyError {
  const left = r.lockAfter - attempts;
  const next =
    left > 0
      ? `${left} attempt(s) left`
      : `sign-in for this login is locked until ${new Date(lockedUntilMs ?? 0).toISOString()}`;
  return refuse('sign-in-refused', `sign-in to '${r.name}' failed: unknown login, or wrong password or code`, next);
}

function lockedSignIn(r: ResourceRecord, lockedUntilMs: number | null): PolicyError {
  const until = new Date(lockedUntilMs ?? 0).toISOString();
  return refuse(
    'sign-in-refused',
    `sign-in to '${r.name}' for this login is locked after ${r.lockAfter} failed attempts`,
    `try again after ${until}`,
  );
}

/** Said only to someone who gave the right password (or emailed code): the account must not fall back to one factor. */
function secondFactorMissing(r: ResourceRecord): PolicyError {
  return new PolicyError(
    `refused: sign-in to '${r.name}' needs the code of your token, and the token you held here is no longer in use (rule: a user who held a token keeps needing one); ask an admin for a new token, or to let you sign in without one`,
    { code: 'second-factor-missing' },
  );
}

/** Step two: one counted try. Returns a session, or the same refusal whatever was wrong (the audit log keeps the reason). */
export async function signIn(store: Store, input: SignInInput): Promise<PortalSession> {
  const nowMs = (input.at ?? new Date()).getTime();
  const r = await findResource(store, input.resource);
  const login = checkField('login', input.login.trim());
  const user = await memberOf(store, r, login);
  // Made ready before the try is counted: a directory that does not answer is a 503 and no failure.
  const check = await preparePasswordCheck(store, user);
  try {
    return await countedSignIn(store, r, { input, login, nowMs, user, check });
  } finally {
    await check.close();
  }
}

interface SignInTry {
  input: SignInInput;
  login: string;
  nowMs: number;
  user: UserRecord | null;
  check: PasswordCheck;
}

/** The counted part of a try: the lock first, then the password, then the second factors. */
async function countedSignIn(store: Store, r: ResourceRecord, c: SignInTry): Promise<PortalSession> {
  const { input, login, nowMs, user, check } = c;
  const count = await countSignInTry(store, r, login, nowMs);
  if (count.locked) throw lockedSignIn(r, count.lockedUntilMs);
  const passwordOk = await check.verify(input.password);
  const why = user
    ? await checkSecondFactors(store, r, user, input, { passwordOk, hasPassword: check.kind !== 'none' }, nowMs)
    : 'unknown login or not a user of this Resource';
  const audited = user ? `user:${user.login}` : `login:${login}`;
  if (why) {
    await store.audit.append({
      action: 'portal.signin-failed',
      subject: audited,
      actor: `portal:${login}`,
      details: { resource: r.name, reason: why, attempts: count.attempts },
    });
    throw why === NO_SECOND_FACTOR ? secondFactorMissing(r) : wrongSignIn(r, count.attempts, count.lockedUntilMs);
  }
  await store.transaction(async (tx) => {
    await clearSignInTries(tx, r, login, nowMs);
    await tx.audit.append({
      action: 'portal.signin',
      subject: audited,
      actor: `portal:${user!.login}`,
      details: { resource: r.name, method: SIGNIN_METHOD[check.kind] },
    });
  });
  return new PortalSession(store, r.name, user!.login, { userId: user!.id, resourceId: r.id });
}

/** How the audit row names the first factor. */
const SIGNIN_METHOD = { local: 'password', directory: 'directory', none: 'email-code' } as const;

/** Checks the emailed code (when the user has no password) and the token's code; uses both up on success. Returns why it failed, or null. */
async function checkSecondFactors(
  store: Store,
  r: ResourceRecord,
  user: UserRecord,
  input: SignInInput,
  first: { passwordOk: boolean; hasPassword: boolean },
  nowMs: number,
): Promise<string | null> {
  if (first.hasPassword && !first.passwordOk) return 'wrong password';
  if (!first.hasPassword && !user.email) return 'the user has neither a password nor an email';
  let codeHash: string | null = null;
  if (!first.hasPassword) {
    const live = await store.transaction((tx) => tx.portal.tryEmailCode(user.id, r.id, nowMs, SIGNIN_CODE_TRIES));
    if (!live) return 'no valid emailed code';
    if (!input.emailCode || !signInCodeMatches(input.emailCode.trim(), live.codeHash)) return 'wrong emailed code';
    codeHash = live.codeHash;
  }
  return store.transaction(async (tx) => {
    const { token, missing } = await secondFactorOf(tx, user, r);
    if (missing) return NO_SECOND_FACTOR;
    let match = null;
    if (token) {
      const code = input.tokenCode?.trim() ?? '';
      if (!code) return `no code given for token ${token.serial}`;
      const seed = await tx.tokens.openSeed(token);
      try {
        match = findCode(seed, token, code, {
          at: new Date(nowMs),
          driftSteps: token.driftSteps,
          window: r.window,
          counter: token.counter,
        });
      } finally {
        seed.fill(0);
      }
      if (!match) return `wrong code for token ${token.serial}`;
    }
    if (codeHash && !(await tx.portal.consumeEmailCode(user.id, r.id, codeHash)))
      return 'the emailed code was used by another request';
    if (token && match) {
      if (!(await tx.portal.useTokenStep(token.id, match.step)))
        return `the code of token ${token.serial} was already used`;
      await tx.tokens.update(
        token.id,
        token.type === 'hotp' ? { counter: match.step + 1 } : { driftSteps: token.driftSteps + match.offset },
      );
      // Databases from before the hold existed: the first sign-in with an enrolled token sets it.
      if (token.state === 'enrolled') await tx.portal.holdSecondFactor(user.id, r.id, nowMs);
    }
    return null;
  });
}
