/**
 * The token reads both dialects share: listings, paging, counting and
 * opening seeds. Each dialect's token repository extends this with its
 * writes (bulk insert, row locks, constraint names differ).
 */
import { DataError, NotFoundError } from '../../core/errors.js';
import type {
  AssignmentRecord,
  InventoryFilter,
  InventoryRow,
  TokenFilter,
  TokenRecord,
  TokenWithSeed,
} from '../types.js';
import { openSeed, seedBinding, SealBrokenError } from '../vault.js';
import { Params, type Dialect } from './dialect.js';
import { tokenWhere } from './filters.js';
import { inventoryQuery } from './inventory.js';
import { toToken, type Row } from './rows.js';

const PAGE = 1000;

/** The assignment columns (a_*) joined to a token row, or null when the token has none. */
function joinedAssignment(r: Row, tokenId: number): AssignmentRecord | null {
  if (r.a_id == null) return null;
  return {
    id: r.a_id as number,
    tokenId,
    userId: r.a_user_id as number,
    resourceId: r.a_resource_id as number,
    createdAt: r.a_created_at as string,
    enrolledAt: (r.a_enrolled_at as string | null) ?? null,
  };
}

function inventoryRow(r: Row): InventoryRow {
  return {
    token: toToken(r),
    resource: (r.inventory_resource as string | null) ?? null,
    user: (r.inventory_user as string | null) ?? null,
    assignedAt: (r.inventory_assigned_at as string | null) ?? null,
    enrolledAt: (r.inventory_enrolled_at as string | null) ?? null,
  };
}

export abstract class SqlTokenReads {
  constructor(
    protected readonly d: Dialect,
    protected readonly key: () => Buffer | Promise<Buffer>,
  ) {}

  async inventory(filter: InventoryFilter = {}): Promise<InventoryRow[]> {
    const q = inventoryQuery(filter, this.d.ph);
    return (await this.d.all(q.sql, q.params)).map(inventoryRow);
  }

  async *iterateInventory(filter: InventoryFilter = {}): AsyncIterable<InventoryRow> {
    // Keyset pages: each page is its own short statement, so no cursor stays open while the caller writes.
    const q = inventoryQuery(filter, this.d.ph, { afterId: 0, limit: PAGE });
    for (;;) {
      const rows = await this.d.all(q.sql, q.params);
      if (rows.length === 0) return;
      for (const r of rows) yield inventoryRow(r);
      q.params[q.params.length - 1] = rows[rows.length - 1]!.id as number;
    }
  }

  async list(filter: TokenFilter = {}): Promise<TokenRecord[]> {
    const p = new Params(this.d.ph);
    const where = tokenWhere(filter, p, this.d);
    return (await this.d.all(`SELECT * FROM tokens ${where} ORDER BY id`, p.values)).map(toToken);
  }

  async count(filter: TokenFilter = {}): Promise<number> {
    const p = new Params(this.d.ph);
    const where = tokenWhere(filter, p, this.d);
    return Number((await this.d.get<{ n: number }>(`SELECT COUNT(*) AS n FROM tokens ${where}`, p.values))!.n);
  }

  /** Pages of a filter by id, so no statement stays open across awaits; `select` wraps the page query. */
  private async *pages(filter: TokenFilter, select: (pageSql: string) => string): AsyncIterable<Row[]> {
    const p = new Params(this.d.ph);
    const where = tokenWhere(filter, p, this.d);
    const idAfter = p.add(0);
    const sql = select(
      `SELECT * FROM tokens ${where ? `${where} AND` : 'WHERE'} id > ${idAfter} ORDER BY id LIMIT ${PAGE}`,
    );
    const params = p.values;
    for (;;) {
      const rows = await this.d.all(sql, params);
      if (rows.length === 0) return;
      yield rows;
      params[params.length - 1] = rows[rows.length - 1]!.id as number;
    }
  }

  async *iterate(filter: TokenFilter = {}): AsyncIterable<TokenRecord> {
    for await (const rows of this.pages(filter, (page) => page)) for (const r of rows) yield toToken(r);
  }

  async openSeed(t: TokenRecord): Promise<Buffer> {
    const r = await this.d.get<{ sealed_seed: Buffer | null }>(
      `SELECT sealed_seed FROM tokens WHERE id = ${this.d.ph(1)}`,
      [t.id],
    );
    if (!r) throw new NotFoundError(`no token with id ${t.id}`);
    if (!r.sealed_seed)
      throw new DataError(`token ${t.serial} has no seed in the store`, { code: 'no-seed', where: t.serial });
    const seed = openSeed(await this.key(), r.sealed_seed, seedBinding(t));
    if (!seed) throw new SealBrokenError(`token ${t.serial}`);
    return seed;
  }

  async *iterateWithSeeds(filter: TokenFilter = {}): AsyncIterable<TokenWithSeed> {
    // The filter names the tokens table's columns: page in a subquery, then join the assignment.
    const withAssignment = (
      page: string,
    ) => `SELECT t.*, a.id AS a_id, a.user_id AS a_user_id, a.resource_id AS a_resource_id, a.created_at AS a_created_at,
      a.enrolled_at AS a_enrolled_at FROM (${page}) t LEFT JOIN assignments a ON a.token_id = t.id ORDER BY t.id`;
    for await (const rows of this.pages(filter, withAssignment)) {
      const key = rows.some((r) => r.sealed_seed) ? await this.key() : null;
      for (const r of rows) {
        const token = toToken(r);
        let seed: Buffer | null = null;
        if (r.sealed_seed && key) {
          seed = openSeed(key, r.sealed_seed as Buffer, seedBinding(token));
          if (!seed) throw new SealBrokenError(`token ${token.serial}`);
        }
        yield { token, seed, assignment: joinedAssignment(r, token.id) };
      }
    }
  }

  async delete(id: number): Promise<void> {
    await this.d.run(`DELETE FROM tokens WHERE id = ${this.d.ph(1)}`, [id]);
  }
}
