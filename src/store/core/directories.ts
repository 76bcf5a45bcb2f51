/**
 * Directories (LDAP, Active Directory), written once over a Dialect. The
 * bind password is sealed like a seed: AES-GCM under the master key, bound to
 * the directory's name so a sealed value copied to another row does not open.
 */
import { DataError, NotFoundError } from '../../core/errors.js';
import type { DirectoryAccount, DirectoryLink, DirectoryRecord, DirectoryRepo, OnLeave } from '../types.js';
import { openSeed, SealBrokenError, sealSeed } from '../vault.js';
import { nowIso as now, type Dialect } from './dialect.js';
import type { Row } from './rows.js';

const binding = (name: string) => `tokensmith-directory-v1\x00${name}`;

function toDirectory(r: Row): DirectoryRecord {
  return {
    id: r.id as number,
    name: r.name as string,
    config: JSON.parse(r.config as string) as Record<string, unknown>,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

function toAccount(r: Row): DirectoryAccount {
  return {
    userId: r.user_id as number,
    directoryId: r.directory_id as number,
    dn: r.dn as string,
    disabled: Boolean(r.disabled),
    syncedAt: r.synced_at as string,
  };
}

function toLink(r: Row): DirectoryLink {
  return {
    resourceId: r.resource_id as number,
    directoryId: r.directory_id as number,
    groupDn: r.group_dn as string,
    onLeave: r.on_leave as OnLeave,
  };
}

export class SqlDirectoryRepo implements DirectoryRepo {
  constructor(
    private readonly d: Dialect,
    private readonly key: () => Buffer | Promise<Buffer>,
  ) {}

  async create(x: { name: string; config: Record<string, unknown>; bindPassword: string }): Promise<DirectoryRecord> {
    const plain = Buffer.from(x.bindPassword, 'utf8');
    const sealed = sealSeed(await this.key(), plain, binding(x.name)).toString('base64');
    plain.fill(0);
    const at = now();
    const ph = (i: number) => this.d.ph(i);
    const sql = `INSERT INTO directories (name, config, sealed_password, created_at, updated_at) VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, ${ph(5)}) RETURNING *`;
    try {
      return toDirectory(
        (await this.d.guarded(() => this.d.get(sql, [x.name, JSON.stringify(x.config), sealed, at, at])))!,
      );
    } catch (err) {
      if (this.d.uniqueViolation(err) !== undefined)
        throw new DataError(`directory '${x.name}' already exists`, { code: 'duplicate-directory' });
      throw err;
    }
  }
  async get(id: number): Promise<DirectoryRecord | null> {
    const r = await this.d.get(`SELECT * FROM directories WHERE id = ${this.d.ph(1)}`, [id]);
    return r ? toDirectory(r) : null;
  }
  async findByName(name: string): Promise<DirectoryRecord | null> {
    const r = await this.d.get(`SELECT * FROM directories WHERE name = ${this.d.ph(1)}`, [name]);
    return r ? toDirectory(r) : null;
  }
  async list(): Promise<DirectoryRecord[]> {
    return (await this.d.all(`SELECT * FROM directories ORDER BY name${this.d.byteOrder}`)).map(toDirectory);
  }
  async remove(id: number): Promise<void> {
    // Explicit deletes: SQLite honours ON DELETE CASCADE only with foreign keys on, which a caller may have switched off.
    await this.d.run(`DELETE FROM directory_links WHERE directory_id = ${this.d.ph(1)}`, [id]);
    await this.d.run(`DELETE FROM directory_accounts WHERE directory_id = ${this.d.ph(1)}`, [id]);
    if ((await this.d.run(`DELETE FROM directories WHERE id = ${this.d.ph(1)}`, [id])) === 0)
      throw new NotFoundError(`no directory with id ${id}`);
  }
  async bindPassword(dir: DirectoryRecord): Promise<string> {
    const r = await this.d.get<{ sealed_password: string }>(
      `SELECT sealed_password FROM directories WHERE id = ${this.d.ph(1)}`,
      [dir.id],
    );
    if (!r) throw new NotFoundError(`no directory '${dir.name}'`);
    const opened = openSeed(await this.key(), Buffer.from(r.sealed_password, 'base64'), binding(dir.name));
    if (!opened) throw new SealBrokenError(`directory ${dir.name}`);
    const text = opened.toString('utf8');
    opened.fill(0);
    return text;
  }
  async accountOf(userId: number): Promise<DirectoryAccount | null> {
    const r = await this.d.get(`SELECT * FROM directory_accounts WHERE user_id = ${this.d.ph(1)}`, [userId]);
    return r ? toAccount(r) : null;
  }
  async accounts(directoryId: number): Promise<DirectoryAccount[]> {
    const sql = `SELECT * FROM directory_accounts WHERE directory_id = ${this.d.ph(1)} ORDER BY user_id`;
    return (await this.d.all(sql, [directoryId])).map(toAccount);
  }
  async putAccount(a: { userId: number; directoryId: number; dn: string; disabled: boolean }): Promise<void> {
    const ph = (i: number) => this.d.ph(i);
    await this.d.run(
      `INSERT INTO directory_accounts (user_id, directory_id, dn, disabled, synced_at) VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)}, ${ph(5)})
       ON CONFLICT (user_id) DO UPDATE SET directory_id = excluded.directory_id, dn = excluded.dn, disabled = excluded.disabled, synced_at = excluded.synced_at`,
      [a.userId, a.directoryId, a.dn, this.d.bool(a.disabled), now()],
    );
  }
  async link(l: DirectoryLink): Promise<void> {
    const ph = (i: number) => this.d.ph(i);
    await this.d.run(
      `INSERT INTO directory_links (resource_id, directory_id, group_dn, on_leave) VALUES (${ph(1)}, ${ph(2)}, ${ph(3)}, ${ph(4)})
       ON CONFLICT (resource_id) DO UPDATE SET directory_id = excluded.directory_id, group_dn = excluded.group_dn, on_leave = excluded.on_leave`,
      [l.resourceId, l.directoryId, l.groupDn, l.onLeave],
    );
  }
  async linkOf(resourceId: number): Promise<DirectoryLink | null> {
    const r = await this.d.get(`SELECT * FROM directory_links WHERE resource_id = ${this.d.ph(1)}`, [resourceId]);
    return r ? toLink(r) : null;
  }
  async links(directoryId?: number): Promise<DirectoryLink[]> {
    if (directoryId === undefined)
      return (await this.d.all('SELECT * FROM directory_links ORDER BY resource_id')).map(toLink);
    const sql = `SELECT * FROM directory_links WHERE directory_id = ${this.d.ph(1)} ORDER BY resource_id`;
    return (await this.d.all(sql, [directoryId])).map(toLink);
  }
}
