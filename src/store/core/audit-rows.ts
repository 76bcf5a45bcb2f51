/**
 * The audit log's row-level logic both dialects share: the next chained row
 * after the current last one, the listing query, and reading the head kept
 * in meta. Locking and transactions stay with each dialect's audit repo.
 */
import { auditHash, GENESIS_HASH } from '../audit-chain.js';
import type { AuditEntry, AuditRecord } from '../types.js';
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
