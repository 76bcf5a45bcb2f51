/**
 * Batches, Resources, users, assignments and the portal's sign-in codes,
 * written once over a Dialect: the SQL is the same on SQLite and
 * PostgreSQL but for placeholders and collation. Unique violations map to
 * the same DataError / StoreConflictError codes on both.
 */
import { DataError, NotFoundError } from '../../core/errors.js';
import { assignmentConflict } from '../errors.js';
import type {
  AssignmentRecord,
  AssignmentRepo,
  BatchRecord,
  BatchRepo,
  PortalRepo,
  Repos,
  ResourceRecord,
  ResourceRepo,
  SignInCodeRecord,
  UserRecord,
  UserRepo,
} from '../types.js';
import { nowIso as now, Params, setList, type Dialect } from './dialect.js';
import { assignmentWhere, patchColumns } from './filters.js';
import { toAssignment, toBatch, toResource, toSignInCode, toUser } from './rows.js';

/** `$1, $2, ...` (or `?, ?, ...`) for n parameters. */
function placeholders(d: Dialect, n: number): string {
  return Array.from({ length: n }, (_, i) => d.ph(i + 1)).join(', ');
}

/** An UPDATE ... RETURNING * of the given columns plus updated_at, of the row with `id`. */
async function updateRow(d: Dialect, table: string, columns: [string, unknown][], id: number) {
  const p = new Params(d.ph);
  const sets = setList(p, [...columns, ['updated_at', now()]]);
  return d.get(`UPDATE ${table} SET ${sets} WHERE id = ${p.add(id)} RETURNING *`, p.values);
}

export class SqlBatchRepo implements BatchRepo {
  constructor(private readonly d: Dialect) {}
  async create(b: Parameters<BatchRepo['create']>[0]): Promise<BatchRecord> {
    const values = [b.kind, b.sourceName ?? null, b.sourceSha256 ?? null, b.format ?? null, b.operator, now()];
    return toBatch(
      (await this.d.get(
        `INSERT INTO batches (kind, source_name, source_sha256, format, operator, created_at) VALUES (${placeholders(this.d, 6)}) RETURNING *`,
        values,
      ))!,
    );
  }
  async finish(
    id: number,
    c: { imported: number; skipped: number; failed: number },
    status: BatchRecord['status'] = 'done',
  ): Promise<BatchRecord> {
    const p = new Params(this.d.ph);
    const sets = setList(p, [
      ['imported', c.imported],
      ['skipped', c.skipped],
      ['failed', c.failed],
      ['status', status],
      ['finished_at', now()],
    ]);
    const r = await this.d.get(`UPDATE batches SET ${sets} WHERE id = ${p.add(id)} RETURNING *`, p.values);
    if (!r) throw new NotFoundError(`no batch ${id}`);
    return toBatch(r);
  }
  async get(id: number): Promise<BatchRecord | null> {
    const r = await this.d.get(`SELECT * FROM batches WHERE id = ${this.d.ph(1)}`, [id]);
    return r ? toBatch(r) : null;
  }
  async findBySha256(sha256: string): Promise<BatchRecord[]> {
    return (await this.d.all(`SELECT * FROM batches WHERE source_sha256 = ${this.d.ph(1)} ORDER BY id`, [sha256])).map(
      toBatch,
    );
  }
  async list(): Promise<BatchRecord[]> {
    return (await this.d.all('SELECT * FROM batches ORDER BY id')).map(toBatch);
  }
}

const RESOURCE_COLUMNS: [keyof Parameters<ResourceRepo['update']>[1], string][] = [
  ['url', 'url'],
  ['lockAfter', 'lock_after'],
  ['window', '"window"'],
  ['syncWindow', 'sync_window'],
  ['actions', 'actions'],
  ['tokenTypes', 'token_types'],
];

export class SqlResourceRepo implements ResourceRepo {
  constructor(private readonly d: Dialect) {}
  async create(r: Parameters<ResourceRepo['create']>[0]): Promise<ResourceRecord> {
    const at = now();
    const values = [r.name, r.url ?? null, r.lockAfter ?? 5, r.window ?? 2, r.syncWindow ?? 1000, at, at];
    const sql = `INSERT INTO resources (name, url, lock_after, "window", sync_window, created_at, updated_at) VALUES (${placeholders(this.d, 7)}) RETURNING *`;
    try {
      return toResource((await this.d.guarded(() => this.d.get(sql, values)))!);
    } catch (err) {
      if (this.d.uniqueViolation(err) !== undefined)
        throw new DataError(`resource '${r.name}' already exists`, { code: 'duplicate-resource' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<ResourceRepo['update']>[1]): Promise<ResourceRecord> {
    const columns = patchColumns(p, RESOURCE_COLUMNS, (k, v) =>
      k === 'actions' || k === 'tokenTypes' ? JSON.stringify(v) : (v ?? null),
    );
    const r = await updateRow(this.d, 'resources', columns, id);
    if (!r) throw new NotFoundError(`no resource with id ${id}`);
    return toResource(r);
  }
  async get(id: number): Promise<ResourceRecord | null> {
    const r = await this.d.get(`SELECT * FROM resources WHERE id = ${this.d.ph(1)}`, [id]);
    return r ? toResource(r) : null;
  }
  async findByName(name: string): Promise<ResourceRecord | null> {
    const r = await this.d.get(`SELECT * FROM resources WHERE name = ${this.d.ph(1)}`, [name]);
    return r ? toResource(r) : null;
  }
  async list(): Promise<ResourceRecord[]> {
    return (await this.d.all(`SELECT * FROM resources ORDER BY name${this.d.byteOrder}`)).map(toResource);
  }
}

const USER_COLUMNS: [keyof Parameters<UserRepo['update']>[1], string][] = [
  ['login', 'login'],
  ['name', 'name'],
  ['email', 'email'],
  ['phone', 'phone'],
  ['passwordHash', 'password_hash'],
];

export class SqlUserRepo implements UserRepo {
  constructor(private readonly d: Dialect) {}
  async create(u: Parameters<UserRepo['create']>[0]): Promise<UserRecord> {
    const at = now();
    const values = [u.login, u.name ?? null, u.email ?? null, u.phone ?? null, u.passwordHash ?? null, at, at];
    const sql = `INSERT INTO users (login, name, email, phone, password_hash, created_at, updated_at) VALUES (${placeholders(this.d, 7)}) RETURNING *`;
    try {
      return toUser((await this.d.guarded(() => this.d.get(sql, values)))!);
    } catch (err) {
      if (this.d.uniqueViolation(err) !== undefined)
        throw new DataError(`user '${u.login}' already exists`, { code: 'duplicate-user' });
      throw err;
    }
  }
  async update(id: number, p: Parameters<UserRepo['update']>[1]): Promise<UserRecord> {
    let r;
    try {
      r = await this.d.guarded(() => updateRow(this.d, 'users', patchColumns(p, USER_COLUMNS), id));
    } catch (err) {
      if (this.d.uniqueViolation(err) !== undefined)
        throw new DataError(`login '${p.login}' is taken`, { code: 'duplicate-user' });
      throw err;
    }
    if (!r) throw new NotFoundError(`no user with id ${id}`);
    return toUser(r);
  }
  async get(id: number): Promise<UserRecord | null> {
    const r = await this.d.get(`SELECT * FROM users WHERE id = ${this.d.ph(1)}`, [id]);
    return r ? toUser(r) : null;
  }
  async findByLogin(login: string): Promise<UserRecord | null> {
    const r = await this.d.get(`SELECT * FROM users WHERE login = ${this.d.ph(1)}`, [login]);
    return r ? toUser(r) : null;
  }
  async list(filter: { resourceId?: number } = {}): Promise<UserRecord[]> {
    const o = this.d.byteOrder;
    if (filter.resourceId !== undefined) {
      const sql = `SELECT u.* FROM users u JOIN user_resources ur ON ur.user_id = u.id WHERE ur.resource_id = ${this.d.ph(1)} ORDER BY u.login${o}`;
      return (await this.d.all(sql, [filter.resourceId])).map(toUser);
    }
    return (await this.d.all(`SELECT * FROM users ORDER BY login${o}`)).map(toUser);
  }
  async delete(id: number): Promise<void> {
    // Memberships, sessions, sign-in codes and counters go with the user (ON DELETE CASCADE); assignments must be ended first.
    await this.d.run(`DELETE FROM users WHERE id = ${this.d.ph(1)}`, [id]);
  }
  async addToResource(userId: number, resourceId: number): Promise<void> {
    await this.d.run(
      `INSERT INTO user_resources (user_id, resource_id) VALUES (${placeholders(this.d, 2)}) ON CONFLICT DO NOTHING`,
      [userId, resourceId],
    );
  }
  async removeFromResource(userId: number, resourceId: number): Promise<void> {
    await this.d.run(`DELETE FROM user_resources WHERE user_id = ${this.d.ph(1)} AND resource_id = ${this.d.ph(2)}`, [
      userId,
      resourceId,
    ]);
  }
  async isInResource(userId: number, resourceId: number): Promise<boolean> {
    return (
      (await this.d.get(
        `SELECT 1 AS x FROM user_resources WHERE user_id = ${this.d.ph(1)} AND resource_id = ${this.d.ph(2)}`,
        [userId, resourceId],
      )) !== undefined
    );
  }
  async resourcesOf(userId: number): Promise<ResourceRecord[]> {
    const sql = `SELECT r.* FROM resources r JOIN user_resources ur ON ur.resource_id = r.id WHERE ur.user_id = ${this.d.ph(1)} ORDER BY r.name${this.d.byteOrder}`;
    return (await this.d.all(sql, [userId])).map(toResource);
  }
}

export class SqlAssignmentRepo implements AssignmentRepo {
  constructor(private readonly d: Dialect) {}
  async create(a: { tokenId: number; userId: number; resourceId: number }): Promise<AssignmentRecord> {
    const sql = `INSERT INTO assignments (token_id, user_id, resource_id, created_at) VALUES (${placeholders(this.d, 4)}) RETURNING *`;
    try {
      return toAssignment((await this.d.guarded(() => this.d.get(sql, [a.tokenId, a.userId, a.resourceId, now()])))!);
    } catch (err) {
      // Another station may have committed the same token or user a moment ago: the unique constraints decide.
      if (this.d.uniqueViolation(err) !== undefined) throw assignmentConflict(err);
      throw err;
    }
  }
  async markEnrolled(id: number, at: string | null): Promise<void> {
    await this.d.run(`UPDATE assignments SET enrolled_at = ${this.d.ph(1)} WHERE id = ${this.d.ph(2)}`, [at, id]);
  }
  async delete(id: number): Promise<void> {
    await this.d.run(`DELETE FROM assignments WHERE id = ${this.d.ph(1)}`, [id]);
  }
  async byToken(tokenId: number): Promise<AssignmentRecord | null> {
    const r = await this.d.get(`SELECT * FROM assignments WHERE token_id = ${this.d.ph(1)}`, [tokenId]);
    return r ? toAssignment(r) : null;
  }
  async byUserResource(userId: number, resourceId: number): Promise<AssignmentRecord | null> {
    const r = await this.d.get(
      `SELECT * FROM assignments WHERE user_id = ${this.d.ph(1)} AND resource_id = ${this.d.ph(2)}`,
      [userId, resourceId],
    );
    return r ? toAssignment(r) : null;
  }
  async list(filter: { resourceId?: number; userId?: number } = {}): Promise<AssignmentRecord[]> {
    const p = new Params(this.d.ph);
    const where = assignmentWhere(filter, p);
    return (await this.d.all(`SELECT * FROM assignments ${where} ORDER BY id`, p.values)).map(toAssignment);
  }
}

type SignInCodes = Pick<
  PortalRepo,
  'addSignInCode' | 'latestSignInCode' | 'updateSignInCode' | 'signInFailures' | 'setSignInFailures'
>;

/** The portal's sign-in codes and failure counts (the rest of PortalRepo is each dialect's portal state). */
export class SqlSignInCodes implements SignInCodes {
  constructor(private readonly d: Dialect) {}
  async addSignInCode(c: {
    userId: number;
    resourceId: number;
    codeHash: string;
    expiresAt: string;
  }): Promise<SignInCodeRecord> {
    const sql = `INSERT INTO portal_signin_codes (user_id, resource_id, code_hash, expires_at, created_at) VALUES (${placeholders(this.d, 5)}) RETURNING *`;
    return toSignInCode((await this.d.get(sql, [c.userId, c.resourceId, c.codeHash, c.expiresAt, now()]))!);
  }
  async latestSignInCode(userId: number, resourceId: number): Promise<SignInCodeRecord | null> {
    const sql = `SELECT * FROM portal_signin_codes WHERE user_id = ${this.d.ph(1)} AND resource_id = ${this.d.ph(2)} AND used_at IS NULL ORDER BY id DESC LIMIT 1`;
    const r = await this.d.get(sql, [userId, resourceId]);
    return r ? toSignInCode(r) : null;
  }
  async updateSignInCode(id: number, patch: { usedAt?: string | null; attempts?: number }): Promise<void> {
    const [a, b] = [this.d.ph(1), this.d.ph(2)];
    if ('usedAt' in patch)
      await this.d.run(`UPDATE portal_signin_codes SET used_at = ${a} WHERE id = ${b}`, [patch.usedAt ?? null, id]);
    if (patch.attempts !== undefined)
      await this.d.run(`UPDATE portal_signin_codes SET attempts = ${a} WHERE id = ${b}`, [patch.attempts, id]);
  }
  async signInFailures(userId: number, resourceId: number): Promise<{ failed: number; lockedUntil: string | null }> {
    const sql = `SELECT failed, locked_until FROM portal_signin_failures WHERE user_id = ${this.d.ph(1)} AND resource_id = ${this.d.ph(2)}`;
    const r = await this.d.get<{ failed: number; locked_until: string | null }>(sql, [userId, resourceId]);
    return { failed: r?.failed ?? 0, lockedUntil: r?.locked_until ?? null };
  }
  async setSignInFailures(
    userId: number,
    resourceId: number,
    failed: number,
    lockedUntil: string | null,
  ): Promise<void> {
    await this.d.run(
      `INSERT INTO portal_signin_failures (user_id, resource_id, failed, locked_until) VALUES (${placeholders(this.d, 4)})
       ON CONFLICT (user_id, resource_id) DO UPDATE SET failed = excluded.failed, locked_until = excluded.locked_until`,
      [userId, resourceId, failed, lockedUntil],
    );
  }
}

/** A PortalRepo from a dialect's portal state and the shared sign-in codes. */
export function portalRepo(state: Omit<PortalRepo, keyof SignInCodes>, codes: SqlSignInCodes): PortalRepo {
  const bound = Object.fromEntries(
    (['addSignInCode', 'latestSignInCode', 'updateSignInCode', 'signInFailures', 'setSignInFailures'] as const).map(
      (m) => [m, codes[m].bind(codes)],
    ),
  ) as SignInCodes;
  return Object.assign(state, bound);
}

/** The meta key/value table. */
export function metaRepo(d: Dialect): Repos['meta'] {
  return {
    get: async (key) =>
      (await d.get<{ value: string }>(`SELECT value FROM meta WHERE key = ${d.ph(1)}`, [key]))?.value ?? null,
    set: async (key, value) => {
      await d.run(
        `INSERT INTO meta (key, value) VALUES (${d.ph(1)}, ${d.ph(2)}) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
        [key, value],
      );
    },
  };
}
