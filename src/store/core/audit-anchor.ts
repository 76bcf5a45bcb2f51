/**
 * The audit anchor: the chain's row count and head hash, MACed with a key
 * derived from the master key and kept in meta. The chain alone cannot show
 * rows cut off its end when whoever cut them also moved the head back; the
 * anchor can, because rewriting it needs the master key, which lives outside
 * the database (key file or TOKENSMITH_MASTER_KEY).
 *
 * Residual risk: rolling the whole database back to an older copy (its audit
 * rows and its anchor together) is not detected here; keep the audit log's
 * head somewhere else too (a printed `audit verify` count, a log shipper).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { GENESIS_HASH } from '../audit-chain.js';
import type { AuditVerifyResult } from '../types.js';

/** The meta key holding "<count>:<head>:<mac>". */
export const ANCHOR_META_KEY = 'audit_anchor';
/** Set by migration 9 on a store that had no anchor yet: the anchor is written from the chain as it is, then this goes. */
export const ANCHOR_PENDING_META_KEY = 'audit_anchor_pending';

function anchorMac(masterKey: Buffer, count: number, head: string): string {
  // A key of its own, derived from the master key, so the anchor MAC can never be confused with a seed seal or the key check.
  const macKey = createHmac('sha256', masterKey).update('tokensmith audit anchor key v1').digest();
  return createHmac('sha256', macKey).update(`tokensmith audit anchor v1|${count}|${head}`).digest('hex');
}

/** The meta value of the anchor for a chain of `count` rows ending in `head` (GENESIS_HASH when empty). */
export function anchorValue(masterKey: Buffer, count: number, head: string): string {
  return `${count}:${head}:${anchorMac(masterKey, count, head)}`;
}

function fail(rows: number, seq: number, problem: string): AuditVerifyResult {
  return { ok: false, rows, firstBad: { seq, problem } };
}

/**
 * Checks a chain that verified on its own (`rows` rows ending in `lastHash`) against the anchor.
 * `pending` is true while migration 9 has not written the first anchor yet.
 */
export function checkAnchor(
  masterKey: Buffer,
  stored: string | null,
  pending: boolean,
  rows: number,
  lastHash: string,
): AuditVerifyResult {
  if (stored === null) {
    if (pending) return { ok: true, rows };
    return fail(
      rows,
      1,
      'the audit anchor is missing from meta: audit rows were deleted together with it, or the store was emptied outside tokensmith',
    );
  }
  const [countText, head, mac] = stored.split(':');
  const count = Number(countText);
  if (!Number.isSafeInteger(count) || head === undefined || mac === undefined || !/^[0-9a-f]{64}$/.test(mac)) {
    return fail(rows, 1, 'the audit anchor in meta is not in its format: it was edited outside tokensmith');
  }
  const want = Buffer.from(anchorMac(masterKey, count, head), 'hex');
  if (!timingSafeEqual(want, Buffer.from(mac, 'hex'))) {
    return fail(
      rows,
      1,
      'the audit anchor does not carry a valid MAC under this master key: it was edited outside tokensmith',
    );
  }
  if (count > rows)
    return fail(
      rows,
      rows + 1,
      rows === 0
        ? `all ${count} audit rows are missing (deleted)`
        : `rows ${rows + 1} to ${count} are missing from the end (deleted)`,
    );
  if (count < rows)
    return fail(
      rows,
      count + 1,
      `row ${count + 1} and later were added outside tokensmith (the anchor counts ${count} rows)`,
    );
  if (head !== lastHash)
    return fail(rows, rows, `row ${rows} is not the row tokensmith last wrote (the anchor names another head)`);
  return { ok: true, rows };
}

/**
 * A chain that verified, reported without its anchor because the master key is not at hand (or not this
 * store's): the rows link up, but rows cut off the end together with the head would not show.
 */
export function anchorNotChecked(chain: AuditVerifyResult, err: unknown): AuditVerifyResult {
  const code = (err as { code?: string } | null)?.code;
  if (code !== 'missing-master-key' && code !== 'wrong-master-key') throw err;
  const why =
    code === 'missing-master-key' ? 'no master key is at hand' : 'the master key is not the one of this store';
  return {
    ...chain,
    anchorChecked: false,
    note: `the anchor was not checked (${why}): rows cut off the end together with the head would not show; run audit verify with the master key to check it`,
  };
}

/** The last hash of a verified chain: its head, or the genesis hash when it has no rows. */
export function lastHashOf(head: { seq: number; hash: string } | null): string {
  return head?.hash ?? GENESIS_HASH;
}
