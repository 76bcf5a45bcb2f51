/**
 * Runs a seed-file parser on a worker thread, so reading, decrypting and
 * checking one part of a large file overlaps with sealing and writing the
 * part before it on the main thread. Records travel in batches; the main
 * thread hands out credits, so at most a few batches are ever in flight and
 * memory stays flat.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parserFor } from './formats.js';
import type { ImportFormat, ParseItem } from './types.js';

export interface WorkerInput {
  format: ImportFormat;
  file: string;
  fileName: string;
  password?: string;
  key?: Uint8Array;
}

export type WorkerMessage =
  | { type: 'items'; items: ParseItem[]; bytesRead: number }
  | { type: 'error'; message: string; code: string; where?: string; exitCode: number; data: boolean }
  | { type: 'end'; bytesRead: number };

export const BATCH = 500;
export const CREDITS = 4;

async function run(): Promise<void> {
  const port = parentPort!;
  const input = workerData as WorkerInput;
  let credits = CREDITS;
  let wake: (() => void) | null = null;
  port.on('message', () => {
    credits++;
    wake?.();
    wake = null;
  });
  let bytesRead = 0;
  let batch: ParseItem[] = [];
  const send = async () => {
    while (credits === 0) await new Promise<void>((r) => (wake = r));
    credits--;
    // The batch's seeds move as views of one transferred buffer: no copy per seed on either side.
    let size = 0;
    for (const item of batch) if (item.record) size += item.record.seed.length;
    const seeds = new ArrayBuffer(size);
    let offset = 0;
    for (const item of batch) {
      if (!item.record) continue;
      const seed = item.record.seed;
      const view = Buffer.from(seeds, offset, seed.length);
      view.set(seed);
      seed.fill(0);
      item.record.seed = view;
      offset += seed.length;
    }
    port.postMessage({ type: 'items', items: batch, bytesRead } satisfies WorkerMessage, [seeds]);
    batch = [];
  };
  try {
    const parse = await parserFor(input.format);
    const ctx = { fileName: input.fileName, password: input.password, key: input.key ? Buffer.from(input.key) : undefined, onBytes: (n: number) => (bytesRead = n) };
    for await (const item of parse(input.file, ctx)) {
      batch.push(item);
      if (batch.length >= BATCH) await send();
    }
    if (batch.length > 0) await send();
    port.postMessage({ type: 'end', bytesRead } satisfies WorkerMessage);
  } catch (err) {
    const e = err as { message?: string; code?: string; where?: string; exitCode?: number };
    port.postMessage({ type: 'error', message: e.message ?? String(err), code: e.code ?? 'failure', where: e.where, exitCode: e.exitCode ?? 1, data: e.exitCode === 4 } satisfies WorkerMessage);
  }
  port.close();
}

if (parentPort) void run();
