/**
 * The portal's shared state on SQLite (migration 7): sessions, attempt
 * counters, rate-limit buckets and the one live emailed code per user. Each
 * method is one statement that reads and writes together (upsert or UPDATE
 * with RETURNING), so parallel requests never count from a stale read.
 */
import type Database from 'better-sqlite3';
import type { PortalAttemptCount, PortalStateRepo } from '../types.js';

type AttemptRow = { attempts: number; locked_until_ms: number | null };

const COUNT_ATTEMPT = `
INSERT INTO portal_attempts (resource_id, subject, attempts, locked_until_ms, touched_ms)
VALUES (@resourceId, @subject, 1, CASE WHEN 1 >= @limit THEN @nowMs + @lockMs ELSE NULL END, @nowMs)
ON CONFLICT (resource_id, subject) DO UPDATE SET
  attempts = CASE WHEN portal_attempts.locked_until_ms <= @nowMs THEN 1 ELSE portal_attempts.attempts + 1 END,
  locked_until_ms = CASE
    WHEN portal_attempts.locked_until_ms > @nowMs THEN portal_attempts.locked_until_ms
    WHEN (CASE WHEN portal_attempts.locked_until_ms <= @nowMs THEN 1 ELSE portal_attempts.attempts + 1 END) >= @limit THEN @nowMs + @lockMs
    ELSE NULL END,
  touched_ms = @nowMs
RETURNING attempts, locked_until_ms`;

const HIT_BUCKET = `
INSERT INTO portal_rate_buckets (bucket, window_ms, hits) VALUES (@bucket, @nowMs, 1)
ON CONFLICT (bucket) DO UPDATE SET
  hits = CASE WHEN portal_rate_buckets.window_ms <= @nowMs - @windowMs THEN 1 ELSE portal_rate_buckets.hits + 1 END,
  window_ms = CASE WHEN portal_rate_buckets.window_ms <= @nowMs - @windowMs THEN @nowMs ELSE portal_rate_buckets.window_ms END
RETURNING hits, window_ms`;

const ISSUE_CODE = `
INSERT INTO portal_email_codes (user_id, resource_id, code_hash, sent_ms, expires_ms, attempts)
VALUES (@userId, @resourceId, @codeHash, @nowMs, @expiresMs, 0)
ON CONFLICT (user_id, resource_id) DO UPDATE SET
  code_hash = excluded.code_hash, sent_ms = excluded.sent_ms, expires_ms = excluded.expires_ms, attempts = 0
WHERE portal_email_codes.sent_ms <= @nowMs - @cooldownMs OR portal_email_codes.expires_ms <= @nowMs
RETURNING user_id`;

const toCount = (r: AttemptRow): PortalAttemptCount => ({
  attempts: r.attempts,
  lockedUntilMs: r.locked_until_ms ?? null,
});

export class SqlitePortalState implements PortalStateRepo {
  private readonly stmts = new Map<string, Database.Statement>();
  constructor(protected readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  async countAttempt(a: {
    resourceId: number;
    subject: string;
    limit: number;
    lockMs: number;
    nowMs: number;
  }): Promise<PortalAttemptCount> {
    return toCount(this.stmt(COUNT_ATTEMPT).get(a) as AttemptRow);
  }
  async clearAttempts(resourceId: number, subject: string): Promise<void> {
    this.stmt(
      'UPDATE portal_attempts SET attempts = 0, locked_until_ms = NULL WHERE resource_id = ? AND subject = ?',
    ).run(resourceId, subject);
  }
  async attemptsOf(resourceId: number, subject: string): Promise<PortalAttemptCount | null> {
    const r = this.stmt(
      'SELECT attempts, locked_until_ms FROM portal_attempts WHERE resource_id = ? AND subject = ?',
    ).get(resourceId, subject) as AttemptRow | undefined;
    return r ? toCount(r) : null;
  }
  async hitRateBucket(
    bucket: string,
    windowMs: number,
    nowMs: number,
  ): Promise<{ hits: number; windowStartMs: number }> {
    const r = this.stmt(HIT_BUCKET).get({ bucket, windowMs, nowMs }) as { hits: number; window_ms: number };
    return { hits: r.hits, windowStartMs: r.window_ms };
  }
  async createSession(s: {
    idHash: string;
    resourceId: number;
    userId: number;
    nowMs: number;
    expiresMs: number;
  }): Promise<void> {
    this.stmt(
      'INSERT INTO portal_sessions (id_hash, resource_id, user_id, created_ms, seen_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(s.idHash, s.resourceId, s.userId, s.nowMs, s.nowMs, s.expiresMs);
  }
  async touchSession(
    idHash: string,
    resourceId: number,
    nowMs: number,
    idleMs: number,
  ): Promise<{ userId: number } | null> {
    const r = this.stmt(
      'UPDATE portal_sessions SET seen_ms = @nowMs WHERE id_hash = @idHash AND resource_id = @resourceId AND seen_ms > @nowMs - @idleMs AND expires_ms > @nowMs RETURNING user_id',
    ).get({ idHash, resourceId, nowMs, idleMs }) as { user_id: number } | undefined;
    return r ? { userId: r.user_id } : null;
  }
  async endSession(idHash: string): Promise<void> {
    this.stmt('DELETE FROM portal_sessions WHERE id_hash = ?').run(idHash);
  }
  async endUserSessions(userId: number, keepIdHash?: string): Promise<number> {
    return this.stmt('DELETE FROM portal_sessions WHERE user_id = ? AND id_hash <> ?').run(userId, keepIdHash ?? '')
      .changes;
  }
  async issueEmailCode(c: {
    userId: number;
    resourceId: number;
    codeHash: string;
    nowMs: number;
    expiresMs: number;
    cooldownMs: number;
  }): Promise<boolean> {
    return this.stmt(ISSUE_CODE).get(c) !== undefined;
  }
  async tryEmailCode(
    userId: number,
    resourceId: number,
    nowMs: number,
    maxTries: number,
  ): Promise<{ codeHash: string } | null> {
    const r = this.stmt(
      'UPDATE portal_email_codes SET attempts = attempts + 1 WHERE user_id = ? AND resource_id = ? AND expires_ms > ? AND attempts < ? RETURNING code_hash',
    ).get(userId, resourceId, nowMs, maxTries) as { code_hash: string } | undefined;
    return r ? { codeHash: r.code_hash } : null;
  }
  async consumeEmailCode(userId: number, resourceId: number, codeHash: string): Promise<boolean> {
    return (
      this.stmt('DELETE FROM portal_email_codes WHERE user_id = ? AND resource_id = ? AND code_hash = ?').run(
        userId,
        resourceId,
        codeHash,
      ).changes === 1
    );
  }
  async useTokenStep(tokenId: number, step: number): Promise<boolean> {
    const sql =
      'UPDATE tokens SET last_used_step = @step, updated_at = @at WHERE id = @tokenId AND (last_used_step IS NULL OR last_used_step < @step)';
    return this.stmt(sql).run({ step, tokenId, at: new Date().toISOString() }).changes === 1;
  }
  async prune(nowMs: number, opts: { idleMs: number; bucketMs: number; staleBeforeMs: number }): Promise<void> {
    this.stmt('DELETE FROM portal_sessions WHERE expires_ms <= ? OR seen_ms <= ?').run(nowMs, nowMs - opts.idleMs);
    this.stmt('DELETE FROM portal_email_codes WHERE expires_ms <= ?').run(nowMs);
    this.stmt('DELETE FROM portal_rate_buckets WHERE window_ms <= ?').run(nowMs - opts.bucketMs);
    this.stmt(
      'DELETE FROM portal_attempts WHERE touched_ms < ? AND (locked_until_ms IS NULL OR locked_until_ms <= ?)',
    ).run(opts.staleBeforeMs, nowMs);
  }
}
