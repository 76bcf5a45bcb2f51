/**
 * Tokens on PostgreSQL. Inside a transaction a token read for a change is
 * locked (SELECT ... FOR UPDATE), so two stations never both move one
 * token from the state they each read; bulk inserts go in one statement per
 * chunk and leave existing (manufacturer, serial) pairs alone.
 */
import { toToken } from '../core/rows.js';
import { DataError, NotFoundError } from '../../core/errors.js';
import type { NewToken, TokenPatch, TokenRecord, TokenRepo } from '../types.js';
import { Params, setList } from '../core/dialect.js';
import { stateChangedSet, TOKEN_INSERT_COLUMNS, tokenInsertValues, tokenPatchColumns } from '../core/filters.js';
import { SqlTokenReads } from '../core/tokens.js';
import { sealSeed, sealTokenSeeds, seedBinding } from '../vault.js';
import { pgDialect, uniqueViolation, type PgExecutor, type Row } from './db.js';

const now = () => new Date().toISOString();

function duplicateError(
  t: { serial: string; manufacturer: string; deviceSerial?: string | null; profile?: number | null },
  constraint: string,
): DataError {
  if (constraint === 'tokens_device_profile') {
    return new DataError(
      `profile ${t.profile} of device ${t.deviceSerial} already holds a token (adding ${t.serial})`,
      { code: 'duplicate-serial', where: t.serial },
    );
  }
  return new DataError(`token ${t.serial}${t.manufacturer ? ` (${t.manufacturer})` : ''} is already in the store`, {
    code: 'duplicate-serial',
    where: t.serial,
  });
}

const UNNEST_TYPES = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'text',
  'int',
  'int',
  'bigint',
  'bytea',
  'text',
  'int',
  'int',
  'int',
  'text',
  'int',
  'text',
  'text',
  'text',
  'bigint',
  'boolean',
  'numeric',
  'text',
];

export class PgTokenRepo extends SqlTokenReads implements TokenRepo {
  constructor(
    private readonly db: PgExecutor,
    key: () => Promise<Buffer>,
    private readonly inTransaction: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {
    super(pgDialect(db), key);
  }

  /** Row locks only inside a transaction: a read there is the start of a change. */
  private get lock(): string {
    return this.db.inTransaction ? ' FOR UPDATE' : '';
  }

  /** The insert values of a token; `presealed` when the caller sealed the seed already (sealSeeds). */
  private async row(t: NewToken, at: string, key: Buffer | null, presealed?: Buffer | null): Promise<unknown[]> {
    const binding = seedBinding({ manufacturer: t.manufacturer ?? '', serial: t.serial });
    const sealed =
      presealed !== undefined ? presealed : t.seed ? sealSeed(key ?? (await this.key()), t.seed, binding) : null;
    return tokenInsertValues(t, sealed, at, this.d);
  }

  async insert(t: NewToken): Promise<TokenRecord> {
    const values = await this.row(t, now(), null);
    try {
      const r = await this.db.guarded(() =>
        this.db.one(
          `INSERT INTO tokens (${TOKEN_INSERT_COLUMNS}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
          values,
        ),
      );
      return toToken(r!);
    } catch (err) {
      const c = uniqueViolation(err);
      if (c !== undefined) throw duplicateError({ ...t, manufacturer: t.manufacturer ?? '' }, c);
      throw err;
    }
  }

  async insertMany(tokens: NewToken[]): Promise<{ inserted: number; existing: number[] }> {
    // Inside a caller's transaction the rows join it; alone, they land together.
    if (!this.db.inTransaction) return this.inTransaction(() => this.insertMany(tokens));
    const key = tokens.some((t) => t.seed) ? await this.key() : null;
    const at = now();
    const existing: number[] = [];
    // A pair repeated within the call: the first one is inserted, later ones are "existing", as on SQLite.
    const firstOf = new Map<string, number>();
    const send: number[] = [];
    tokens.forEach((t, i) => {
      const k = `${t.manufacturer ?? ''}\x00${t.serial}`;
      if (firstOf.has(k)) existing.push(i);
      else {
        firstOf.set(k, i);
        send.push(i);
      }
    });
    // Sorted by (manufacturer, serial): stations inserting overlapping chunks wait on each other in one order, never in a cycle.
    send.sort((a, b) => cmp(tokens[a]!, tokens[b]!));
    // Sealed in one pass for the whole call (same bytes as sealSeed, a fresh nonce each).
    const sealed = key
      ? sealTokenSeeds(
          key,
          send.map((i) => tokens[i]!),
        )
      : null;
    const columns: unknown[][] = UNNEST_TYPES.map(() => []);
    for (const [j, i] of send.entries()) {
      const values = await this.row(tokens[i]!, at, key, sealed ? sealed[j]! : null);
      values.forEach((v, c) => columns[c]!.push(v));
    }
    let inserted = 0;
    if (send.length > 0) {
      const rows = await this.db.query<{ manufacturer: string; serial: string }>(
        `INSERT INTO tokens (${TOKEN_INSERT_COLUMNS}) SELECT * FROM unnest(${UNNEST_TYPES.map((ty, c) => `$${c + 1}::${ty}[]`).join(', ')})
         ON CONFLICT (manufacturer, serial) DO NOTHING RETURNING manufacturer, serial`,
        columns,
      );
      const done = new Set(rows.map((r) => `${r.manufacturer}\x00${r.serial}`));
      inserted = rows.length;
      for (const i of send) if (!done.has(`${tokens[i]!.manufacturer ?? ''}\x00${tokens[i]!.serial}`)) existing.push(i);
    }
    existing.sort((a, b) => a - b);
    return { inserted, existing };
  }

  async update(id: number, patch: TokenPatch): Promise<TokenRecord> {
    const columns = tokenPatchColumns(patch, this.d);
    if ('seed' in patch) {
      const cur = await this.db.one<{ manufacturer: string; serial: string }>(
        `SELECT manufacturer, serial FROM tokens WHERE id = $1${this.lock}`,
        [id],
      );
      if (!cur) throw new NotFoundError(`no token with id ${id}`);
      columns.push(['sealed_seed', patch.seed ? sealSeed(await this.key(), patch.seed, seedBinding(cur)) : null]);
    }
    const at = now();
    columns.push(['updated_at', at]);
    const p = new Params(this.d.ph);
    const sets = [setList(p, columns), stateChangedSet(patch, p, at)].filter(Boolean).join(', ');
    const params = p.values;
    const idAt = p.add(id);
    let r: Row | undefined;
    try {
      r = await this.db.guarded(() => this.db.one(`UPDATE tokens SET ${sets} WHERE id = ${idAt} RETURNING *`, params));
    } catch (err) {
      const c = uniqueViolation(err);
      if (c !== undefined)
        throw new DataError(
          `token #${id}: ${c === 'tokens_device_profile' ? 'that device profile already holds a token' : 'the serial is taken'}`,
          { code: 'duplicate-serial' },
        );
      throw err;
    }
    if (!r) throw new NotFoundError(`no token with id ${id}`);
    return toToken(r);
  }

  async get(id: number): Promise<TokenRecord | null> {
    const r = await this.db.one(`SELECT * FROM tokens WHERE id = $1${this.lock}`, [id]);
    return r ? toToken(r) : null;
  }

  async findByUid(uid: string): Promise<TokenRecord | null> {
    // The same expression as the index tokens_attr_uid (migration 9), so PostgreSQL uses it.
    const r = await this.db.one("SELECT * FROM tokens WHERE (attributes::jsonb) ->> 'uid' = $1 ORDER BY id LIMIT 1", [
      uid,
    ]);
    return r ? toToken(r) : null;
  }

  async findBySerial(serial: string): Promise<TokenRecord[]> {
    return (
      await this.db.query(`SELECT * FROM tokens WHERE serial = $1 ORDER BY manufacturer COLLATE "C"${this.lock}`, [
        serial,
      ])
    ).map(toToken);
  }

  async findOne(manufacturer: string, serial: string): Promise<TokenRecord | null> {
    const r = await this.db.one(`SELECT * FROM tokens WHERE manufacturer = $1 AND serial = $2${this.lock}`, [
      manufacturer,
      serial,
    ]);
    return r ? toToken(r) : null;
  }
}

function cmp(a: NewToken, b: NewToken): number {
  const ma = a.manufacturer ?? '';
  const mb = b.manufacturer ?? '';
  if (ma !== mb) return ma < mb ? -1 : 1;
  return a.serial < b.serial ? -1 : a.serial > b.serial ? 1 : 0;
}
