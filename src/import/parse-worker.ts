/**
 * Runs a seed-file parser on a worker thread, so reading, decrypting and
 * checking one part of a large file overlaps with sealing and writing the
 * part before it on the main thread. Records travel in batches; the main
 * thread hands out credits, so at most a few batches are ever in flight and
 * memory stays flat. Records travel as columns (RecordColumns).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { batchParserFor } from './formats/index.js';
import type { ImportFormat, ParseItem, SeedRecord, SpecDefaults } from './types.js';

export interface WorkerInput {
  format: ImportFormat;
  file: string;
  fileName: string;
  password?: string;
  key?: Uint8Array;
  defaults?: SpecDefaults;
  allowExpired?: boolean;
}

/**
 * A batch of records as columns: one array per field, the attributes as JSON,
 * the seeds as views of one transferred buffer. Cloning 500 small objects
 * field by field cost more than reading them; arrays of strings and numbers
 * cross the thread boundary almost as fast as copying memory.
 */
export interface RecordColumns {
  serial: string[];
  manufacturer: string[];
  model: (string | null)[];
  type: SeedRecord['type'][];
  algorithm: SeedRecord['algorithm'][];
  digits: number[];
  period: number[];
  counter: number[];
  driftSteps: number[];
  attributes: string[];
  /** t0, checkDigit, counterExact as JSON where a record has any, else null. */
  codeFields: (string | null)[];
  where: string[];
  seeds: ArrayBuffer;
  /** Where each seed ends in `seeds`. */
  seedEnds: number[];
}

/** Items that are not records (problems, skips), with the number of records that come before each. */
export interface OtherItem {
  after: number;
  item: ParseItem;
}

export type WorkerMessage =
  | { type: 'items'; records: RecordColumns; others: OtherItem[]; bytesRead: number }
  | { type: 'error'; message: string; code: string; where?: string; exitCode: number; data: boolean }
  | { type: 'end'; bytesRead: number };

export const BATCH = 500;
export const CREDITS = 4;

/** The records as columns, their seeds copied into one buffer to transfer and wiped where they were. */
function toColumns(records: SeedRecord[]): RecordColumns {
  let size = 0;
  for (const r of records) size += r.seed.length;
  const seeds = new ArrayBuffer(size);
  const bytes = new Uint8Array(seeds);
  const cols: RecordColumns = {
    serial: [],
    manufacturer: [],
    model: [],
    type: [],
    algorithm: [],
    digits: [],
    period: [],
    counter: [],
    driftSteps: [],
    attributes: [],
    codeFields: [],
    where: [],
    seeds,
    seedEnds: [],
  };
  let offset = 0;
  for (const r of records) {
    cols.serial.push(r.serial);
    cols.manufacturer.push(r.manufacturer);
    cols.model.push(r.model);
    cols.type.push(r.type);
    cols.algorithm.push(r.algorithm);
    cols.digits.push(r.digits);
    cols.period.push(r.period);
    cols.counter.push(r.counter);
    cols.driftSteps.push(r.driftSteps);
    cols.attributes.push(JSON.stringify(r.attributes));
    cols.codeFields.push(
      r.t0 || r.checkDigit || r.counterExact !== undefined
        ? JSON.stringify({ t0: r.t0, checkDigit: r.checkDigit, counterExact: r.counterExact })
        : null,
    );
    cols.where.push(r.where);
    bytes.set(r.seed, offset);
    offset += r.seed.length;
    cols.seedEnds.push(offset);
    r.seed.fill(0);
  }
  return cols;
}

/** The main thread's credits: a batch is sent only when it has one, so at most CREDITS batches are in flight. */
function creditsFrom(port: MessagePort): () => Promise<void> {
  let credits = CREDITS;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    credits++;
    wake?.();
    wake = null;
  });
  return async () => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
  };
}

/** A failure as a message: the main thread rebuilds the error with its code and exit code. */
function errorMessage(err: unknown): WorkerMessage {
  const e = err as { message?: string; code?: string; where?: string; exitCode?: number };
  return {
    type: 'error',
    message: e.message ?? String(err),
    code: e.code ?? 'failure',
    where: e.where,
    exitCode: e.exitCode ?? 1,
    data: e.exitCode === 4,
  };
}

async function run(): Promise<void> {
  const port = parentPort!;
  const input = workerData as WorkerInput;
  const credit = creditsFrom(port);
  let bytesRead = 0;
  let records: SeedRecord[] = [];
  let others: OtherItem[] = [];
  const send = async () => {
    await credit();
    const cols = toColumns(records);
    port.postMessage({ type: 'items', records: cols, others, bytesRead } satisfies WorkerMessage, [cols.seeds]);
    records = [];
    others = [];
  };
  try {
    const parse = await batchParserFor(input.format);
    const ctx = {
      fileName: input.fileName,
      password: input.password,
      key: input.key ? Buffer.from(input.key) : undefined,
      defaults: input.defaults,
      allowExpired: input.allowExpired,
      onBytes: (n: number) => (bytesRead = n),
    };
    for await (const items of parse(input.file, ctx)) {
      for (const item of items) {
        if (item.record) records.push(item.record);
        else others.push({ after: records.length, item });
      }
      if (records.length + others.length >= BATCH) await send();
    }
    if (records.length + others.length > 0) await send();
    port.postMessage({ type: 'end', bytesRead } satisfies WorkerMessage);
  } catch (err) {
    port.postMessage(errorMessage(err));
  }
  port.close();
}

if (parentPort) void run();
