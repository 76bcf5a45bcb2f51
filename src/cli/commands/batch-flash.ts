/**
 * `device flash --batch` on the terminal: the flash-batch service's events as
 * lines on stderr, its report on stdout (JSON with --json), exit 3 when a
 * token failed. device.ts gives it the tokens (one PC/SC context) and the
 * stop (Ctrl-C); tests give it simulated ones.
 */
import { TokensmithError } from '../../core/errors.js';
import {
  runFlashBatch,
  type BatchCounts,
  type BatchEvent,
  type BatchStop,
  type FlashBatchReport,
  type FlashedToken,
  type TokenFlasher,
  type TokenSource,
} from '../../provision/flash-batch.js';
import type { Store } from '../../store/types.js';
import type { Output } from '../context.js';

export interface CliBatchOptions {
  count: number | null;
  users?: string[];
  stop: BatchStop;
  /** Asked per token in an interactive run without --yes. */
  confirm?: (serial: string, label: string) => Promise<boolean>;
  /** Each event as well (tests take a simulated card off on 'take-off'). */
  onEvent?: (e: BatchEvent) => void;
}

function countsText(c: BatchCounts): string {
  return `[done ${c.flashed} / failed ${c.failed} / skipped ${c.skipped}${c.cancelled ? ` / cancelled ${c.cancelled}` : ''}]`;
}

type Described = FlashedToken & { product?: string | null };

/** One line on stderr per event a person needs to see. */
function eventLine(e: BatchEvent): string | null {
  if (e.type === 'take-off') return 'take the token off the reader';
  if (e.type !== 'token') return null;
  const { entry } = e;
  const f = e.result as Described | undefined;
  const what =
    entry.outcome === 'flashed'
      ? `flashed ${entry.serial}${f ? ` (${f.product ?? f.model})` : ''}${entry.user ? `, assigned to ${entry.user}` : ''}`
      : entry.outcome === 'skipped'
        ? `skipped ${entry.serial ?? ''} (in the store with a seed; --force flashes it)`
        : entry.outcome === 'cancelled'
          ? `cancelled ${entry.serial ?? ''} (nothing written)`
          : `FAILED: ${entry.message}`;
  return `#${entry.index}: ${what}  ${countsText(e.counts)}`;
}

/** With --entra-activate: where the token stands in Entra, and why when it is not active. */
function entraOf(f: Described): string {
  const e = (f as { entra?: { state: string; problem: string | null } }).entra;
  return e ? `, Entra ${e.state}${e.problem ? ` (${e.problem})` : ''}` : '';
}

export function summaryText(r: FlashBatchReport<Described>): string {
  const c = r.counts;
  return [
    `batch ${r.batch}${r.stopped ? ' (stopped by Ctrl-C)' : ''}: ${c.flashed} flashed, ${c.skipped} skipped, ${c.failed} failed, ${c.cancelled} cancelled`,
    ...r.flashed.map((f) => `  flashed    ${f.serial}${f.token.user ? ` -> ${f.token.user}` : ''}${entraOf(f)}`),
    ...r.skipped.map((f) => `  skipped    ${f.serial ?? `#${f.index}`} (${f.reason})`),
    ...r.cancelled.map((f) => `  cancelled  ${f.serial ?? `#${f.index}`}`),
    ...r.failed.map((f) => `  failed     ${f.serial ?? `#${f.index}`}: ${f.message}`),
  ].join('\n');
}

/** Runs the batch, prints it, and exits 3 (after printing) when any token failed. */
export async function runCliBatch(
  store: Store,
  source: TokenSource,
  flasher: TokenFlasher,
  o: CliBatchOptions,
  out: Output,
): Promise<FlashBatchReport<Described>> {
  const r = await runFlashBatch<Described>(store, source, flasher, {
    count: o.count,
    users: o.users,
    sourceName: 'device flash --batch',
    stop: o.stop,
    confirm: o.confirm,
    onEvent: (e) => {
      const line = eventLine(e);
      if (line) out.info(line);
      o.onEvent?.(e);
    },
  });
  out.result(r, () => summaryText(r));
  if (r.failed.length > 0) {
    throw new TokensmithError(
      `batch ${r.batch}: ${r.failed.length} token(s) failed: ${r.failed.map((f) => `#${f.index} ${f.serial ?? ''} ${f.error}`).join('; ')}`,
      {
        exitCode: 3,
        code: 'batch-partly-failed',
        resultPrinted: true,
      },
    );
  }
  return r;
}
