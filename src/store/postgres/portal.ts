/**
 * The portal's shared state on PostgreSQL (migration 7): the twin of
 * sqlite/portal.ts. Each method is one statement (upsert or UPDATE with
 * RETURNING): PostgreSQL holds the row while it counts, so portal processes
 * on one database count every try once, whatever the interleaving.
 */
import type { PortalAttemptCount, PortalStateRepo } from '../types.js';
import type { PgExecutor } from './db.js';

type AttemptRow = { attempts: number; locked_until_ms: number | null };

// $1 resource, $2 subject, $3 limit, $4 lock ms, $5 now ms
const COUNT_ATTEMPT = `
INSERT INTO portal_attempts (resource_id, subject, attempts, locked_until_ms, touched_ms)
VALUES ($1, $2, 1, CASE WHEN 1 >= $3::int THEN $5::bigint + $4::bigint ELSE NULL END, $5::bigint)
ON CONFLICT (resource_id, subject) DO UPDATE SET
  attempts = CASE WHEN portal_attempts.locked_until_ms <= $5::bigint THEN 1 ELSE portal_attempts.attempts + 1 END,
  locked_until_ms = CASE
    WHEN portal_attempts.locked_until_ms > $5::bigint THEN portal_attempts.locked_until_ms
    WHEN (CASE WHEN portal_attempts.locked_until_ms <= $5::bigint THEN 1 ELSE portal_attempts.attempts + 1 END) >= $3::int THEN $5::bigint + $4::bigint
    ELSE NULL END,
  touched_ms = $5::bigint
RETURNING attempts, locked_until_ms`;

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
});

export class PgPortalState implements PortalStateRepo {
  constructor(protected readonly db: PgExecutor) {}

  async countAttempt(a: {
    resourceId: number;
    subject: string;
    limit: number;
    lockMs: number;
    nowMs: number;
  }): Promise<PortalAttemptCount> {
    return toCount(
      (await this.db.one<AttemptRow>(COUNT_ATTEMPT, [a.resourceId, a.subject, a.limit, a.lockMs, a.nowMs]))!,
    );
  }
  async clearAttempts(resourceId: number, subject: string): Promise<void> {
    await this.db.query(
      'UPDATE portal_attempts SET attempts = 0, locked_until_ms = NULL WHERE resource_id = $1 AND subject = $2',
      [resourceId, subject],
    );
  }
  async attemptsOf(resourceId: number, subject: string): Promise<PortalAttemptCount | null> {
    const r = await this.db.one<AttemptRow>(
      'SELECT attempts, locked_until_ms FROM portal_attempts WHERE resource_id = $1 AND subject = $2',
      [resourceId, subject],
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
  }
}
