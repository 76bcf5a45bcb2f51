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

function bad(rows: number, seq: number, problem: string): AuditVerifyResult {
  return { ok: false, rows, firstBad: { seq, problem } };
}

/** What is wrong with row `r` where row `expectedSeq` following `prevHash` should be, or null when it fits. */
function rowProblem(r: StoredAuditRow, expectedSeq: number, prevHash: string): { seq: number; problem: string } | null {
  if (r.seq !== expectedSeq) {
    return {
      seq: expectedSeq,
      problem:
        r.seq > expectedSeq
          ? `row ${expectedSeq} is missing (deleted); the next row is ${r.seq}`
          : `row ${r.seq} is out of order`,
    };
  }
  if (r.prev_hash !== prevHash) {
    return {
      seq: r.seq,
      problem: `row ${r.seq} does not follow row ${r.seq - 1}: its link to the previous row is wrong (rows deleted, inserted or swapped)`,
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
  return h === r.hash ? null : { seq: r.seq, problem: `row ${r.seq} was edited: its content does not match its hash` };
}

/** Checks a chain of `count` rows ending in `lastHash` against the head kept in meta (rows cut off or added at the end). */
function headProblem(head: { seq: number; hash: string } | null, count: number, lastHash: string): AuditVerifyResult {
  if (!head) return count > 0 ? bad(count, 1, 'the audit head record is missing from meta') : { ok: true, rows: count };
  if (head.seq > count)
    return bad(count, count + 1, `rows ${count + 1} to ${head.seq} are missing from the end (deleted)`);
  if (head.seq < count) return bad(count, head.seq + 1, `row ${head.seq + 1} and later were added outside tokensmith`);
  if (head.hash !== lastHash) return bad(count, count, `row ${count} is not the row tokensmith last wrote`);
  return { ok: true, rows: count };
}

/** Walks rows in seq order and names the first that breaks the chain. */
export function verifyAuditChain(
  rows: Iterable<StoredAuditRow>,
  head: { seq: number; hash: string } | null,
): AuditVerifyResult {
  let prevHash = GENESIS_HASH;
  let count = 0;
  for (const r of rows) {
    count++;
    const problem = rowProblem(r, count, prevHash);
    if (problem) return bad(count, problem.seq, problem.problem);
    prevHash = r.hash;
  }
  return headProblem(head, count, prevHash);
}
