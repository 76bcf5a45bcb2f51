/**
 * The audit log on PostgreSQL: the hash chain (audit-chain.ts), its head in
 * meta and the MACed anchor (core/audit-anchor.ts), appended under a
 * transaction-scoped advisory lock so that stations write one chain.
 */
import { GENESIS_HASH, toAuditRecord, verifyAuditChain, type StoredAuditRow } from '../audit-chain.js';
import {
  ANCHOR_META_KEY,
  ANCHOR_PENDING_META_KEY,
  anchorNotChecked,
  anchorValue,
  checkAnchor,
  lastHashOf,
} from '../core/audit-anchor.js';
import {
  auditListQuery,
  INSERT_AUDIT_COLUMNS,
  nextAuditRow,
  pagedAuditRows,
  parseAuditHead,
} from '../core/audit-rows.js';
import { dollarNumbers } from '../core/inventory.js';
import type { AuditEntry, AuditFilter, AuditRecord, AuditRepo, AuditVerifyResult } from '../types.js';
import type { PgExecutor, Row } from './db.js';

/** The advisory lock key of the audit chain: one chain, one writer at a time, until its transaction ends. */
export const AUDIT_LOCK_KEY = 0x746f6b65; // "toke"

const UPSERT_META =
  'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

interface ChainState {
  head: { seq: number; hash: string } | null;
  anchor: string | null;
  pending: boolean;
  rows: StoredAuditRow[];
}

export class PgAuditRepo implements AuditRepo {
  constructor(
    private readonly db: PgExecutor,
    private readonly operator: string,
    private readonly inTransaction: <T>(fn: () => Promise<T>) => Promise<T>,
    /** The master key: the anchor's MAC key is derived from it. */
    private readonly key: (create?: boolean) => Promise<Buffer>,
  ) {}

  private async metaValue(key: string): Promise<string | null> {
    return (await this.db.one<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key]))?.value ?? null;
  }

  private async writeAnchor(key: Buffer, count: number, head: string): Promise<void> {
    await this.db.query(UPSERT_META, [ANCHOR_META_KEY, anchorValue(key, count, head)]);
    await this.db.query('DELETE FROM meta WHERE key = $1', [ANCHOR_PENDING_META_KEY]);
  }

  /** Writes the first anchor of a store that migration 9 just reached (a new store: count 0); false when the key is not at hand yet. */
  async initAnchor(): Promise<boolean> {
    let key: Buffer;
    try {
      // Loaded now, at open, even when no anchor is due: appends inside transactions need it, and loading it
      // there would take a second pooled connection per transaction (a full pool would wait on itself).
      key = await this.key(false); // opening a store never creates a key file
    } catch {
      return false; // no master key here yet: the first append (which needs it anyway) writes the anchor
    }
    if ((await this.metaValue(ANCHOR_PENDING_META_KEY)) === null) return true;
    await this.inTransaction(async () => {
      await this.db.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
      if ((await this.metaValue(ANCHOR_PENDING_META_KEY)) === null) return;
      const last = await this.db.one<{ seq: number; hash: string }>(
        'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
      );
      await this.writeAnchor(key, last?.seq ?? 0, last?.hash ?? GENESIS_HASH);
    });
    return true;
  }

  async append(e: AuditEntry): Promise<AuditRecord> {
    // An audit row outside a caller's transaction still needs its own, so the lock, the row, the head and the anchor land together.
    const key = await this.key(); // before any write (and before taking a connection): without the key no row could be anchored
    if (!this.db.inTransaction) return this.inTransaction(() => this.append(e));
    // Held until this transaction commits or rolls back: the next station reads the head only after this row is in.
    await this.db.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
    const last = await this.db.one<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1',
    );
    const next = nextAuditRow(last, e, this.operator);
    await this.db.query(
      `INSERT INTO audit (${INSERT_AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      next.values,
    );
    await this.db.query(UPSERT_META, ['audit_head', next.head]);
    await this.writeAnchor(key, next.record.seq, next.record.hash);
    return next.record;
  }

  async list(opts: { limit?: number; subject?: string; action?: string } = {}): Promise<AuditRecord[]> {
    const q = auditListQuery(opts, dollarNumbers);
    return (await this.db.query<StoredAuditRow & Row>(q.sql, q.params)).map(toAuditRecord);
  }

  iterate(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    return pagedAuditRows(filter, dollarNumbers, (sql, params) => this.db.query<StoredAuditRow & Row>(sql, params));
  }

  async verify(): Promise<AuditVerifyResult> {
    let key: Buffer | null = null;
    let keyError: unknown;
    try {
      key = await this.key(false); // a check never creates a key file
    } catch (err) {
      keyError = err;
    }
    // The head, the anchor and the rows from one snapshot, so a station appending meanwhile does not look like tampering.
    const state = this.db.inTransaction ? await this.readLocked() : await this.inTransaction(() => this.readSnapshot());
    const chain = verifyAuditChain(state.rows, state.head);
    if (!chain.ok) return chain;
    if (!key) return anchorNotChecked(chain, keyError);
    return checkAnchor(key, state.anchor, state.pending, chain.rows, lastHashOf(state.head));
  }

  private async readState(pageAll: boolean): Promise<ChainState> {
    const head = parseAuditHead(await this.metaValue('audit_head'));
    const anchor = await this.metaValue(ANCHOR_META_KEY);
    const pending = (await this.metaValue(ANCHOR_PENDING_META_KEY)) !== null;
    if (!pageAll)
      return {
        head,
        anchor,
        pending,
        rows: await this.db.query<StoredAuditRow & Row>('SELECT * FROM audit ORDER BY seq'),
      };
    const rows: StoredAuditRow[] = [];
    for (let after = 0; ;) {
      const page = await this.db.query<StoredAuditRow & Row>(
        'SELECT * FROM audit WHERE seq > $1 ORDER BY seq LIMIT 10000',
        [after],
      );
      if (page.length === 0) break;
      rows.push(...page);
      after = page[page.length - 1]!.seq;
    }
    return { head, anchor, pending, rows };
  }

  private async readSnapshot(): Promise<ChainState> {
    await this.db.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
    return this.readState(true);
  }

  /** Inside a caller's READ COMMITTED transaction each statement has its own snapshot: hold the appenders off so head, anchor and rows agree. */
  private async readLocked(): Promise<ChainState> {
    await this.db.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK_KEY]);
    return this.readState(false);
  }
}
