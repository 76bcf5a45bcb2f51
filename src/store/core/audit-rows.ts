/**
 * The audit log's row-level logic both dialects share: the next chained row
 * after the current last one, the listing query, and reading the head kept
 * in meta. Locking and transactions stay with each dialect's audit repo.
 */
import { auditHash, GENESIS_HASH, toAuditRecord, type StoredAuditRow } from '../audit-chain.js';
import type { AuditEntry, AuditFilter, AuditRecord } from '../types.js';
import { Params, whereOf } from './dialect.js';
import type { Placeholder } from './inventory.js';

export const INSERT_AUDIT_COLUMNS = 'seq, at, actor, action, subject, details, prev_hash, hash';

/** The row chained after `last` (none: the genesis): its column values in INSERT_AUDIT_COLUMNS order, its record, and the new head value. */
export function nextAuditRow(
  last: { seq: number; hash: string } | undefined,
  e: AuditEntry,
  operator: string,
): { values: unknown[]; record: AuditRecord; head: string } {
  const seq = (last?.seq ?? 0) + 1;
  const prevHash = last?.hash ?? GENESIS_HASH;
  const row = {
    seq,
    at: new Date().toISOString(),
    actor: e.actor ?? operator,
    action: e.action,
    subject: e.subject,
    detailsJson: JSON.stringify(e.details ?? {}),
    prevHash,
  };
  const hash = auditHash(row);
  return {
    values: [seq, row.at, row.actor, row.action, row.subject, row.detailsJson, prevHash, hash],
    record: {
      seq,
      at: row.at,
      actor: row.actor,
      action: row.action,
      subject: row.subject,
      details: e.details ?? {},
      prevHash,
      hash,
    },
    head: `${seq}:${hash}`,
  };
}

/** The SQL conditions of an audit filter (all but `limit`), parameters added to `p`. */
function auditConditions(f: AuditFilter, p: Params): string[] {
  const parts: string[] = [];
  if (f.subject) parts.push(`subject = ${p.add(f.subject)}`);
  if (f.action) parts.push(`action = ${p.add(f.action)}`);
  if (f.actor) parts.push(`actor = ${p.add(f.actor)}`);
  // ISO 8601 UTC text compares in time order on both dialects.
  if (f.since) parts.push(`at >= ${p.add(f.since)}`);
  if (f.until) parts.push(`at < ${p.add(f.until)}`);
  return parts;
}

const AUDIT_PAGE = 1000;

/**
 * The rows of a filter, oldest first, a page of 1000 at a time (each page its own short statement, so no cursor
 * stays open); with `limit`, only the last `limit` of them. `all` runs a statement on the dialect.
 */
export async function* pagedAuditRows(
  f: AuditFilter,
  ph: Placeholder,
  all: (sql: string, params: unknown[]) => Promise<StoredAuditRow[]>,
): AsyncIterable<AuditRecord> {
  let after = 0;
  if (f.limit) {
    const p = new Params(ph);
    const where = whereOf(auditConditions(f, p));
    const first = await all(
      `SELECT MIN(seq) AS seq FROM (SELECT seq FROM audit ${where} ORDER BY seq DESC LIMIT ${Math.floor(f.limit)}) s`,
      p.values,
    );
    if (first[0]?.seq == null) return;
    after = Number(first[0].seq) - 1;
  }
  const p = new Params(ph);
  const parts = auditConditions(f, p);
  parts.push(`seq > ${p.add(after)}`);
  const sql = `SELECT * FROM audit ${whereOf(parts)} ORDER BY seq LIMIT ${AUDIT_PAGE}`;
  for (;;) {
    const rows = await all(sql, p.values);
    if (rows.length === 0) return;
    for (const r of rows) yield toAuditRecord(r);
    p.values[p.values.length - 1] = rows[rows.length - 1]!.seq;
  }
}

/** The last `limit` rows matching subject/action, oldest first. */
export function auditListQuery(
  opts: { limit?: number; subject?: string; action?: string },
  ph: Placeholder,
): { sql: string; params: unknown[] } {
  const p = new Params(ph);
  const parts: string[] = [];
  if (opts.subject) parts.push(`subject = ${p.add(opts.subject)}`);
  if (opts.action) parts.push(`action = ${p.add(opts.action)}`);
  const limit = opts.limit ? `LIMIT ${Math.floor(opts.limit)}` : '';
  return {
    sql: `SELECT * FROM (SELECT * FROM audit ${whereOf(parts)} ORDER BY seq DESC ${limit}) s ORDER BY seq`,
    params: p.values,
  };
}

/** The chain's head as meta keeps it ("seq:hash"), or null when there is none. */
export function parseAuditHead(value: string | null): { seq: number; hash: string } | null {
  return value ? { seq: Number(value.split(':')[0]), hash: value.split(':')[1] ?? '' } : null;
}
