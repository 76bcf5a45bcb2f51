/**
 * `device flash --model yubikey-oath --batch [n]`: one key after another,
 * each with one fresh credential named from its store serial, all in one
 * flash batch. A key that fails is reported and the run goes on; no key
 * within --wait ends a run without n.
 */
import { TokensmithError, UsageError } from '../../../core/errors.js';
import type { Store } from '../../../store/types.js';
import type { ApduTransport } from '../../../transport/types.js';
import { flashOathCredential, type OathFlashInput, type OathFlashResult } from './oath.js';

export interface OathBatchResult {
  batch: number;
  flashed: OathFlashResult[];
  failed: { index: number; error: string; message: string }[];
}

export interface OathBatchHooks {
  /** The next key on the reader, or null when none came. */
  next: () => Promise<ApduTransport | null>;
  onKey?: (index: number, r: OathFlashResult | TokensmithError) => void;
  /** After each key (e.g. wait until it leaves the reader). */
  done?: (transport: ApduTransport, last: boolean) => Promise<void>;
}

export async function flashOathBatch(
  store: Store,
  count: number | null,
  input: OathFlashInput,
  hooks: OathBatchHooks,
): Promise<OathBatchResult> {
  if (input.seed)
    throw new UsageError(
      '--seed with --batch would give every key the same seed: leave it out, each credential gets a fresh one',
    );
  const batch = await store.batches.create({
    kind: 'flash',
    sourceName: 'yubikey-oath batch',
    format: 'yubikey-oath',
    operator: store.operator,
  });
  const result: OathBatchResult = { batch: batch.id, flashed: [], failed: [] };
  for (let i = 0; count === null || i < count; i++) {
    const transport = await hooks.next();
    if (!transport) break;
    try {
      const r = await flashOathCredential(store, transport, { ...input, batchId: batch.id });
      result.flashed.push(r);
      hooks.onKey?.(i, r);
    } catch (e) {
      if (!(e instanceof TokensmithError)) throw e;
      result.failed.push({ index: i + 1, error: e.code, message: e.message });
      hooks.onKey?.(i, e);
    } finally {
      await hooks.done?.(transport, count !== null && i + 1 === count);
      await transport.close();
    }
  }
  await store.batches.finish(
    batch.id,
    { imported: result.flashed.length, skipped: 0, failed: result.failed.length },
    'done',
  );
  return result;
}
