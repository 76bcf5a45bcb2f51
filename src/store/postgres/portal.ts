/**
 * The portal's shared state on PostgreSQL (migration 7): the twin of
 * sqlite/portal.ts. Each method is one statement (upsert or UPDATE with
 * RETURNING): PostgreSQL holds the row while it counts, so portal processes
 * on one database count every try once, whatever the interleaving.
 */
import type { CountAttemptInput, PortalAttemptCount, PortalStateRepo } from '../types.js';
import type { PgExecutor } from './db.js';

type AttemptRow = { attempts: number; locked_until_ms: number | null; locks: number };

/** The counter's table and key: one Resource's (portal_attempts) or the login's in every Resource (resourceId null). */
const counterOf = (resourceId: number | null) =>
  resourceId === null
    ? { t: 'portal_login_attempts', keys: 'subject', where: 'subject = $2' }
    : { t: 'portal_attempts', keys: 'resource_id, subject', where: 'resource_id = $1 AND subject = $2' };

/**
 * Counts one try; the count that reaches the limit locks for lockMs, doubled for each lock before it, at most maxLockMs.
 * $1 resource, $2 subject, $3 limit, $4 lock ms, $5 now ms, $6 longest lock ms.
 */
function countAttemptSql(resourceId: number | null): string {
  const { t, keys } = counterOf(resourceId);
  const values = resourceId === null ? '$2' : '$1, $2';
  const next = `(CASE WHEN ${t}.locked_until_ms <= $5::bigint THEN 1 ELSE ${t}.attempts + 1 END)`;
  return `
INSERT INTO ${t} (${keys}, attempts, locked_until_ms, locks, touched_ms)
VALUES (${values}, 1, CASE WHEN 1 >= $3::int THEN $5::bigint + $4::bigint ELSE NULL END, CASE WHEN 1 >= $3::int THEN 1 ELSE 0 END, $5::bigint)
ON CONFLICT (${keys}) DO UPDATE SET
  attempts = ${next},
  locked_until_ms = CASE
    WHEN ${t}.locked_until_ms > $5::bigint THEN ${t}.locked_until_ms
    WHEN ${next} >= $3::int THEN $5::bigint + LEAST($4::bigint << LEAST(${t}.locks, 20), $6::bigint)
    ELSE NULL END,
  locks = CASE WHEN ${t}.locked_until_ms > $5::bigint THEN ${t}.locks WHEN ${next} >= $3::int THEN ${t}.locks + 1 ELSE ${t}.locks END,
  touched_ms = $5::bigint
WHERE $1::int IS NOT NULL
RETURNING attempts, locked_until_ms, locks`;
}

// $1 bucket, $2 window ms, $3 now ms
const HIT_BUCKET = `
INSERT INTO portal_rate_buckets (bucket, window_ms, hits) VALUES ($1, $3::bigint, 1)
ON CONFLICT (bucket) DO UPDATE SET
  hits = CASE WHEN portal_rate_buckets.window_ms <= $3::bigint - $2::bigint THEN 1 ELSE portal_rate_buckets.hits + 1 END,
  window_ms = CASE WHEN portal_rate_buckets.window_ms <= $3::bigint - $2::bigint THEN $3::bigint ELSE portal_rate_buckets.window_ms END
RETURNING hits, window_ms`;

// $1 user, $2 resource, $3 code hash, $4 now ms, $5 expires ms, $6 cool-down ms
const ISSUE_CODE = `
INSERT INTO portal_email_codes (user_id, resource_id, code_hash, sent_ms, expires_ms, attempts)
VALUES ($1, $2, $3, $4::bigint, $5::bigint, 0)
ON CONFLICT (user_id, resource_id) DO UPDATE SET
  code_hash = excluded.code_hash, sent_ms = excluded.sent_ms, expires_ms = excluded.expires_ms, attempts = 0
WHERE portal_email_codes.sent_ms <= $4::bigint - $6::bigint OR portal_email_codes.expires_ms <= $4::bigint
RETURNING user_id`;

const toCount = (r: AttemptRow): PortalAttemptCount => ({
  attempts: r.attempts,
  lockedUntilMs: r.locked_until_ms ?? null,
  locks: r.locks,
});

export class PgPortalState implements PortalStateRepo {
  constructor(protected readonly db: PgExecutor) {}

  async countAttempt(a: CountAttemptInput): Promise<PortalAttemptCount> {
    // The unused $1 of the login counter still needs a type: the key is the login alone there.
    const args = [a.resourceId ?? 0, a.subject, a.limit, a.lockMs, a.nowMs, a.maxLockMs ?? a.lockMs];
    return toCount((await this.db.one<AttemptRow>(countAttemptSql(a.resourceId), args))!);
  }
  /** A success ends the count, unless a lock came meanwhile (a parallel try reached the limit): that lock stays. */
  async clearAttempts(resourceId: number | null, subject: string, nowMs: number): Promise<void> {
    const { t, where } = counterOf(resourceId);
    await this.db.query(
      `UPDATE ${t} SET attempts = 0, locks = 0, locked_until_ms = NULL WHERE ${where} AND $1::int IS NOT NULL AND (locked_until_ms IS NULL OR locked_until_ms <= $3::bigint)`,
      [resourceId ?? 0, subject, nowMs],
    );
  }
  async attemptsOf(resourceId: number | null, subject: string): Promise<PortalAttemptCount | null> {
    const { t, where } = counterOf(resourceId);
    const r = await this.db.one<AttemptRow>(
      `SELECT attempts, locked_until_ms, locks FROM ${t} WHERE ${where} AND $1::int IS NOT NULL`,
      [resourceId ?? 0, subject],
    );
    return r ? toCount(r) : null;
  }
  async hitRateBucket(
    bucket: string,
    windowMs: number,
    nowMs: number,
  ): Promise<{ hits: number; windowStartMs: number }> {
    const r = (await this.db.one<{ hits: number; window_ms: number }>(HIT_BUCKET, [bucket, windowMs, nowMs]))!;
    return { hits: r.hits, windowStartMs: r.window_ms };
  }
  async createSession(s: {
    idHash: string;
    resourceId: number;
    userId: number;
    nowMs: number;
    expiresMs: number;
  }): Promise<void> {
    await this.db.query(
      'INSERT INTO portal_sessions (id_hash, resource_id, user_id, created_ms, seen_ms, expires_ms) VALUES ($1, $2, $3, $4, $4, $5)',
      [s.idHash, s.resourceId, s.userId, s.nowMs, s.expiresMs],
    );
  }
  async touchSession(
    idHash: string,
    resourceId: number,
    nowMs: number,
    idleMs: number,
  ): Promise<{ userId: number } | null> {
    const r = await this.db.one<{ user_id: number }>(
      'UPDATE portal_sessions SET seen_ms = $3::bigint WHERE id_hash = $1 AND resource_id = $2 AND seen_ms > $3::bigint - $4::bigint AND expires_ms > $3::bigint RETURNING user_id',
      [idHash, resourceId, nowMs, idleMs],
    );
    return r ? { userId: r.user_id } : null;
  }
  async endSession(idHash: string): Promise<void> {
    await this.db.query('DELETE FROM portal_sessions WHERE id_hash = $1', [idHash]);
  }
  async endUserSessions(userId: number, keepIdHash?: string): Promise<number> {
    return (
      await this.db.query('DELETE FROM portal_sessions WHERE user_id = $1 AND id_hash <> $2 RETURNING 1', [
        userId,
        keepIdHash ?? '',
      ])
    ).length;
  }
  async issueEmailCode(c: {
    userId: number;
    resourceId: number;
    codeHash: string;
    nowMs: number;
    expiresMs: number;
    cooldownMs: number;
  }): Promise<boolean> {
    return (
      (await this.db.one(ISSUE_CODE, [c.userId, c.resourceId, c.codeHash, c.nowMs, c.expiresMs, c.cooldownMs])) !==
      undefined
    );
  }
  async tryEmailCode(
    userId: number,
    resourceId: number,
    nowMs: number,
    maxTries: number,
  ): Promise<{ codeHash: string } | null> {
    const r = await this.db.one<{ code_hash: string }>(
      'UPDATE portal_email_codes SET attempts = attempts + 1 WHERE user_id = $1 AND resource_id = $2 AND expires_ms > $3::bigint AND attempts < $4 RETURNING code_hash',
      [userId, resourceId, nowMs, maxTries],
    );
    return r ? { codeHash: r.code_hash } : null;
  }
  async consumeEmailCode(userId: number, resourceId: number, codeHash: string): Promise<boolean> {
    return (
      (
        await this.db.query(
          'DELETE FROM portal_email_codes WHERE user_id = $1 AND resource_id = $2 AND code_hash = $3 RETURNING 1',
          [userId, resourceId, codeHash],
        )
      ).length === 1
    );
  }
  async useTokenStep(tokenId: number, step: number): Promise<boolean> {
    const sql =
      'UPDATE tokens SET last_used_step = $2, updated_at = $3 WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2) RETURNING 1';
    return (await this.db.query(sql, [tokenId, step, new Date().toISOString()])).length === 1;
  }
  async prune(nowMs: number, opts: { idleMs: number; bucketMs: number; staleBeforeMs: number }): Promise<void> {
    await this.db.query(
      'DELETE FROM portal_sessions WHERE expires_ms <= $1::bigint OR seen_ms <= $1::bigint - $2::bigint',
      [nowMs, opts.idleMs],
    );
    await this.db.query('DELETE FROM portal_email_codes WHERE expires_ms <= $1::bigint', [nowMs]);
    await this.db.query('DELETE FROM portal_rate_buckets WHERE window_ms <= $1::bigint - $2::bigint', [
      nowMs,
      opts.bucketMs,
    ]);
    await this.db.query(
      'DELETE FROM portal_attempts WHERE touched_ms < $1::bigint AND (locked_until_ms IS NULL OR locked_until_ms <= $2::bigint)',
      [opts.staleBeforeMs, nowMs],
    );
    await this.db.query(
      'DELETE FROM portal_login_attempts WHERE touched_ms < $1::bigint AND (locked_until_ms IS NULL OR locked_until_ms <= $2::bigint)',
      [opts.staleBeforeMs, nowMs],
    );
  }
  async holdSecondFactor(userId: number, resourceId: number, nowMs: number): Promise<void> {
    await this.db.query(
      'INSERT INTO portal_second_factor (user_id, resource_id, since_ms) VALUES ($1, $2, $3::bigint) ON CONFLICT DO NOTHING',
      [userId, resourceId, nowMs],
    );
  }
  async secondFactorHeld(userId: number, resourceId: number): Promise<boolean> {
    const r = await this.db.one('SELECT 1 AS held FROM portal_second_factor WHERE user_id = $1 AND resource_id = $2', [
      userId,
      resourceId,
    ]);
    return r !== undefined && r !== null;
  }
  async dropSecondFactor(userId: number, resourceId: number | null): Promise<number> {
    const sql =
      'DELETE FROM portal_second_factor WHERE user_id = $1 AND ($2::int IS NULL OR resource_id = $2) RETURNING 1';
    return (await this.db.query(sql, [userId, resourceId])).length;
  }
  async endUserSessionsIn(userId: number, resourceId: number | null): Promise<number> {
    const sql = 'DELETE FROM portal_sessions WHERE user_id = $1 AND ($2::int IS NULL OR resource_id = $2) RETURNING 1';
    return (await this.db.query(sql, [userId, resourceId])).length;
  }
}
