/**
 * The admin's way to end a user's portal sessions (`tokensmith user signout`),
 * in one Resource or all, and to let a user who held a token sign in without
 * one again (the second-factor hold, see portal-challenge.ts).
 */
import type { Store } from '../store/types.js';
import { findResource } from './resources.js';
import { findUser } from './users.js';

export interface SignOutResult {
  login: string;
  resource: string | null;
  sessionsEnded: number;
  /** Resources where the user may now sign in without a token's code (with --forget-token). */
  holdsDropped: number;
}

export async function signOutUser(
  store: Store,
  login: string,
  opts: { resource?: string; forgetToken?: boolean } = {},
): Promise<SignOutResult> {
  return store.transaction(async (tx) => {
    const user = await findUser(tx, login);
    const r = opts.resource !== undefined ? await findResource(tx, opts.resource) : null;
    const sessionsEnded = await tx.portal.endUserSessionsIn(user.id, r?.id ?? null);
    const holdsDropped = opts.forgetToken ? await tx.portal.dropSecondFactor(user.id, r?.id ?? null) : 0;
    await tx.audit.append({
      action: 'user.signout',
      subject: `user:${user.login}`,
      details: { resource: r?.name ?? null, sessionsEnded, ...(opts.forgetToken ? { holdsDropped } : {}) },
    });
    return { login: user.login, resource: r?.name ?? null, sessionsEnded, holdsDropped };
  });
}
