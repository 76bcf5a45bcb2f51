/**
 * `audit list`: rows by time, actor, action and subject, streamed. A user's
 * subject (`user:<login>`) also gathers the events of the tokens they held,
 * from the row that gave them the token to the row that took it back, and
 * what they did in a portal themselves.
 */
import type { AuditFilter, AuditRecord, Store } from '../store/types.js';
import { parseDateOption } from './tokens.js';

export interface AuditQuery {
  subject?: string;
  action?: string;
  actor?: string;
  /** A date (midnight UTC) or an ISO time: rows at or after it. */
  since?: string;
  /** A date (midnight UTC) or an ISO time: rows before it. */
  until?: string;
  limit?: number;
}

/** States a token leaves its user's hands for. */
const LEAVES_USER = new Set(['in_stock', 'programmed', 'revoked', 'retired']);

/** The audit rows of a query, oldest first, streamed. */
export function auditTrail(store: Store, q: AuditQuery): AsyncIterable<AuditRecord> {
  const filter: AuditFilter = {
    action: q.action,
    actor: q.actor,
    since: q.since !== undefined ? parseDateOption(q.since, '--since') : undefined,
    until: q.until !== undefined ? parseDateOption(q.until, '--until') : undefined,
    limit: q.limit,
  };
  const login = /^user:(.+)$/.exec(q.subject ?? '')?.[1];
  if (login === undefined) return store.audit.iterate({ ...filter, subject: q.subject });
  return lastOf(userTrail(store, login, filter), q.limit);
}

/** Whether `r` is about `login`'s tokens (tracked in `held`, updated here) or the user themselves. */
function concernsUser(r: AuditRecord, login: string, held: Set<string>): boolean {
  if (r.subject === `user:${login}` || r.actor === `portal:${login}`) return true;
  if (!r.subject.startsWith('token:')) return false;
  const namesUser = r.details.user === login;
  const ends = r.details.assignmentEnded === true || LEAVES_USER.has(String(r.details.to));
  if (held.has(r.subject)) {
    if (ends || (typeof r.details.user === 'string' && !namesUser)) held.delete(r.subject);
    return true;
  }
  // Only a row that gives the user the token starts their holding of it (a failed claim of a stock token does not).
  if (namesUser && !ends && (r.action === 'token.assign' || r.action === 'token.enroll')) held.add(r.subject);
  return namesUser;
}

/** Every row (up to `until`) is read in order, so that a token given before `since` still counts as held. */
async function* userTrail(store: Store, login: string, f: AuditFilter): AsyncIterable<AuditRecord> {
  const held = new Set<string>();
  for await (const r of store.audit.iterate({ until: f.until })) {
    if (!concernsUser(r, login, held)) continue;
    if (f.since !== undefined && r.at < f.since) continue;
    if ((f.action && r.action !== f.action) || (f.actor && r.actor !== f.actor)) continue;
    yield r;
  }
}

/** The last `limit` items (all without one), holding no more than `limit` at once. */
async function* lastOf<T>(items: AsyncIterable<T>, limit: number | undefined): AsyncIterable<T> {
  if (!limit) {
    yield* items;
    return;
  }
  const ring: T[] = [];
  for await (const x of items) {
    ring.push(x);
    if (ring.length > limit) ring.shift();
  }
  yield* ring;
}
