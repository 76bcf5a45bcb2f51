/**
 * The flash-batch report and its progress events as data: what the batch
 * service (src/provision/flash-batch.ts) produces and the station's socket
 * carries to the page, so transports and the page can name it without
 * importing the provision layer.
 */

/** What every flashed token's result carries over the wire (a family's own result has more). */
export interface FlashedTokenSummary {
  serial: string;
  batch: number;
  model: string;
}

export type FlashOutcome = 'flashed' | 'skipped' | 'failed' | 'cancelled';

export interface BatchCounts {
  flashed: number;
  skipped: number;
  failed: number;
  cancelled: number;
}

export interface BatchTokenEntry {
  index: number;
  outcome: FlashOutcome;
  serial: string | null;
  /** The error code for skipped, failed and cancelled tokens. */
  code?: string;
  message: string;
  user?: string | null;
}

export type BatchEvent<R extends FlashedTokenSummary = FlashedTokenSummary> =
  | { type: 'waiting'; index: number }
  | { type: 'step'; index: number; text: string }
  /** A token's outcome; `result` is the family's flash result when it was flashed. */
  | { type: 'token'; entry: BatchTokenEntry; counts: BatchCounts; result?: R }
  | { type: 'take-off'; index: number; reader: string };

export interface FlashBatchReport<T extends FlashedTokenSummary = FlashedTokenSummary> {
  batch: number;
  flashed: T[];
  skipped: { index: number; serial: string | null; reason: string }[];
  failed: { index: number; serial: string | null; error: string; message: string }[];
  cancelled: { index: number; serial: string | null; reason: string }[];
  counts: BatchCounts;
  /** Every token in order, as the events told them. */
  tokens: BatchTokenEntry[];
  /** Ended by the operator (Ctrl-C, Stop) rather than by the count, the users or an empty reader. */
  stopped: boolean;
}
