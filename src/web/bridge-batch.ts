/**
 * The station's batch, server side: the flash-batch service (the same one
 * `tokensmith device flash --batch` runs) over the reader the page chose,
 * opened by this server through its reader hub. The page starts it, reads its
 * progress and stops it; it never touches a token of the batch.
 */
import { TokensmithError, UsageError } from '../core/errors.js';
import {
  BatchStop,
  runFlashBatch,
  type BatchEvent,
  type FlashBatchReport,
  type TokenSource,
} from '../provision/flash-batch.js';
import type { Store } from '../store/types.js';
import type { ReaderHub } from './readers.js';

/** How long one look for a token waits before the stop is checked again. */
const LOOK_SECONDS = 1;
/** A pause between looks, for a hub that answers "no token" at once (it would spin and starve the server). */
const BETWEEN_LOOKS_MS = 250;

/** The next token on the chosen reader, however long it takes, until the batch is stopped. */
export function hubSource(hub: ReaderHub, reader: string | undefined, stop: BatchStop): TokenSource {
  return {
    async next() {
      for (;;) {
        if (stop.requested) throw new TokensmithError('stopped', { code: 'stopped' });
        try {
          return await hub.open({ reader, waitSeconds: LOOK_SECONDS });
        } catch (e) {
          if (!(e instanceof TokensmithError && e.code === 'no-token')) throw e;
        }
        await new Promise((resolve) => setTimeout(resolve, BETWEEN_LOOKS_MS));
      }
    },
  };
}

/** Runs one batch for a page: the form -> the report, progress through `onEvent`; `stop` ends it. */
export async function runStationBatch(
  store: Store,
  hub: ReaderHub,
  req: { input?: Record<string, unknown>; reader?: string },
  stop: BatchStop,
  onEvent: (e: BatchEvent) => void,
): Promise<FlashBatchReport> {
  const { flashFormOf, formFlasher } = await import('../provision/flash-families.js');
  const form = flashFormOf(req.input ?? {});
  if (form.seed)
    throw new UsageError('a batch writes a fresh seed to each token: leave the seed empty', 'seed-in-batch');
  const { entraActivating } = await import('../provision/entra-flash.js');
  const flasher =
    req.input?.entraActivate === true ? entraActivating(await formFlasher(form)) : await formFlasher(form);
  return runFlashBatch(store, hubSource(hub, req.reader || undefined, stop), flasher, {
    count: null,
    sourceName: 'station batch',
    stop,
    onEvent,
  });
}
