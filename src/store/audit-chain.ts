/**
 * The audit hash chain, independent of the backend: each row's hash covers
 * its own fields and the previous row's hash, so an edited, deleted or
 * reordered row breaks the chain from that row on. The store also keeps the
 * head (last seq and hash) in meta, so that cutting rows off the end shows.
 */
import { createHash } from 'node:crypto';
import type { AuditRecord, AuditVerifyResult } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);

export function auditHash(row: {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  detailsJson: string;
  prevHash: string;
}): string {
  return createHash('sha256')
    .update(JSON.stringify([row.seq, row.at, row.actor, row.action, row.subject, row.detailsJson, row.prevHash]))
    .digest('hex');
}

export interface StoredAuditRow {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export function toAuditRecord(r: StoredAuditRow): AuditRecord {
  let details: Record<string, unknown>;
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    details = { unreadable: r.details };
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Walks rows in seq order and names the first that breaks the chain. */
export function verifyAuditChain(
  rows: Iterable<StoredAuditRow>,
  head: { seq: number; hash: string } | null,
): AuditVerifyResult {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (const r of rows) {
    count++;
    if (r.seq !== expectedSeq) {
      return {
        ok: false,
        rows: count,
        firstBad: {
          seq: expectedSeq,
          problem:
            r.seq > expectedSeq
              ? `row ${expectedSeq} is missing (deleted); the next row is ${r.seq}`
              : `row ${r.seq} is out of order`,
        },
      };
    }
    if (r.prev_hash !== prevHash) {
      return {
        ok: false,
        rows: count,
        firstBad: {
          seq: r.seq,
          problem: `row ${r.seq} does not follow row ${r.seq - 1}: its link to the previous row is wrong (rows deleted, inserted or swapped)`,
        },
      };
    }
    const h = auditHash({
      seq: r.seq,
      at: r.at,
      actor: r.actor,
      action: r.action,
      subject: r.subject,
      detailsJson: r.details,
      prevHash: r.prev_hash,
    });
    if (h !== r.hash) {
      return {
        ok: false,
        rows: count,
        firstBad: { seq: r.seq, problem: `row ${r.seq} was edited: its content does not match its hash` },
      };
    }
    prevHash = r.hash;
    expectedSeq++;
  }
  const lastSeq = expectedSeq - 1;
  if (head) {
    if (head.seq > lastSeq) {
      return {
        ok: false,
        rows: count,
        firstBad: {
          seq: lastSeq + 1,
          problem: `rows ${lastSeq + 1} to ${head.seq} are missing from the end (deleted)`,
        },
      };
    }
    if (head.seq < lastSeq) {
      return {
        ok: false,
        rows: count,
        firstBad: { seq: head.seq + 1, problem: `row ${head.seq + 1} and later were added outside tokensmith` },
      };
    }
    if (head.hash !== prevHash) {
      return {
        ok: false,
        rows: count,
        firstBad: { seq: lastSeq, problem: `row ${lastSeq} is not the row tokensmith last wrote` },
      };
    }
  } else if (count > 0) {
    return { ok: false, rows: count, firstBad: { seq: 1, problem: 'the audit head record is missing from meta' } };
  }
  return { ok: true, rows: count };
}
