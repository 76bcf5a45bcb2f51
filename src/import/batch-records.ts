/**
 * The import's traces in the store beside its tokens: the batch finished
 * with its audit row, earlier imports of the same bytes, the Resource named.
 */
import { DataError, NotFoundError } from '../core/errors.js';
import type { Repos, Store } from '../store/types.js';
import type { ImportFormat } from './types.js';
import type { OnDuplicate } from './writer.js';

/** What the audit row of an import says. */
export interface FinishedImport {
  file: string;
  sha256: string;
  format: ImportFormat;
  imported: number;
  skipped: number;
  updated: number;
  shortSeeds: number;
}

/** Marks the batch done and writes its audit row (file, hash, counts, duplicate mode, Resource, --allow-expired). */
export async function finishBatch(
  tx: Repos,
  batchId: number,
  summary: FinishedImport,
  onDuplicate: OnDuplicate,
  opts: { resource?: string; allowExpired?: boolean },
): Promise<void> {
  const counts = { imported: summary.imported, skipped: summary.skipped, failed: 0 };
  await tx.batches.finish(batchId, counts, 'done');
  await tx.audit.append({
    action: 'import',
    subject: `batch:${batchId}`,
    details: {
      file: summary.file,
      sha256: summary.sha256,
      format: summary.format,
      ...counts,
      updated: summary.updated,
      onDuplicate,
      resource: opts.resource ?? null,
      ...(opts.allowExpired ? { allowExpired: true } : {}),
      ...(summary.shortSeeds ? { shortSeeds: summary.shortSeeds } : {}),
    },
  });
}

/** Earlier finished imports of the same bytes: refused under --on-duplicate fail, a note otherwise. */
export async function earlierImportsOf(
  store: Store,
  sha256: string,
  fileName: string,
  onDuplicate: OnDuplicate,
  onNote?: (m: string) => void,
): Promise<{ batch: number; at: string }[]> {
  const seenBefore = (await store.batches.findBySha256(sha256))
    .filter((b) => b.kind === 'import' && b.status === 'done')
    .map((b) => ({ batch: b.id, at: b.createdAt }));
  const last = seenBefore.at(-1);
  if (!last) return seenBefore;
  if (onDuplicate === 'fail') {
    throw new DataError(
      `${fileName}: this very file (SHA-256 ${sha256.slice(0, 16)}…) was already imported as batch ${last.batch} on ${last.at}: nothing to do. ` +
        "To apply it again, use --on-duplicate skip (keep the tokens as they are) or update (take the file's settings).",
      { code: 'already-imported', where: fileName },
    );
  }
  onNote?.(
    `this very file was already imported as batch ${last.batch} on ${last.at}; --on-duplicate ${onDuplicate} applies`,
  );
  return seenBefore;
}

export async function resourceIdOf(store: Store, name: string): Promise<number> {
  const r = await store.resources.findByName(name);
  if (!r) throw new NotFoundError(`no resource named '${name}' (create it with: tokensmith resource create ${name})`);
  return r.id;
}
