/**
 * The admin's changes to a user after they were added: edit the contact
 * fields, reset the portal password (ending their sessions), and remove
 * (offboard) them, their tokens going through the life cycle: each token they
 * hold is revoked, since it leaves with them and must stop working.
 */
import { hashPassword } from '../core/password.js';
import { checkArgText } from '../core/text-guard.js';
import { nextState } from '../core/states.js';
import type { Repos, Store, UserRecord } from '../store/types.js';
import { isSoftwareToken } from './assign.js';
import { checkEmail, checkPhone, findUser } from './users.js';

export interface UserEdit {
  /** '' clears the field; undefined leaves it. */
  email?: string;
  phone?: string;
  name?: string;
}

/** Changes a user's email, phone or name; the audit row holds what changed, from what to what. */
export async function editUser(store: Store, login: string, edit: UserEdit): Promise<UserRecord> {
  const patch: Partial<Pick<UserRecord, 'email' | 'phone' | 'name'>> = {};
  if (edit.email !== undefined) patch.email = checkEmail(edit.email);
  if (edit.phone !== undefined) patch.phone = checkPhone(edit.phone);
  if (edit.name !== undefined) patch.name = checkArgText(edit.name.trim(), 'name', '--name') || null;
  return store.transaction(async (tx) => {
    const user = await findUser(tx, login);
    const changes: Record<string, { from: string | null; to: string | null }> = {};
    for (const [k, v] of Object.entries(patch) as [keyof typeof patch, string | null][])
      if (user[k] !== v) changes[k] = { from: user[k], to: v };
    if (Object.keys(changes).length === 0) return user;
    const updated = await tx.users.update(user.id, patch);
    await tx.audit.append({ action: 'user.edit', subject: `user:${user.login}`, details: { changes } });
    return updated;
  });
}

/** Sets a new portal password (or clears it: the user signs in with an emailed code) and ends every session of the user. */
export async function resetPassword(
  store: Store,
  login: string,
  password: string | null,
): Promise<{ user: UserRecord; sessionsEnded: number }> {
  const passwordHash = password !== null ? await hashPassword(password) : null;
  return store.transaction(async (tx) => {
    const user = await tx.users.update((await findUser(tx, login)).id, { passwordHash });
    const sessionsEnded = await tx.portal.endUserSessions(user.id);
    await tx.audit.append({
      action: 'user.reset-password',
      subject: `user:${user.login}`,
      // Whether a password is set now, never the password or its hash.
      details: { hasPassword: passwordHash !== null, sessionsEnded },
    });
    return { user, sessionsEnded };
  });
}

export interface RemovedUser {
  login: string;
  /** Each token the user held: revoked, its assignment ended. */
  revoked: { serial: string; resource: string | null; from: string }[];
  resources: string[];
}

/** Revokes every token the user holds (a software token's secret is wiped: it lives in the user's app). */
async function revokeTokensOf(tx: Repos, user: UserRecord): Promise<RemovedUser['revoked']> {
  const revoked: RemovedUser['revoked'] = [];
  for (const a of await tx.assignments.list({ userId: user.id })) {
    const t = (await tx.tokens.get(a.tokenId))!;
    const r = await tx.resources.get(a.resourceId);
    const to = nextState(t.state, 'revoke');
    await tx.assignments.delete(a.id);
    await tx.tokens.update(t.id, { state: to, previousState: null, ...(isSoftwareToken(t) ? { seed: null } : {}) });
    await tx.audit.append({
      action: 'token.revoke',
      subject: `token:${t.serial}`,
      details: {
        from: t.state,
        to,
        user: user.login,
        resource: r?.name ?? null,
        assignmentEnded: true,
        reason: 'user removed',
      },
    });
    revoked.push({ serial: t.serial, resource: r?.name ?? null, from: t.state });
  }
  return revoked;
}

/** Offboards a user: their tokens are revoked, their sessions end, and the user is deleted (the audit log keeps their history). */
export async function removeUser(store: Store, login: string): Promise<RemovedUser> {
  return store.transaction(async (tx) => {
    const user = await findUser(tx, login);
    const resources = (await tx.users.resourcesOf(user.id)).map((r) => r.name);
    const revoked = await revokeTokensOf(tx, user);
    await tx.portal.endUserSessions(user.id);
    await tx.users.delete(user.id);
    await tx.audit.append({
      action: 'user.remove',
      subject: `user:${user.login}`,
      details: { resources, revoked: revoked.map((t) => t.serial) },
    });
    return { login: user.login, revoked, resources };
  });
}
