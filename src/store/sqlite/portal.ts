/**
 * The portal's shared state on SQLite (migration 7): sessions, attempt
 * counters, rate-limit buckets and the one live emailed code per user. Each
 * method is one statement that reads and writes together (upsert or UPDATE
 * with RETURNING), so parallel requests never count from a stale read.
 */
import type Database from 'better-sqlite3';
import type { CountAttemptInput, PortalAttemptCount, PortalStateRepo } from '../types.js';

type AttemptRow = { attempts: number; locked_until_ms: number | null; locks: number };

/** The counter's table and key: one Resource's (portal_attempts) or the login's in every Resource (resourceId null). */
const counterOf = (resourceId: number | null) =>
  resourceId === null
    ? { t: 'portal_login_attempts', keys: 'subject', values: '@subject' }
    : { t: 'portal_attempts', keys: 'resource_id, subject', values: '@resourceId, @subject' };

/** Counts one try; the count that reaches the limit locks for lockMs, doubled for each lock before it, at most maxLockMs. */
function countAttemptSql(resourceId: number | null): string {
  const { t, keys, values } = counterOf(resourceId);
  const next = `(CASE WHEN ${t}.locked_until_ms <= @nowMs THEN 1 ELSE ${t}.attempts + 1 END)`;
  return `
INSERT INTO ${t} (${keys}, attempts, locked_until_ms, locks, touched_ms)
VALUES (${values}, 1, CASE WHEN 1 >= @limit THEN @nowMs + @lockMs ELSE NULL END, CASE WHEN 1 >= @limit THEN 1 ELSE 0 END, @nowMs)
ON CONFLICT (${keys}) DO UPDATE SET
  attempts = ${next},
  locked_until_ms = CASE
    WHEN ${t}.locked_until_ms > @nowMs THEN ${t}.locked_until_ms
    WHEN ${next} >= @limit THEN @nowMs + MIN(@lockMs << MIN(${t}.locks, 20), @maxLockMs)
    ELSE NULL END,
  locks = CASE WHEN ${t}.locked_until_ms > @nowMs THEN ${t}.locks WHEN ${next} >= @limit THEN ${t}.locks + 1 ELSE ${t}.locks END,
  touched_ms = @nowMs
RETURNING attempts, locked_until_ms, locks`;
}

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
  locks: r.locks,
});

export class SqlitePortalState implements PortalStateRepo {
  private readonly stmts = new Map<string, Database.Statement>();
  constructor(protected readonly db: Database.Database) {}

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) this.stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  async countAttempt(a: CountAttemptInput): Promise<PortalAttemptCount> {
    const params = { ...a, maxLockMs: a.maxLockMs ?? a.lockMs };
    return toCount(this.stmt(countAttemptSql(a.resourceId)).get(params) as AttemptRow);
  }
  /** A success ends the count, unless a lock came meanwhile (a parallel try reached the limit): that lock stays. */
  async clearAttempts(resourceId: number | null, subject: string, nowMs: number): Promise<void> {
    const { t, keys, values } = counterOf(resourceId);
    this.stmt(
      `UPDATE ${t} SET attempts = 0, locks = 0, locked_until_ms = NULL WHERE (${keys}) = (${values}) AND (locked_until_ms IS NULL OR locked_until_ms <= @nowMs)`,
    ).run({ resourceId, subject, nowMs });
  }
  async attemptsOf(resourceId: number | null, subject: string): Promise<PortalAttemptCount | null> {
    const { t, keys, values } = counterOf(resourceId);
    const r = this.stmt(`SELECT attempts, locked_until_ms, locks FROM ${t} WHERE (${keys}) = (${values})`).get({
      resourceId,
      subject,
    }) as AttemptRow | undefined;
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
    this.stmt(
      'DELETE FROM portal_login_attempts WHERE touched_ms < ? AND (locked_until_ms IS NULL OR locked_until_ms <= ?)',
    ).run(opts.staleBeforeMs, nowMs);
  }
  async holdSecondFactor(userId: number, resourceId: number, nowMs: number): Promise<void> {
    this.stmt(
      'INSERT INTO portal_second_factor (user_id, resource_id, since_ms) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(userId, resourceId, nowMs);
  }
  async secondFactorHeld(userId: number, resourceId: number): Promise<boolean> {
    return (
      this.stmt('SELECT 1 FROM portal_second_factor WHERE user_id = ? AND resource_id = ?').get(userId, resourceId) !==
      undefined
    );
  }
  async dropSecondFactor(userId: number, resourceId: number | null): Promise<number> {
    return this.stmt('DELETE FROM portal_second_factor WHERE user_id = ? AND (? IS NULL OR resource_id = ?)').run(
      userId,
      resourceId,
      resourceId,
    ).changes;
  }
  async endUserSessionsIn(userId: number, resourceId: number | null): Promise<number> {
    return this.stmt('DELETE FROM portal_sessions WHERE user_id = ? AND (? IS NULL OR resource_id = ?)').run(
      userId,
      resourceId,
      resourceId,
    ).changes;
  }
}
