/**
 * Step one of a portal sign-in: what the user will be asked, the same for a
 * login that does not exist; the emailed code (one live code per user and
 * Resource, a cool-down between mails, a mail that fails answered like one
 * that left); and which token's code counts as the second factor.
 */
import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { Repos, ResourceRecord, Store, TokenRecord, UserRecord } from '../store/types.js';
import type { Mailer } from './mailer.js';
import { checkField, DEFAULT_PORTAL_LIMITS, type PortalLimits } from './portal-rules.js';
import { findResource } from './resources.js';
import { directoryDisabled, passwordKindOf } from './portal-password.js';

/** How long an emailed sign-in code is valid, how many tries it takes, and its length (see docs/security.md). */
export const SIGNIN_CODE_TTL_MS = 10 * 60 * 1000;
export const SIGNIN_CODE_TRIES = 3;
export const SIGNIN_CODE_DIGITS = 8;

export interface SignInChallenge {
  resource: string;
  login: string;
  method: 'password' | 'email-code';
  /** The user holds a token in the Resource (or held one): its code is asked too. */
  tokenCodeRequired: boolean;
  /** For email-code: where the code went (the address, masked). */
  sentTo?: string;
}

export interface SignInBeginInput {
  resource: string;
  login: string;
  at?: Date;
  limits?: Partial<PortalLimits>;
  /** The Resource's portal page as users open it (https://mfa.example.com/r/vpn): named in the mail. */
  pageUrl?: string;
  /** Told when a sign-in code could not be mailed (the user is answered as if it left). */
  onMailFailure?: (message: string) => void;
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
  const mac = createHmac('sha256', await decoyKeyOf(store))
    .update(`${resource}\u0000${login}`)
    .digest();
  return (mac[0]! & 1) === 1;
}

export function maskEmail(e: string): string {
  const [local, domain] = e.split('@');
  return `${local!.slice(0, 1)}***@${domain}`;
}

function hashSignInCode(code: string, salt = randomBytes(16).toString('hex')): string {
  return `sha256$${salt}$${createHash('sha256').update(`${salt}:${code}`).digest('hex')}`;
}

export function signInCodeMatches(code: string, stored: string): boolean {
  const [, salt, hex] = stored.split('$');
  const want = Buffer.from(hex ?? '', 'hex');
  const got = Buffer.from(hashSignInCode(code, salt).split('$')[2]!, 'hex');
  return want.length === got.length && timingSafeEqual(want, got);
}

/** The user of that login in the Resource, or null for an unknown login and for a user of another Resource alike. */
export async function memberOf(store: Repos, r: ResourceRecord, login: string): Promise<UserRecord | null> {
  const user = await store.users.findByLogin(login);
  // A directory account that was disabled or left is answered like an unknown login.
  return user && (await store.users.isInResource(user.id, r.id)) && !(await directoryDisabled(store, user))
    ? user
    : null;
}

/**
 * The token whose code sign-in asks for: the enrolled one; once the user held one here (the hold), also a token
 * assigned and not yet proven (after a reissue, or the admin's replacement). `missing`: a hold, and no such token.
 */
export async function secondFactorOf(
  store: Repos,
  user: UserRecord,
  r: ResourceRecord,
): Promise<{ token: TokenRecord | null; missing: boolean }> {
  const a = await store.assignments.byUserResource(user.id, r.id);
  const t = a ? await store.tokens.get(a.tokenId) : null;
  if (t && a?.enrolledAt && t.state === 'enrolled') return { token: t, missing: false };
  if (!(await store.portal.secondFactorHeld(user.id, r.id))) return { token: null, missing: false };
  if (t && t.state === 'assigned' && t.hasSeed) return { token: t, missing: false };
  return { token: null, missing: true };
}

/** Step one: what the user will be asked. Sends the emailed code when that is the method (one live code, a cool-down between mails). */
export async function beginSignIn(store: Store, mailer: Mailer, input: SignInBeginInput): Promise<SignInChallenge> {
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
  const factor = await secondFactorOf(store, user, r);
  const tokenCodeRequired = factor.token !== null || factor.missing;
  if (kind !== 'none') return { resource: r.name, login: user.login, method: 'password', tokenCodeRequired };
  const challenge: SignInChallenge = {
    resource: r.name,
    login: user.login,
    method: 'email-code',
    tokenCodeRequired,
    sentTo: maskEmail(user.email!),
  };
  await mailSignInCode(store, mailer, r, user, challenge, input);
  return challenge;
}

/** Issues and mails a code unless one went out within the cool-down; a failed mail keeps the cool-down and is only logged. */
async function mailSignInCode(
  store: Store,
  mailer: Mailer,
  r: ResourceRecord,
  user: UserRecord,
  challenge: SignInChallenge,
  input: SignInBeginInput,
): Promise<void> {
  const nowMs = (input.at ?? new Date()).getTime();
  const code = String(randomInt(0, 10 ** SIGNIN_CODE_DIGITS)).padStart(SIGNIN_CODE_DIGITS, '0');
  const issued = await store.transaction(async (tx) => {
    const fresh = await tx.portal.issueEmailCode({
      userId: user.id,
      resourceId: r.id,
      codeHash: hashSignInCode(code),
      nowMs,
      expiresMs: nowMs + SIGNIN_CODE_TTL_MS,
      cooldownMs: input.limits?.emailCooldownMs ?? DEFAULT_PORTAL_LIMITS.emailCooldownMs,
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
  if (!issued) return;
  try {
    await mailer.send({
      to: user.email!,
      subject: `Your sign-in code for ${r.name}`,
      text: `Your one-time code to sign in to the ${r.name} self-service portal is ${code}.\nIt is valid for ${SIGNIN_CODE_TTL_MS / 60000} minutes. If you did not ask for it, ignore this message.\n${input.pageUrl ? `\nThe portal: ${input.pageUrl}\n` : ''}`,
    });
  } catch (err) {
    // The caller may be anyone: the address, the mail server and its reply go to the operator's log only.
    const why = (err as { code?: string }).code ?? (err as Error).name ?? 'error';
    input.onMailFailure?.(`the sign-in code for '${user.login}' in '${r.name}' to ${challenge.sentTo} failed (${why})`);
    await store.audit.append({
      action: 'portal.signin-code-failed',
      subject: `user:${user.login}`,
      actor: 'portal',
      details: { resource: r.name, to: challenge.sentTo, error: why },
    });
  }
}
