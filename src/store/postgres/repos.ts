/**
 * Batches, Resources, users, assignments, the portal's sign-in state and the
 * audit log on PostgreSQL. Constraint errors map to the same DataError /
 * StoreConflictError codes as on SQLite; the audit append is serialised across
 * stations with a transaction-scoped advisory lock.
 */
import { toAssignment, toBatch, toResource, toSignInCode, toUser } from '../core/rows.js';
import { DataError, NotFoundError } from '../../core/errors.js';
import { assignmentConflict } from '../errors.js';
import type {
  AssignmentRecord,
  AssignmentRepo,
  BatchRecord,
  BatchRepo,
  PortalRepo,
  ResourceRecord,
  ResourceRepo,
  SignInCodeRecord,
  UserRecord,
  UserRepo,
} from '../types.js';
import { uniqueViolation, type PgExecutor, type Row } from './db.js';
import { PgPortalState } from './portal.js';

const now = () => new Date().toISOString();


function setClause<P extends object>(p: P, cols: [keyof P, string][], encode: (k: keyof P, v: unknown) => unknown = (_k, v) => v ?? null) {
  const sets: string[] = [];
  const params: unknown[] = [];
  for (const [k, col] of cols) {
    if (!(k in p)) continue;
    params.push(encode(k, p[k]));
    sets.push(`${col} = $${params.length}`);
  }
  params.push(now());
  sets.push(`updated_at = $${params.length}`);
  return { sets, params };
}

export class PgBatchRepo implements BatchRepo {
  constructor(private readonly db: PgExecutor) {}
  async create(b: Parameters<BatchRepo['create']>[0]): Promise<BatchRecord> {
    const r = await this.db.one(
      'INSERT INTO batches (kind, source_name, source_sha256, format, operator, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [b.kind, b.sourceName ?? null, b.sourceSha256 ?? null, b.format ?? null, b.operator, now()],
    );
    return toBatch(r!);
  }
  async finish(id: number, c: { imported: number; skipped: number; failed: number }, status: BatchRecord['status'] = 'done'): Promise<BatchRecord> {
    const r = await this.db.one('UPDATE batches SET imported = $1, skipped = $2, failed = $3, status = $4, finished_at = $5 WHERE id = $6 RETURNING *', [
      c.imported,
      c.skipped,
      c.failed,
      status,
      now(),
      id,
    ]);
    if (!r) throw new NotFoundError(`no batch ${id}`);
    return toBatch(r);
  }
  async get(id: number): Promise<BatchRecord | null> {
    const r = await this.db.one('SELECT * FROM batches WHERE id = $1', [id]);
    return r ? toBatch(r) : null;
  }
  async findBySha256(sha256: string): Promise<BatchRecord[]> {
    return (await this.db.query('SELECT * FROM batches WHERE source_sha256 = $1 ORDER BY id', [sha256])).map(toBatch);
  }
  async list(): Promise<BatchRecord[]> {
    return (await this.db.query('SELECT * FROM batches ORDER BY id')).map(toBatch);
  }
}

export class PgResourceRepo implements ResourceRepo {
  constructor(private readonly db: PgExecutor) {}
  async create(r: Parameters<ResourceRepo['create']>[0]): Promise<ResourceRecord> {
    const at = now();
    try {
      const row = await this.db.guarded(() =>
        this.db.one('INSERT INTO resources (name, url, lock_after, "window", sync_window, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *', [
          r.name,
          r.url ?? null,
          r.lockAfter ?? 5,
          r.window ?? 2,
          r.syncWindow ?? 1000,
          at,
          at,
        ]),
      );
      return toResource(row!);
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new DataError(`resource '${r.name}' already exists`, { code: 'duplicate-resource' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<ResourceRepo['update']>[1]): Promise<ResourceRecord> {
    const { sets, params } = setClause(
      p,
      [
        ['url', 'url'],
        ['lockAfter', 'lock_after'],
        ['window', '"window"'],
        ['syncWindow', 'sync_window'],
        ['actions', 'actions'],
        ['tokenTypes', 'token_types'],
      ],
      (k, v) => (k === 'actions' || k === 'tokenTypes' ? JSON.stringify(v) : (v ?? null)),
    );
    params.push(id);
    const r = await this.db.one(`UPDATE resources SET ${sets.join(', ')} WHERE id = $${params.length} RETURNING *`, params);
    if (!r) throw new NotFoundError(`no resource with id ${id}`);
    return toResource(r);
  }
  async get(id: number): Promise<ResourceRecord | null> {
    const r = await this.db.one('SELECT * FROM resources WHERE id = $1', [id]);
    return r ? toResource(r) : null;
  }
  async findByName(name: string): Promise<ResourceRecord | null> {
    const r = await this.db.one('SELECT * FROM resources WHERE name = $1', [name]);
    return r ? toResource(r) : null;
  }
  async list(): Promise<ResourceRecord[]> {
    return (await this.db.query('SELECT * FROM resources ORDER BY name COLLATE "C"')).map(toResource);
  }
}

export class PgUserRepo implements UserRepo {
  constructor(private readonly db: PgExecutor) {}
  async create(u: Parameters<UserRepo['create']>[0]): Promise<UserRecord> {
    const at = now();
    try {
      const r = await this.db.guarded(() =>
        this.db.one('INSERT INTO users (login, name, email, phone, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *', [
          u.login,
          u.name ?? null,
          u.email ?? null,
          u.phone ?? null,
          u.passwordHash ?? null,
          at,
          at,
        ]),
      );
      return toUser(r!);
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new DataError(`user '${u.login}' already exists`, { code: 'duplicate-user' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<UserRepo['update']>[1]): Promise<UserRecord> {
    const { sets, params } = setClause(p, [
      ['login', 'login'],
      ['name', 'name'],
      ['email', 'email'],
      ['phone', 'phone'],
      ['passwordHash', 'password_hash'],
    ]);
    params.push(id);
    let r: Row | undefined;
    try {
      r = await this.db.guarded(() => this.db.one(`UPDATE users SET ${sets.join(', ')} WHERE id = $${params.length} RETURNING *`, params));
    } catch (err) {
      if (uniqueViolation(err) !== undefined) throw new DataError(`login '${p.login}' is taken`, { code: 'duplicate-user' });
      throw err;
    }
    if (!r) throw new NotFoundError(`no user with id ${id}`);
    return toUser(r);
  }
  async get(id: number): Promise<UserRecord | null> {
    const r = await this.db.one('SELECT * FROM users WHERE id = $1', [id]);
    return r ? toUser(r) : null;
  }
  async findByLogin(login: string): Promise<UserRecord | null> {
    const r = await this.db.one('SELECT * FROM users WHERE login = $1', [login]);
    return r ? toUser(r) : null;
  }
  async list(filter: { resourceId?: number } = {}): Promise<UserRecord[]> {
    if (filter.resourceId !== undefined) {
      return (await this.db.query('SELECT u.* FROM users u JOIN user_resources ur ON ur.user_id = u.id WHERE ur.resource_id = $1 ORDER BY u.login COLLATE "C"', [filter.resourceId])).map(
        toUser,
      );
    }
    return (await this.db.query('SELECT * FROM users ORDER BY login COLLATE "C"')).map(toUser);
  }
  async addToResource(userId: number, resourceId: number): Promise<void> {
    await this.db.query('INSERT INTO user_resources (user_id, resource_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [userId, resourceId]);
  }
  async removeFromResource(userId: number, resourceId: number): Promise<void> {
    await this.db.query('DELETE FROM user_resources WHERE user_id = $1 AND resource_id = $2', [userId, resourceId]);
  }
  async isInResource(userId: number, resourceId: number): Promise<boolean> {
    return (await this.db.one('SELECT 1 AS x FROM user_resources WHERE user_id = $1 AND resource_id = $2', [userId, resourceId])) !== undefined;
  }
  async resourcesOf(userId: number): Promise<ResourceRecord[]> {
    return (
      await this.db.query('SELECT r.* FROM resources r JOIN user_resources ur ON ur.resource_id = r.id WHERE ur.user_id = $1 ORDER BY r.name COLLATE "C"', [userId])
    ).map(toResource);
  }
}

export class PgAssignmentRepo implements AssignmentRepo {
  constructor(private readonly db: PgExecutor) {}
  async create(a: { tokenId: number; userId: number; resourceId: number }): Promise<AssignmentRecord> {
    try {
      const r = await this.db.guarded(() =>
        this.db.one('INSERT INTO assignments (token_id, user_id, resource_id, created_at) VALUES ($1, $2, $3, $4) RETURNING *', [a.tokenId, a.userId, a.resourceId, now()]),
      );
      return toAssignment(r!);
    } catch (err) {
      // Another station may have committed the same token or user a moment ago: the unique constraints decide, as on SQLite.
      if (uniqueViolation(err) !== undefined) {
        throw assignmentConflict(err);
      }
      throw err;
    }
  }
  async markEnrolled(id: number, at: string | null): Promise<void> {
    await this.db.query('UPDATE assignments SET enrolled_at = $1 WHERE id = $2', [at, id]);
  }
  async delete(id: number): Promise<void> {
    await this.db.query('DELETE FROM assignments WHERE id = $1', [id]);
  }
  async byToken(tokenId: number): Promise<AssignmentRecord | null> {
    const r = await this.db.one('SELECT * FROM assignments WHERE token_id = $1', [tokenId]);
    return r ? toAssignment(r) : null;
  }
  async byUserResource(userId: number, resourceId: number): Promise<AssignmentRecord | null> {
    const r = await this.db.one('SELECT * FROM assignments WHERE user_id = $1 AND resource_id = $2', [userId, resourceId]);
    return r ? toAssignment(r) : null;
  }
  async list(filter: { resourceId?: number; userId?: number } = {}): Promise<AssignmentRecord[]> {
    const parts: string[] = [];
    const params: unknown[] = [];
    if (filter.resourceId !== undefined) {
      params.push(filter.resourceId);
      parts.push(`resource_id = $${params.length}`);
    }
    if (filter.userId !== undefined) {
      params.push(filter.userId);
      parts.push(`user_id = $${params.length}`);
    }
    const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
    return (await this.db.query(`SELECT * FROM assignments ${where} ORDER BY id`, params)).map(toAssignment);
  }
}

export class PgPortalRepo extends PgPortalState implements PortalRepo {
  async addSignInCode(c: { userId: number; resourceId: number; codeHash: string; expiresAt: string }): Promise<SignInCodeRecord> {
    const r = await this.db.one('INSERT INTO portal_signin_codes (user_id, resource_id, code_hash, expires_at, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *', [
      c.userId,
      c.resourceId,
      c.codeHash,
      c.expiresAt,
      now(),
    ]);
    return toSignInCode(r!);
  }
  async latestSignInCode(userId: number, resourceId: number): Promise<SignInCodeRecord | null> {
    const r = await this.db.one('SELECT * FROM portal_signin_codes WHERE user_id = $1 AND resource_id = $2 AND used_at IS NULL ORDER BY id DESC LIMIT 1', [userId, resourceId]);
    return r ? toSignInCode(r) : null;
  }
  async updateSignInCode(id: number, patch: { usedAt?: string | null; attempts?: number }): Promise<void> {
    if ('usedAt' in patch) await this.db.query('UPDATE portal_signin_codes SET used_at = $1 WHERE id = $2', [patch.usedAt ?? null, id]);
    if (patch.attempts !== undefined) await this.db.query('UPDATE portal_signin_codes SET attempts = $1 WHERE id = $2', [patch.attempts, id]);
  }
  async signInFailures(userId: number, resourceId: number): Promise<{ failed: number; lockedUntil: string | null }> {
    const r = await this.db.one<{ failed: number; locked_until: string | null }>('SELECT failed, locked_until FROM portal_signin_failures WHERE user_id = $1 AND resource_id = $2', [
      userId,
      resourceId,
    ]);
    return { failed: r?.failed ?? 0, lockedUntil: r?.locked_until ?? null };
  }
  async setSignInFailures(userId: number, resourceId: number, failed: number, lockedUntil: string | null): Promise<void> {
    await this.db.query(
      'INSERT INTO portal_signin_failures (user_id, resource_id, failed, locked_until) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, resource_id) DO UPDATE SET failed = excluded.failed, locked_until = excluded.locked_until',
      [userId, resourceId, failed, lockedUntil],
    );
  }
}

