/**
 * A Resource's self-service portal as a service: sign in (only users of the
 * Resource; the password when the user has one, else a one-time code sent to
 * the email; plus the code of the token the user holds there), then the
 * token and user actions, each only when the Resource allows it. The CLI uses
 * it now; the web page will use the same calls.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { DataError, UsageError, type PolicyError } from '../core/errors.js';
import { findCode } from '../core/otp.js';
import { hashPassword, verifyPassword } from '../core/password.js';
import { nextState } from '../core/states.js';
import type { Repos, ResourceAction, ResourceRecord, Store, TokenRecord, UserRecord } from '../store/types.js';
import { assignWithin, refuse, unassignWithin } from './assign.js';
import { claimToken, enrollTypeOf, portalContext, startSoftwareToken, type ClaimResult, type SoftwareTokenStart } from './enroll.js';
import { resyncWithin, type ResyncResult } from './lifecycle.js';
import type { Mailer } from './mailer.js';
import { findResource } from './resources.js';
import { checkEmail, checkLogin, checkPhone, findUser } from './users.js';

/** How long an emailed sign-in code is valid, and how many tries it takes. */
export const SIGNIN_CODE_TTL_MS = 10 * 60 * 1000;
export const SIGNIN_CODE_TRIES = 5;
/** After the Resource's lock-after failed sign-ins, the portal refuses the user for this long. */
export const SIGNIN_LOCK_MS = 15 * 60 * 1000;

export interface SignInChallenge {
  resource: string;
  login: string;
  method: 'password' | 'email-code';
  /** The user holds an enrolled token in the Resource: its code is asked too. */
  tokenCodeRequired: boolean;
  /** For email-code: where the code went (the address, masked). */
  sentTo?: string;
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

/** Step one: who is signing in, and what they will be asked. Sends the emailed code when that is the method. */
export async function beginSignIn(store: Store, mailer: Mailer, input: { resource: string; login: string; at?: Date }): Promise<SignInChallenge> {
  const at = input.at ?? new Date();
  const r = await findResource(store, input.resource);
  const user = await findUser(store, input.login);
  if (!(await store.users.isInResource(user.id, r.id))) throw refuse('user-not-in-resource', `user '${user.login}' is not a user of Resource '${r.name}'`);
  const tokenCodeRequired = (await enrolledTokenOf(store, user, r)) !== null;
  if (user.passwordHash) return { resource: r.name, login: user.login, method: 'password', tokenCodeRequired };
  if (!user.email) throw refuse('cannot-sign-in', `user '${user.login}' has neither a password nor an email`, `an admin sets one: tokensmith user add/import`);
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  await store.transaction(async (tx) => {
    await tx.portal.addSignInCode({ userId: user.id, resourceId: r.id, codeHash: hashSignInCode(code), expiresAt: new Date(at.getTime() + SIGNIN_CODE_TTL_MS).toISOString() });
    await tx.audit.append({ action: 'portal.signin-code', subject: `user:${user.login}`, actor: `portal:${user.login}`, details: { resource: r.name, to: maskEmail(user.email!) } });
  });
  await mailer.send({
    to: user.email,
    subject: `Your sign-in code for ${r.name}`,
    text: `Your one-time code to sign in to the ${r.name} self-service portal is ${code}.\nIt is valid for ${SIGNIN_CODE_TTL_MS / 60000} minutes. If you did not ask for it, ignore this message.\n${r.url ? `\n${r.url}\n` : ''}`,
  });
  return { resource: r.name, login: user.login, method: 'email-code', tokenCodeRequired, sentTo: maskEmail(user.email) };
}

export interface SignInInput {
  resource: string;
  login: string;
  password?: string;
  emailCode?: string;
  tokenCode?: string;
  at?: Date;
}

/** Step two: checks the secret and the token code; returns a session or a refusal naming the rule. */
export async function signIn(store: Store, input: SignInInput): Promise<PortalSession> {
  const at = input.at ?? new Date();
  const r = await findResource(store, input.resource);
  const user = await findUser(store, input.login);
  if (!(await store.users.isInResource(user.id, r.id))) throw refuse('user-not-in-resource', `user '${user.login}' is not a user of Resource '${r.name}'`);
  const failures = await store.portal.signInFailures(user.id, r.id);
  if (failures.lockedUntil && new Date(failures.lockedUntil) > at) {
    throw refuse('sign-in-refused', `sign-in for '${user.login}' is locked after ${failures.failed} failed attempts until ${failures.lockedUntil}`, 'try again later');
  }
  if (!user.passwordHash && !user.email) throw refuse('cannot-sign-in', `user '${user.login}' has neither a password nor an email`);
  // Slow work (scrypt) outside the transaction; its result is written inside.
  const passwordOk = user.passwordHash ? input.password !== undefined && (await verifyPassword(input.password, user.passwordHash)) : null;
  let refusal: PolicyError | null = null;
  await store.transaction(async (tx) => {
    let why: string | null = null;
    let codeRow = null;
    if (passwordOk === false) why = 'wrong password';
    else if (passwordOk === null) {
      codeRow = await tx.portal.latestSignInCode(user.id, r.id);
      if (!codeRow || new Date(codeRow.expiresAt) <= at || codeRow.attempts >= SIGNIN_CODE_TRIES) why = 'no valid emailed code: ask for a new one';
      else if (!input.emailCode || !signInCodeMatches(input.emailCode.trim(), codeRow.codeHash)) {
        why = 'wrong emailed code';
        await tx.portal.updateSignInCode(codeRow.id, { attempts: codeRow.attempts + 1 });
      }
    }
    const token = await enrolledTokenOf(tx, user, r);
    let match = null;
    if (!why && token) {
      const code = input.tokenCode?.trim() ?? '';
      const seed = await tx.tokens.openSeed(token);
      try {
        match = findCode(seed, token, code, { at, driftSteps: token.driftSteps, window: r.window, counter: token.counter });
      } finally {
        seed.fill(0);
      }
      if (!code) why = `the code of token ${token.serial} is required`;
      else if (!match) why = `wrong code for token ${token.serial}`;
      else if (token.lastUsedStep !== null && match.step <= token.lastUsedStep) why = `the code of token ${token.serial} was already used`;
    }
    if (why) {
      const failed = failures.failed + 1;
      const lockedUntil = failed >= r.lockAfter ? new Date(at.getTime() + SIGNIN_LOCK_MS).toISOString() : null;
      await tx.portal.setSignInFailures(user.id, r.id, failed, lockedUntil);
      await tx.audit.append({ action: 'portal.signin-failed', subject: `user:${user.login}`, actor: `portal:${user.login}`, details: { resource: r.name, reason: why, failed, lockedUntil } });
      refusal = refuse('sign-in-refused', `sign-in to '${r.name}' as '${user.login}': ${why}`, lockedUntil ? `sign-in is locked until ${lockedUntil}` : `${r.lockAfter - failed} attempt(s) left`);
      return;
    }
    if (codeRow) await tx.portal.updateSignInCode(codeRow.id, { usedAt: at.toISOString() });
    if (token && match) {
      await tx.tokens.update(token.id, { lastUsedStep: match.step, ...(token.type === 'hotp' ? { counter: match.step + 1 } : { driftSteps: token.driftSteps + match.offset }) });
    }
    await tx.portal.setSignInFailures(user.id, r.id, 0, null);
    await tx.audit.append({ action: 'portal.signin', subject: `user:${user.login}`, actor: `portal:${user.login}`, details: { resource: r.name, method: passwordOk ? 'password' : 'email-code', tokenCode: token !== null } });
  });
  if (refusal) throw refusal;
  return new PortalSession(store, r.name, user.login);
}

/** What a signed-in user can do in one Resource's portal; every call re-checks the Resource's rules. */
export class PortalSession {
  constructor(
    private readonly store: Store,
    readonly resource: string,
    readonly login: string,
  ) {}

  private get actor() {
    return { actor: `portal:${this.login}`, via: 'portal' as const };
  }

  /** The Resource's allowed actions and token types, and the user's token there. */
  async overview(): Promise<{ resource: string; actions: ResourceAction[]; tokenTypes: string[]; token: { serial: string; state: string; type: string } | null }> {
    const r = await findResource(this.store, this.resource);
    const user = await findUser(this.store, this.login);
    const a = await this.store.assignments.byUserResource(user.id, r.id);
    const t = a ? await this.store.tokens.get(a.tokenId) : null;
    return { resource: r.name, actions: r.actions, tokenTypes: r.tokenTypes, token: t ? { serial: t.serial, state: t.state, type: enrollTypeOf(t) } : null };
  }

  /** Claims a hardware token from the stock (or confirms a pending one) with the code it shows now. */
  enroll(serial: string, code: string, at?: Date): Promise<ClaimResult> {
    return claimToken(this.store, { resource: this.resource, login: this.login, serial, code, at, ...this.actor });
  }

  /** A software token: the otpauth URI to scan; confirm it with enroll(serial, firstCode). */
  startSoftwareToken(): Promise<SoftwareTokenStart> {
    return startSoftwareToken(this.store, { resource: this.resource, login: this.login, ...this.actor });
  }

  /** Takes a token that is already registered (by its serial) without a code yet; it is enrolled with the first code. */
  async assignExisting(serial: string): Promise<{ serial: string; state: string }> {
    return this.store.transaction(async (tx) => {
      await portalContext(tx, this.resource, this.login, 'assign-existing');
      const done = await assignWithin(tx, { serial, login: this.login, resource: this.resource, ...this.actor });
      return { serial: done.token.serial, state: done.token.state };
    });
  }

  private async myToken(store: Repos, action: ResourceAction) {
    const { r, user } = await portalContext(store, this.resource, this.login, action);
    const a = await store.assignments.byUserResource(user.id, r.id);
    const t = a ? await store.tokens.get(a.tokenId) : null;
    if (!t) throw new DataError(`user '${this.login}' has no token in Resource '${r.name}'`, { code: 'no-token' });
    return { r, user, t };
  }

  async synchronize(codes: [string, string], at?: Date): Promise<ResyncResult> {
    let failure: unknown = null;
    const result = await this.store.transaction(async (tx) => {
      const { t } = await this.myToken(tx, 'synchronize');
      try {
        return await resyncWithin(tx, t, codes, { at, ...this.actor });
      } catch (err) {
        if ((err as { code?: string }).code !== 'resync-failed') throw err;
        failure = err;
        return null;
      }
    });
    if (failure) throw failure;
    return result!;
  }

  async unassign(): Promise<{ serial: string; state: string }> {
    return this.store.transaction(async (tx) => {
      const { t } = await this.myToken(tx, 'unassign');
      const u = await unassignWithin(tx, t, this.actor);
      return { serial: u.serial, state: u.state };
    });
  }

  /** Sends an enrolled token back to pending: the user proves it again with a code (enroll). */
  async reissue(): Promise<{ serial: string; state: string }> {
    return this.store.transaction(async (tx) => {
      const { r, user, t } = await this.myToken(tx, 'reissue');
      const state = nextState(t.state, 'reissue');
      const a = (await tx.assignments.byToken(t.id))!;
      await tx.assignments.markEnrolled(a.id, null);
      await tx.tokens.update(t.id, { state });
      await tx.audit.append({ action: 'token.reissue', subject: `token:${t.serial}`, ...this.actor, details: { user: user.login, resource: r.name, from: t.state, to: state, via: 'portal' } });
      return { serial: t.serial, state };
    });
  }

  async setPin(): Promise<never> {
    const { t } = await this.myToken(this.store, 'set-pin');
    throw new DataError(`token ${t.serial} has no PIN that tokensmith manages (TOTP tokens here carry none)`, { code: 'not-supported', where: t.serial });
  }

  async removePin(): Promise<never> {
    const { t } = await this.myToken(this.store, 'remove-pin');
    throw new DataError(`token ${t.serial} has no PIN that tokensmith manages (TOTP tokens here carry none)`, { code: 'not-supported', where: t.serial });
  }

  private async changeUser(action: ResourceAction, patch: Partial<Pick<UserRecord, 'login' | 'name' | 'email' | 'phone' | 'passwordHash'>>, shown: Record<string, unknown>) {
    const login = await this.store.transaction(async (tx) => {
      const { user } = await portalContext(tx, this.resource, this.login, action);
      const u = await tx.users.update(user.id, patch);
      await tx.audit.append({ action: `user.${action}`, subject: `user:${user.login}`, ...this.actor, details: { resource: this.resource, ...shown } });
      return u.login;
    });
    return new PortalSession(this.store, this.resource, login);
  }

  async changePassword(newPassword: string): Promise<PortalSession> {
    if (newPassword.length < 8) throw new UsageError('the new password must be at least 8 characters');
    return this.changeUser('change-password', { passwordHash: await hashPassword(newPassword) }, {});
  }
  async changeEmail(email: string) {
    const e = checkEmail(email);
    return this.changeUser('change-email', { email: e }, { email: e });
  }
  async changePhone(phone: string) {
    const p = checkPhone(phone);
    return this.changeUser('change-phone', { phone: p }, { phone: p });
  }
  async changeName(name: string) {
    return this.changeUser('change-name', { name: name.trim() || null }, { name: name.trim() || null });
  }
  /** Returns the session under the new login. */
  async changeLogin(login: string) {
    const l = checkLogin(login);
    return this.changeUser('change-login', { login: l }, { from: this.login, to: l });
  }
}
