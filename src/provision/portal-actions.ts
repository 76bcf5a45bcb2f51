/**
 * What a signed-in user can do in a Resource's portal: the token and user
 * actions, each only when the Resource allows it, and only on the Resource's
 * own stock and the user's own token. Enrollment codes are counted against
 * the user (a stranger's stock token is never locked by someone's guesses).
 */
import { DataError, PolicyError, UsageError } from '../core/errors.js';
import { hashPassword } from '../core/password.js';
import { nextState } from '../core/states.js';
import type { Repos, ResourceAction, ResourceRecord, Store, TokenRecord, UserRecord } from '../store/types.js';
import { assignWithin, refuse, unassignWithin } from './assign.js';
import {
  claimToken,
  enrollTypeOf,
  portalContext,
  startSoftwareToken,
  type ClaimResult,
  type SoftwareTokenStart,
} from './enroll.js';
import { resyncKeepingFailure, type ResyncResult } from './lifecycle.js';
import { clearSignInTries, countSignInTry } from './portal-lock.js';
import { portalPasswordMatches } from './portal-password.js';
import { checkField, checkPortalEmail } from './portal-rules.js';
import { findResource } from './resources.js';
import { checkLogin, checkPhone, findUser } from './users.js';

/** After the Resource's lock-after wrong enrollment codes, the user's enrollments are refused for this long. */
export const ENROLL_LOCK_MS = 15 * 60 * 1000;
const enrollSubject = (userId: number) => `enroll:${userId}`;

/** Who the session is: the store ids, and the hash of the session id when it came from the web API. */
export interface PortalSessionIds {
  userId: number;
  resourceId: number;
  sessionIdHash?: string;
}

/** The one refusal for a serial that is not free in this Resource's stock nor the user's own: unknown, elsewhere, or someone else's look alike. */
function notInStock(r: ResourceRecord, serial: string): PolicyError {
  return refuse(
    'token-not-in-stock',
    `token ${serial} is not in the stock of Resource '${r.name}'`,
    'check the serial printed on the token, or ask an admin',
  );
}

/** The token of that serial in the Resource's stock, free or the user's own; else the refusal above. */
async function ownStockToken(tx: Repos, r: ResourceRecord, user: UserRecord, serial: string): Promise<TokenRecord> {
  const here = (await tx.tokens.findBySerial(serial)).filter((t) => t.resourceId === r.id);
  if (here.length !== 1) throw notInStock(r, serial);
  const holder = await tx.assignments.byToken(here[0]!.id);
  if (holder && (holder.userId !== user.id || holder.resourceId !== r.id)) throw notInStock(r, serial);
  return here[0]!;
}

/** What a signed-in user can do in one Resource's portal; every call re-checks the Resource's rules. */
export class PortalSession {
  constructor(
    private readonly store: Store,
    readonly resource: string,
    readonly login: string,
    readonly ids?: PortalSessionIds,
  ) {}

  private get actor() {
    return { actor: `portal:${this.login}`, via: 'portal' as const };
  }

  /** The Resource's allowed actions and token types, and the user's token there. */
  async overview(): Promise<{
    resource: string;
    actions: ResourceAction[];
    tokenTypes: string[];
    token: { serial: string; state: string; type: string } | null;
  }> {
    const r = await findResource(this.store, this.resource);
    const user = await findUser(this.store, this.login);
    const a = await this.store.assignments.byUserResource(user.id, r.id);
    const t = a ? await this.store.tokens.get(a.tokenId) : null;
    return {
      resource: r.name,
      actions: r.actions,
      tokenTypes: r.tokenTypes,
      token: t ? { serial: t.serial, state: t.state, type: enrollTypeOf(t) } : null,
    };
  }

  /** Claims a hardware token from the Resource's stock (or confirms the user's pending one) with the code it shows now; every try counts against the user. */
  async enroll(serial: string, code: string, at?: Date): Promise<ClaimResult> {
    const nowMs = (at ?? new Date()).getTime();
    const { r, user } = await portalContext(this.store, this.resource, this.login, 'enroll');
    const subject = enrollSubject(user.id);
    const count = await this.store.transaction((tx) =>
      tx.portal.countAttempt({ resourceId: r.id, subject, limit: r.lockAfter, lockMs: ENROLL_LOCK_MS, nowMs }),
    );
    if (count.attempts > r.lockAfter) {
      const until = new Date(count.lockedUntilMs ?? nowMs).toISOString();
      throw new PolicyError(
        `refused: enrollment for '${user.login}' in '${r.name}' is locked after ${r.lockAfter} wrong codes; try again after ${until}`,
        { code: 'enroll-locked' },
      );
    }
    const t = await ownStockToken(this.store, r, user, serial.trim());
    const left = r.lockAfter - count.attempts;
    const done = await claimToken(this.store, {
      resource: this.resource,
      login: this.login,
      serial: t.serial,
      manufacturer: t.manufacturer,
      code,
      at,
      userAttemptsLeft: left,
      ...this.actor,
    });
    await this.store.transaction((tx) => tx.portal.clearAttempts(r.id, subject, nowMs));
    return done;
  }

  /** A software token: the otpauth URI to scan; confirm it with enroll(serial, firstCode). */
  startSoftwareToken(): Promise<SoftwareTokenStart> {
    return startSoftwareToken(this.store, { resource: this.resource, login: this.login, ...this.actor });
  }

  /** Takes a token of the Resource's stock (by its serial) without a code yet; it is enrolled with the first code. */
  async assignExisting(serial: string): Promise<{ serial: string; state: string }> {
    return this.store.transaction(async (tx) => {
      const { r, user } = await portalContext(tx, this.resource, this.login, 'assign-existing');
      const t = await ownStockToken(tx, r, user, serial.trim());
      const done = await assignWithin(tx, {
        serial: t.serial,
        manufacturer: t.manufacturer,
        login: this.login,
        resource: this.resource,
        ...this.actor,
      });
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
    return resyncKeepingFailure(this.store, async (tx) => (await this.myToken(tx, 'synchronize')).t, codes, {
      at,
      ...this.actor,
    });
  }

  async unassign(): Promise<{ serial: string; state: string }> {
    return this.store.transaction(async (tx) => {
      const { user, t } = await this.myToken(tx, 'unassign');
      const u = await unassignWithin(tx, t, this.actor);
      // Ending a token's use ends the user's other sessions: a copied session cannot go on without the token.
      await tx.portal.endUserSessions(user.id, this.ids?.sessionIdHash);
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
      await tx.portal.endUserSessions(user.id, this.ids?.sessionIdHash);
      await tx.audit.append({
        action: 'token.reissue',
        subject: `token:${t.serial}`,
        ...this.actor,
        details: { user: user.login, resource: r.name, from: t.state, to: state, via: 'portal' },
      });
      return { serial: t.serial, state };
    });
  }

  async setPin(): Promise<never> {
    const { t } = await this.myToken(this.store, 'set-pin');
    throw new DataError(`token ${t.serial} has no PIN that tokensmith manages (TOTP tokens here carry none)`, {
      code: 'not-supported',
      where: t.serial,
    });
  }

  async removePin(): Promise<never> {
    const { t } = await this.myToken(this.store, 'remove-pin');
    throw new DataError(`token ${t.serial} has no PIN that tokensmith manages (TOTP tokens here carry none)`, {
      code: 'not-supported',
      where: t.serial,
    });
  }

  private async changeUser(
    action: ResourceAction,
    patch: Partial<Pick<UserRecord, 'login' | 'name' | 'email' | 'phone' | 'passwordHash'>>,
    shown: Record<string, unknown>,
  ) {
    const login = await this.store.transaction(async (tx) => {
      const { user } = await portalContext(tx, this.resource, this.login, action);
      const u = await tx.users.update(user.id, patch);
      await tx.audit.append({
        action: `user.${action}`,
        subject: `user:${user.login}`,
        ...this.actor,
        details: { resource: this.resource, ...shown },
      });
      return u.login;
    });
    return new PortalSession(this.store, this.resource, login, this.ids);
  }

  /**
   * Needs the current password (counted with the sign-in tries of the login; a user who has none signed in
   * by emailed code and gives none), and ends the user's other sessions.
   */
  async changePassword(currentPassword: string | undefined, newPassword: string, at?: Date): Promise<PortalSession> {
    checkField('password', newPassword);
    if (newPassword.length < 8) throw new UsageError('the new password must be at least 8 characters', 'weak-password');
    const { r, user } = await portalContext(this.store, this.resource, this.login, 'change-password');
    if (user.passwordHash) await this.checkCurrentPassword(r, user, currentPassword ?? '', at ?? new Date());
    const passwordHash = await hashPassword(newPassword);
    await this.store.transaction(async (tx) => {
      await tx.users.update(user.id, { passwordHash });
      const ended = await tx.portal.endUserSessions(user.id, this.ids?.sessionIdHash);
      await tx.audit.append({
        action: 'user.change-password',
        subject: `user:${user.login}`,
        ...this.actor,
        details: { resource: r.name, endedSessions: ended },
      });
    });
    return new PortalSession(this.store, this.resource, user.login, this.ids);
  }

  /** Counted with the sign-in tries of the login (in the Resource and everywhere), checked by the portal's one password check. */
  private async checkCurrentPassword(r: ResourceRecord, user: UserRecord, current: string, at: Date): Promise<void> {
    const count = await countSignInTry(this.store, r, user.login, at.getTime(), `user:${user.login}`);
    const ok = !count.locked && (await portalPasswordMatches(user, current));
    if (!ok) {
      const left = Math.max(0, r.lockAfter - count.attempts);
      throw new PolicyError(`refused: the current password is wrong or sign-in is locked; ${left} attempt(s) left`, {
        code: 'wrong-password',
      });
    }
    await this.store.transaction((tx) => clearSignInTries(tx, r, user.login, at.getTime()));
  }

  async changeEmail(email: string) {
    const e = checkPortalEmail(email);
    return this.changeUser('change-email', { email: e }, { email: e });
  }
  async changePhone(phone: string) {
    const p = checkPhone(checkField('phone', phone));
    return this.changeUser('change-phone', { phone: p }, { phone: p });
  }
  async changeName(name: string) {
    const n = checkField('name', name).trim() || null;
    return this.changeUser('change-name', { name: n }, { name: n });
  }
  /** Returns the session under the new login. */
  async changeLogin(login: string) {
    const l = checkLogin(checkField('login', login));
    try {
      return await this.changeUser('change-login', { login: l }, { from: this.login, to: l });
    } catch (e) {
      // Logins are unique across Resources: the answer says no more than "not this one", whoever holds it, wherever.
      if ((e as { code?: string }).code !== 'duplicate-user') throw e;
      throw new PolicyError(`refused: '${l}' cannot be your login; choose another`, { code: 'login-unavailable' });
    }
  }
}
