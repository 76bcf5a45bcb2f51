/**
 * The audit log on SQLite: the hash chain (audit-chain.ts), its head in meta,
 * and the MACed anchor (core/audit-anchor.ts) written with every row.
 */
import type Database from 'better-sqlite3';
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
import { prep } from './db.js';
import { questionMarks } from '../core/inventory.js';
import type { AuditEntry, AuditFilter, AuditRecord, AuditRepo, AuditVerifyResult } from '../types.js';

const UPSERT_META =
  'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value';

export class SqliteAuditRepo implements AuditRepo {
  constructor(
    private readonly db: Database.Database,
    private readonly operator: string,
    /** The master key: the anchor's MAC key is derived from it; `create: false` where only an existing key will do. */
    private readonly key: (create?: boolean) => Buffer,
  ) {}

  private metaValue(key: string): string | null {
    return (
      (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null
    );
  }

  private writeAnchor(key: Buffer, count: number, head: string): void {
    this.db.prepare(UPSERT_META).run(ANCHOR_META_KEY, anchorValue(key, count, head));
    this.db.prepare('DELETE FROM meta WHERE key = ?').run(ANCHOR_PENDING_META_KEY);
  }

  /** Writes the first anchor of a store that migration 9 just reached (a new store: count 0); false when the key is not at hand yet. */
  initAnchor(): boolean {
    if (this.metaValue(ANCHOR_PENDING_META_KEY) === null) return true;
    let key: Buffer;
    try {
      key = this.key(false); // opening a store never creates a key file
    } catch {
      return false; // no master key here yet: the first append (which needs it anyway) writes the anchor
    }
    this.db
      .transaction(() => {
        const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
          { seq: number; hash: string } | undefined;
        if (this.metaValue(ANCHOR_PENDING_META_KEY) !== null)
          this.writeAnchor(key, last?.seq ?? 0, last?.hash ?? GENESIS_HASH);
      })
      .immediate();
    return true;
  }

  async append(e: AuditEntry): Promise<AuditRecord> {
    const key = this.key(); // before any write: without the key no row could be anchored
    const write = () => {
      const last = this.db.prepare('SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1').get() as
        { seq: number; hash: string } | undefined;
      const next = nextAuditRow(last, e, this.operator);
      this.db
        .prepare(`INSERT INTO audit (${INSERT_AUDIT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
        .run(...next.values);
      this.db.prepare(UPSERT_META).run('audit_head', next.head);
      this.writeAnchor(key, next.record.seq, next.record.hash);
      return next.record;
    };
    // An audit row outside a caller's transaction still needs its own, so the head, the anchor and the row land together.
    return this.db.inTransaction ? write() : this.db.transaction(write).immediate();
  }

  async list(opts: { limit?: number; subject?: string; action?: string } = {}): Promise<AuditRecord[]> {
    const q = auditListQuery(opts, questionMarks);
    return (this.db.prepare(q.sql).all(...q.params) as StoredAuditRow[]).map(toAuditRecord);
  }

  iterate(filter: AuditFilter = {}): AsyncIterable<AuditRecord> {
    return pagedAuditRows(
      filter,
      questionMarks,
      async (sql, params) => prep(this.db, sql).all(...params) as StoredAuditRow[],
    );
  }

  async verify(): Promise<AuditVerifyResult> {
    const head = parseAuditHead(this.metaValue('audit_head'));
    const chain = verifyAuditChain(
      this.db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as Iterable<StoredAuditRow>,
      head,
    );
    if (!chain.ok) return chain;
    let key: Buffer;
    try {
      key = this.key(false); // a check never creates a key file
    } catch (err) {
      return anchorNotChecked(chain, err);
    }
    const pending = this.metaValue(ANCHOR_PENDING_META_KEY) !== null;
    return checkAnchor(key, this.metaValue(ANCHOR_META_KEY), pending, chain.rows, lastHashOf(head));
  }
}
