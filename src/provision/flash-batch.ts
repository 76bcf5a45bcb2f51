/**
 * The one flash-batch service: `tokensmith device flash --batch` and the
 * station's batch both run it, so the two count alike. One batch record per
 * run; each token ends as exactly one of:
 *
 * - flashed: written, confirmed by the token, registered in the batch;
 * - skipped: the store already holds a seed for it (nothing written; --force flashes it);
 * - failed: anything else went wrong, e.g. the token was pulled mid-write
 *   (the token stays unregistered; a `token.flash-failed` row says what it holds);
 * - cancelled: the operator stopped (Ctrl-C, Stop) or declined once the token
 *   was identified and before anything was written (nothing written, not registered).
 *
 * A stop while waiting for the next token ends the run with no token counted.
 * The batch record stores imported = flashed, skipped = skipped + cancelled
 * (neither wrote anything), failed; the `flash.batch` audit row keeps all four apart.
 */
import { TokensmithError, UsageError } from '../core/errors.js';
import type { Repos, Store } from '../store/types.js';
import type { ApduTransport } from '../transport/types.js';
import type { TokenView } from './tokens.js';
import type {
  BatchCounts,
  BatchEvent as BatchEventOf,
  BatchTokenEntry,
  FlashBatchReport as FlashBatchReportOf,
  FlashOutcome,
} from '../core/batch-report.js';

export type { BatchCounts, BatchTokenEntry, FlashOutcome };
export type BatchEvent = BatchEventOf<FlashedToken>;
export type FlashBatchReport<T extends FlashedToken = FlashedToken> = FlashBatchReportOf<T>;

/** What every family's flash returns (the family's own result has more). */
export interface FlashedToken {
  serial: string;
  batch: number;
  model: string;
  token: TokenView;
}

/** What the batch hands one family's flash of one token. */
export interface BatchTokenContext {
  /** The open batch; absent: a single flash that makes its own batch of one. */
  batchId?: number;
  /** The user this token goes to (from the users list), when any. */
  user?: string;
  onStep?: (text: string) => void;
  /** Asked once the token is identified, before anything is written; false cancels it. */
  confirm?: (serial: string, label: string) => Promise<boolean>;
}

/** Flashes the token on a transport into the batch (one family, or a dispatch by family). */
export interface TokenFlasher {
  /** The batch's format column: the family name, or 'mixed' for a dispatch. */
  format: string;
  flash(store: Store, transport: ApduTransport, ctx: BatchTokenContext): Promise<FlashedToken>;
}

/** A step after each token is flashed and registered (e.g. activating it on an MFA server); it gets the store and the flashed token. */
export type AfterFlash = (store: Store, flashed: FlashedToken) => Promise<void>;

/**
 * The one place a post-flash step joins any flash path (a batch, the station's
 * single flash, a CLI flash through a TokenFlasher): `flasher` with `after` run
 * once each token is written and registered. Its error is the token's error (the
 * token stays flashed in the store; the batch records it as failed with that code).
 */
export function withAfterFlash(flasher: TokenFlasher, after: AfterFlash | undefined): TokenFlasher {
  if (!after) return flasher;
  return {
    format: flasher.format,
    async flash(store, transport, ctx) {
      const flashed = await flasher.flash(store, transport, ctx);
      await after(store, flashed);
      return flashed;
    },
  };
}

/** Where the tokens come from: a PC/SC context for the CLI, the station's reader hub. */
export interface TokenSource {
  /** The next token; rejects with code 'no-token' when none came in time. */
  next(index: number): Promise<ApduTransport>;
}

/** The operator's stop: set once, wakes whoever waits on it. */
export class BatchStop {
  private wake: (() => void) | null = null;
  private readonly signal = new Promise<void>((resolve) => (this.wake = resolve));
  requested = false;
  request(): void {
    this.requested = true;
    this.wake?.();
  }
  wait(): Promise<void> {
    return this.signal;
  }
}

export interface FlashBatchOptions {
  /** null: until no token comes (CLI) or until stopped (station). */
  count: number | null;
  users?: string[];
  /** Where the tokens came from, for the batch record. */
  sourceName: string;
  stop?: BatchStop;
  onEvent?: (e: BatchEvent) => void;
  /** Asked per token before writing (an interactive CLI); absent: every token is written. */
  confirm?: (serial: string, label: string) => Promise<boolean>;
  /** Waits until a flashed token left the reader; default: its transport's removal event. */
  awaitRemoval?: (t: ApduTransport) => Promise<void>;
  /** Runs after each token is flashed and registered (withAfterFlash). */
  afterFlash?: AfterFlash;
}

/** The flash batch one token's write lands in (from batchOf). */
export interface FlashBatchOf {
  id: number;
  /** Records the token's outcome: a single flash's own batch is finished with it; a run's batch is left to the run. */
  done(outcome: 'flashed' | 'failed'): Promise<void>;
}

/**
 * The batch a token's write is registered in, inside the write's transaction:
 * the run's (`given`, finished by runFlashBatch), or for a single flash its own
 * batch of one. Every flash batch row is written here or by runFlashBatch.
 */
export async function batchOf(
  tx: Repos,
  given: number | undefined,
  at: { sourceName: string; format: string | null; operator: string },
): Promise<FlashBatchOf> {
  if (given !== undefined) return { id: given, done: async () => {} };
  const { id } = await tx.batches.create({ kind: 'flash', ...at });
  return {
    id,
    done: async (outcome) => {
      const flashed = outcome === 'flashed';
      await tx.batches.finish(
        id,
        { imported: flashed ? 1 : 0, skipped: 0, failed: flashed ? 0 : 1 },
        flashed ? 'done' : 'aborted',
      );
    },
  };
}

/** Codes a flash refuses with when the store already holds the token's seed. */
const SEED_PRESENT = new Set(['seed-present', 'profile-has-seed']);

export function cancelledError(serial: string): UsageError {
  return new UsageError(`flash of ${serial} cancelled by the operator; nothing was written`, 'cancelled');
}

function removal(t: ApduTransport): Promise<void> {
  return new Promise<void>((resolve) => {
    const off = t.onRemoved(() => {
      off();
      resolve();
    });
    if (!t.isPresent()) resolve();
  });
}

class BatchRun<T extends FlashedToken> {
  readonly report: FlashBatchReport<T>;
  constructor(batch: number) {
    this.report = {
      batch,
      flashed: [],
      skipped: [],
      failed: [],
      cancelled: [],
      counts: { flashed: 0, skipped: 0, failed: 0, cancelled: 0 },
      tokens: [],
      stopped: false,
    };
  }
  get handled(): number {
    return this.report.tokens.length;
  }
  record(entry: BatchTokenEntry, flashed?: T): BatchTokenEntry {
    const r = this.report;
    r.tokens.push(entry);
    r.counts[entry.outcome]++;
    if (flashed) r.flashed.push(flashed);
    else if (entry.outcome === 'skipped')
      r.skipped.push({ index: entry.index, serial: entry.serial, reason: 'in the store with a seed' });
    else if (entry.outcome === 'cancelled')
      r.cancelled.push({ index: entry.index, serial: entry.serial, reason: entry.message });
    else
      r.failed.push({
        index: entry.index,
        serial: entry.serial,
        error: entry.code ?? 'failure',
        message: entry.message,
      });
    return entry;
  }
}

/** One token: flash it and sort the outcome by the rules above. */
async function flashOneToken<T extends FlashedToken>(
  store: Store,
  transport: ApduTransport,
  flasher: TokenFlasher,
  run: BatchRun<T>,
  opts: FlashBatchOptions,
  user: string | undefined,
): Promise<BatchTokenEntry> {
  const index = run.handled + 1;
  let identified: string | null = null;
  const confirm = async (serial: string, label: string) => {
    identified = serial;
    // A stop that came before the write: the token on the reader is cancelled, not written.
    if (opts.stop?.requested) return false;
    return opts.confirm ? opts.confirm(serial, label) : true;
  };
  try {
    const r = (await flasher.flash(store, transport, {
      batchId: run.report.batch,
      user,
      confirm,
      onStep: (text) => opts.onEvent?.({ type: 'step', index, text }),
    })) as T;
    return run.record(
      { index, outcome: 'flashed', serial: r.serial, message: `flashed ${r.serial}`, user: r.token.user },
      r,
    );
  } catch (e) {
    if (!(e instanceof TokensmithError)) throw e;
    // Once identified, the token is named by its serial (a pulled card's error names only its reader).
    const serial = identified ?? (typeof e.where === 'string' ? e.where : null);
    const outcome: FlashOutcome = SEED_PRESENT.has(e.code)
      ? 'skipped'
      : e.code === 'cancelled'
        ? 'cancelled'
        : 'failed';
    return run.record({ index, outcome, serial, code: e.code, message: e.message });
  }
}

/** The next token, or null when the operator stopped first (a token that comes later is closed). */
async function nextOrStop(
  source: TokenSource,
  index: number,
  stop: BatchStop | undefined,
): Promise<ApduTransport | null> {
  if (!stop) return source.next(index);
  if (stop.requested) return null;
  const pending = source.next(index);
  const t = await Promise.race([pending, stop.wait().then(() => null)]);
  if (t === null)
    pending
      .then(
        (late) => late.close(),
        () => undefined,
      )
      .catch(() => undefined);
  return t;
}

/** Runs a batch: one record, each token sorted as flashed, skipped, failed or cancelled, the report. */
export async function runFlashBatch<T extends FlashedToken = FlashedToken>(
  store: Store,
  source: TokenSource,
  flasher: TokenFlasher,
  opts: FlashBatchOptions,
): Promise<FlashBatchReport<T>> {
  const created = await store.batches.create({
    kind: 'flash',
    sourceName: opts.sourceName,
    format: flasher.format,
    operator: store.operator,
  });
  const run = new BatchRun<T>(created.id);
  const r = run.report;
  const usersLeft = () => opts.users === undefined || r.flashed.length < opts.users.length;
  try {
    while ((opts.count === null || run.handled < opts.count) && usersLeft()) {
      opts.onEvent?.({ type: 'waiting', index: run.handled + 1 });
      let transport: ApduTransport | null;
      try {
        transport = await nextOrStop(source, run.handled, opts.stop);
      } catch (e) {
        // No token in time ends a run without a count, or one that has begun; a first token that never came is an error.
        if (e instanceof TokensmithError && e.code === 'no-token' && (opts.count === null || run.handled > 0)) break;
        throw e;
      }
      if (!transport) break;
      try {
        const each = withAfterFlash(flasher, opts.afterFlash);
        const entry = await flashOneToken(store, transport, each, run, opts, opts.users?.[r.flashed.length]);
        const result = entry.outcome === 'flashed' ? r.flashed[r.flashed.length - 1] : undefined;
        opts.onEvent?.({ type: 'token', entry, counts: { ...r.counts }, ...(result ? { result } : {}) });
        const last =
          (opts.count !== null && run.handled >= opts.count) || !usersLeft() || Boolean(opts.stop?.requested);
        if (!last && transport.isPresent()) {
          opts.onEvent?.({ type: 'take-off', index: entry.index, reader: transport.readerName });
          const gone = (opts.awaitRemoval ?? removal)(transport);
          await (opts.stop ? Promise.race([gone, opts.stop.wait()]) : gone);
        }
      } finally {
        await transport.close().catch(() => undefined);
      }
    }
  } finally {
    r.stopped = Boolean(opts.stop?.requested);
    await finishBatch(store, flasher, r);
  }
  return r;
}

async function finishBatch(store: Store, flasher: TokenFlasher, r: FlashBatchReport): Promise<void> {
  const c = r.counts;
  await store.transaction(async (tx) => {
    await tx.batches.finish(
      r.batch,
      { imported: c.flashed, skipped: c.skipped + c.cancelled, failed: c.failed },
      c.flashed + c.skipped + c.cancelled > 0 ? 'done' : 'aborted',
    );
    await tx.audit.append({
      action: 'flash.batch',
      subject: `batch:${r.batch}`,
      details: { format: flasher.format, ...c, stopped: r.stopped },
    });
  });
}
