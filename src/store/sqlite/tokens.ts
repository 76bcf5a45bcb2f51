/**
 * Tokens on SQLite: the writes and lookups that differ from PostgreSQL (one
 * prepared statement per bulk row, json_extract for the uid); the reads
 * both share come from core/tokens.ts.
 */
import type Database from 'better-sqlite3';
import { DataError, NotFoundError } from '../../core/errors.js';
import { nowIso, Params, setList } from '../core/dialect.js';
import { stateChangedSet, TOKEN_INSERT_COLUMNS, tokenInsertValues, tokenPatchColumns } from '../core/filters.js';
import { toToken, type Row } from '../core/rows.js';
import { SqlTokenReads } from '../core/tokens.js';
import type { NewToken, TokenPatch, TokenRecord, TokenRepo } from '../types.js';
import { sealSeed, sealTokenSeeds, seedBinding } from '../vault.js';
import { isSqliteUnique, prep, sqliteDialect } from './db.js';

export class SqliteTokenRepo extends SqlTokenReads implements TokenRepo {
  private readonly insertStmt: Database.Statement;
  private readonly getStmt: Database.Statement;
  private insertManyStmt: Database.Statement | null = null;
  constructor(
    private readonly db: Database.Database,
    private readonly syncKey: () => Buffer,
  ) {
    super(sqliteDialect(db), syncKey);
    this.insertStmt = prep(
      db,
      `INSERT INTO tokens (${TOKEN_INSERT_COLUMNS}) VALUES (${TOKEN_INSERT_COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})`,
    );
    this.getStmt = prep(db, 'SELECT * FROM tokens WHERE id = ?');
  }

  async insert(t: NewToken): Promise<TokenRecord> {
    const manufacturer = t.manufacturer ?? '';
    const at = nowIso();
    const sealed = t.seed ? sealSeed(this.syncKey(), t.seed, seedBinding({ manufacturer, serial: t.serial })) : null;
    try {
      const info = this.insertStmt.run(...tokenInsertValues(t, sealed, at, this.d));
      return toToken(this.getStmt.get(info.lastInsertRowid) as Row);
    } catch (err) {
      if (isSqliteUnique(err)) {
        throw new DataError(`token ${t.serial}${manufacturer ? ` (${manufacturer})` : ''} is already in the store`, {
          code: 'duplicate-serial',
          where: t.serial,
        });
      }
      throw err;
    }
  }

  async insertMany(tokens: NewToken[]): Promise<{ inserted: number; existing: number[] }> {
    // One prepared statement, no read-back, positional parameters: binding an object per row costs more than the row at this scale.
    this.insertManyStmt ??= prep(
      this.db,
      `INSERT INTO tokens (${TOKEN_INSERT_COLUMNS}) VALUES (${TOKEN_INSERT_COLUMNS.split(',')
        .map(() => '?')
        .join(', ')})
      ON CONFLICT (manufacturer, serial) DO NOTHING`,
    );
    const stmt = this.insertManyStmt;
    const key = tokens.some((t) => t.seed) ? this.syncKey() : null;
    // Sealed in one pass for the whole chunk (same bytes as sealSeed, a fresh nonce each).
    const sealed = key ? sealTokenSeeds(key, tokens) : null;
    const at = nowIso();
    const existing: number[] = [];
    let inserted = 0;
    const run = () => {
      for (let i = 0; i < tokens.length; i++) {
        const info = stmt.run(...tokenInsertValues(tokens[i]!, sealed ? sealed[i]! : null, at, this.d));
        if (info.changes === 0) existing.push(i);
        else inserted++;
      }
    };
    // Inside a caller's transaction the rows join it; alone, they land together.
    if (this.db.inTransaction) run();
    else this.db.transaction(run).immediate();
    return { inserted, existing };
  }

  async update(id: number, patch: TokenPatch): Promise<TokenRecord> {
    const columns = tokenPatchColumns(patch, this.d);
    if ('seed' in patch) {
      const cur = this.getStmt.get(id) as Row | undefined;
      if (!cur) throw new NotFoundError(`no token with id ${id}`);
      const binding = seedBinding({ manufacturer: cur.manufacturer as string, serial: cur.serial as string });
      columns.push(['sealed_seed', patch.seed ? sealSeed(this.syncKey(), patch.seed, binding) : null]);
    }
    const at = nowIso();
    columns.push(['updated_at', at]);
    const p = new Params(this.d.ph);
    const sets = [setList(p, columns), stateChangedSet(patch, p, at)].filter(Boolean).join(', ');
    const info = prep(this.db, `UPDATE tokens SET ${sets} WHERE id = ?`).run(...p.values, id);
    if (info.changes === 0) throw new NotFoundError(`no token with id ${id}`);
    return toToken(this.getStmt.get(id) as Row);
  }

  async get(id: number): Promise<TokenRecord | null> {
    const r = this.getStmt.get(id) as Row | undefined;
    return r ? toToken(r) : null;
  }

  async findByUid(uid: string): Promise<TokenRecord | null> {
    // The same expression as the index tokens_attr_uid (migration 9), so SQLite uses it.
    const r = prep(this.db, "SELECT * FROM tokens WHERE json_extract(attributes, '$.uid') = ? ORDER BY id LIMIT 1").get(
      uid,
    ) as Row | undefined;
    return r ? toToken(r) : null;
  }

  async findBySerial(serial: string): Promise<TokenRecord[]> {
    return (prep(this.db, 'SELECT * FROM tokens WHERE serial = ? ORDER BY manufacturer').all(serial) as Row[]).map(
      toToken,
    );
  }

  async findOne(manufacturer: string, serial: string): Promise<TokenRecord | null> {
    const r = prep(this.db, 'SELECT * FROM tokens WHERE manufacturer = ? AND serial = ?').get(manufacturer, serial) as
      Row | undefined;
    return r ? toToken(r) : null;
  }
}
