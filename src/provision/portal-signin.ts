/**
 * Signing in to a Resource's portal without telling who exists. Every try is
 * counted (by the login typed, known or not) in the store before anything is
 * checked, so parallel tries count one each and stop at the Resource's limit;
 * every checked try costs one scrypt (a dummy hash when there is no password);
 * and every refusal says the same words whatever was wrong.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { PolicyError } from '../core/errors.js';
import { findCode } from '../core/otp.js';
import { hashPassword } from '../core/password.js';
import type { Repos, ResourceRecord, Store, TokenRecord, UserRecord } from '../store/types.js';
import { refuse } from './assign.js';
import type { Mailer } from './mailer.js';
import { checkField, DEFAULT_PORTAL_LIMITS, SIGNIN_LOCK_MS, type PortalLimits } from './portal-rules.js';
import { findResource } from './resources.js';
import { PortalSession } from './portal-actions.js';
import { directoryDisabled, passwordKindOf, preparePasswordCheck, type PasswordCheck } from './portal-password.js';

/** How long an emailed sign-in code is valid, and how many tries it takes. */
export const SIGNIN_CODE_TTL_MS = 10 * 60 * 1000;
export const SIGNIN_CODE_TRIES = 5;
export { SIGNIN_LOCK_MS };

export interface SignInChallenge {
  resource: string;
  login: string;
  method: 'password' | 'email-code';
  /** The user holds an enrolled token in the Resource: its code is asked too. */
  tokenCodeRequired: boolean;
  /** For email-code: where the code went (the address, masked). */
  sentTo?: string;
}

export interface SignInInput {
  resource: string;
  login: string;
  password?: string;
  emailCode?: string;
  tokenCode?: string;
  at?: Date;
}

export const signInSubject = (login: string) => `signin:${login}`;

let dummyHash: Promise<string> | null = null;
/** A hash to check a password against when the login has none, so that every checked try costs one scrypt (made ahead: the first try must not cost two). */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

const DECOY_KEY = 'portal_decoy_key';
const decoyKeys = new WeakMap<Store, Promise<string>>();
/** One key per store, so that every portal process on the database answers an unknown login alike. */
function decoyKeyOf(store: Store): Promise<string> {
  let key = decoyKeys.get(store);
  if (!key) {
    key = (async () => {
      if (!(await store.meta.get(DECOY_KEY)))
        await store.transaction(
          async (tx) => (await tx.meta.get(DECOY_KEY)) ?? tx.meta.set(DECOY_KEY, randomBytes(32).toString('hex')),
        );
      return (await store.meta.get(DECOY_KEY))!;
    })();
    decoyKeys.set(store, key);
  }
  return key;
}

/** For a login that cannot sign in here: a token-code question that stays the same for that login, like a real user's. */
async function decoyTokenCodeRequired(store: Store, resource: string, login: string): Promise<boolean> {
  return (
    (createHmac('sha256', await decoyKeyOf(store))
      .update(`${resource}\u0000${login}`)
      .digest()[0]! &
      1) ===
    1
  );
}

function maskEmail(e: string): string {
  const [local, domain] = e.split('@');
  return `${local!.slice(0, 1)}***@${domain}`;
}

function hashSignInCode(code: string, salt = randomBytes(16).toString('hex')): string {
  return `sha256$${salt}$${createHash('sha256').update(`${salt}:${code}`).digest('hex')}`;
}

function signInCodeMatches(code: string, stored: string): boolean {
  const [, salt, hex] = stored.split('$');
  const want = Buffer.from(hex ?? '', 'hex');
  const got = Buffer.from(hashSignInCode(code, salt).split('$')[2]!, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}

async function enrolledTokenOf(store: Repos, user: UserRecord, r: ResourceRecord): Promise<TokenRecord | null> {
  const a = await store.assignments.byUserResource(user.id, r.id);
  if (!a?.enrolledAt) return null;
  const t = await store.tokens.get(a.tokenId);
  return t && t.state === 'enrolled' ? t : null;
}

/** The user of that login in the Resource, or null for an unknown login and for a user of another Resource alike. */
async function memberOf(store: Repos, r: ResourceRecord, login: string): Promise<UserRecord | null> {
  const user = await store.users.findByLogin(login);
  // A directory account that was disabled or left is answered like an unknown login.
  return user && (await store.users.isInResource(user.id, r.id)) && !(await directoryDisabled(store, user))
    ? user
    : null;
}

/** Step one: what the user will be asked. Sends the emailed code when that is the method (one live code, a cool-down between mails). */
export async function beginSignIn(
  store: Store,
  mailer: Mailer,
  input: { resource: string; login: string; at?: Date; limits?: Partial<PortalLimits> },
): Promise<SignInChallenge> {
  const nowMs = (input.at ?? new Date()).getTime();
  const cooldownMs = input.limits?.emailCooldownMs ?? DEFAULT_PORTAL_LIMITS.emailCooldownMs;
  const r = await findResource(store, input.resource);
  const login = checkField('login', input.login.trim());
  const user = await memberOf(store, r, login);
  const kind = await passwordKindOf(store, user);
  if (!user || (kind === 'none' && !user.email))
    return {
      resource: r.name,
      login,
      method: 'password',
      tokenCodeRequired: await decoyTokenCodeRequired(store, r.name, login),
    };
  const tokenCodeRequired = (await enrolledTokenOf(store, user, r)) !== null;
  if (kind !== 'none') return { resource: r.name, login: user.login, method: 'password', tokenCodeRequired };
  const challenge: SignInChallenge = {
    resource: r.name,
    login: user.login,
    method: 'email-code',
    tokenCodeRequired,
    sentTo: maskEmail(user.email!),
  };
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const codeHash = hashSignInCode(code);
  const issued = await store.transaction(async (tx) => {
    const fresh = await tx.portal.issueEmailCode({
      userId: user.id,
      resourceId: r.id,
      codeHash,
      nowMs,
      expiresMs: nowMs + SIGNIN_CODE_TTL_MS,
      cooldownMs,
    });
    if (fresh)
      await tx.audit.append({
        action: 'portal.signin-code',
        subject: `user:${user.login}`,
        actor: `portal:${user.login}`,
        details: { resource: r.name, to: challenge.sentTo },
      });
    return fresh;
  });
  // Within the cool-down the code already sent stays the one to type: the answer does not change.
  if (!issued) return challenge;
  try {
    await mailer.send({
      to: user.email!,
      subject: `Your sign-in code for ${r.name}`,
      text: `Your one-time code to sign in to the ${r.name} self-service portal is ${code}.\nIt is valid for ${SIGNIN_CODE_TTL_MS / 60000} minutes. If you did not ask for it, ignore this message.\n${r.url ? `\n${r.url}\n` : ''}`,
    });
  } catch (err) {
    // A code that never left must not hold the cool-down: the next request sends a new one.
    await store.transaction((tx) => tx.portal.consumeEmailCode(user.id, r.id, codeHash));
    throw err;
  }
  return challenge;
}

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

/** Step two: one counted try. Returns a session, or the same refusal whatever was wrong (the audit log keeps the reason). */
export async function signIn(store: Store, input: SignInInput): Promise<PortalSession> {
  const at = input.at ?? new Date();
  const nowMs = at.getTime();
  const r = await findResource(store, input.resource);
  const login = checkField('login', input.login.trim());
  const subject = signInSubject(login);
  const user = await memberOf(store, r, login);
  // Made ready before the try is counted: a directory that does not answer is a 503 and no failure.
  const check = await preparePasswordCheck(store, user, await dummyPasswordHash());
  try {
    return await countedSignIn(store, r, { input, login, subject, nowMs, user, check });
  } finally {
    await check.close();
  }
}

async function countedSignIn(
  store: Store,
  r: ResourceRecord,
  c: {
    input: SignInInput;
    login: string;
    subject: string;
    nowMs: number;
    user: UserRecord | null;
    check: PasswordCheck;
  },
): Promise<PortalSession> {
  const { input, login, subject, nowMs, user, check } = c;
  const count = await store.transaction((tx) =>
    tx.portal.countAttempt({ resourceId: r.id, subject, limit: r.lockAfter, lockMs: SIGNIN_LOCK_MS, nowMs }),
  );
  if (count.attempts > r.lockAfter) throw lockedSignIn(r, count.lockedUntilMs);
  const passwordOk = await check.verify(input.password);
  const why = user
    ? await checkSecondFactors(store, r, user, input, passwordOk, nowMs, check.kind !== 'none')
    : 'unknown login or not a user of this Resource';
  const audited = user ? `user:${user.login}` : `login:${login}`;
  if (why) {
    await store.audit.append({
      action: 'portal.signin-failed',
      subject: audited,
      actor: `portal:${login}`,
      details: { resource: r.name, reason: why, attempts: count.attempts },
    });
    throw wrongSignIn(r, count.attempts, count.lockedUntilMs);
  }
  await store.transaction(async (tx) => {
    await tx.portal.clearAttempts(r.id, subject);
    await tx.audit.append({
      action: 'portal.signin',
      subject: audited,
      actor: `portal:${user!.login}`,
      details: {
        resource: r.name,
        method: check.kind === 'none' ? 'email-code' : check.kind === 'directory' ? 'directory' : 'password',
      },
    });
  });
  return new PortalSession(store, r.name, user!.login, { userId: user!.id, resourceId: r.id });
}

/** Checks the emailed code (when the user has no password) and the token's code; uses both up on success. Returns why it failed, or null. */
async function checkSecondFactors(
  store: Store,
  r: ResourceRecord,
  user: UserRecord,
  input: SignInInput,
  passwordOk: boolean,
  nowMs: number,
  hasPassword: boolean,
): Promise<string | null> {
  if (hasPassword && !passwordOk) return 'wrong password';
  if (!hasPassword && !user.email) return 'the user has neither a password nor an email';
  let codeHash: string | null = null;
  if (!hasPassword) {
    const live = await store.transaction((tx) => tx.portal.tryEmailCode(user.id, r.id, nowMs, SIGNIN_CODE_TRIES));
    if (!live) return 'no valid emailed code';
    if (!input.emailCode || !signInCodeMatches(input.emailCode.trim(), live.codeHash)) return 'wrong emailed code';
    codeHash = live.codeHash;
  }
  return store.transaction(async (tx) => {
    const token = await enrolledTokenOf(tx, user, r);
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
    }
    return null;
  });
}
