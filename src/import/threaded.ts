/**
 * The main-thread side of parse-worker.ts: an async iterator of parse items
 * fed by the worker, with credits for backpressure. Falls back to parsing on
 * this thread when the compiled worker is not there (tests run the sources).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DataError, TokensmithError, type ExitCodeValue } from '../core/errors.js';
import type { OtherItem, RecordColumns, WorkerInput, WorkerMessage } from './parse-worker.js';
import type { ParseContext, ParseItem, ImportFormat, SeedRecord } from './types.js';

const WORKER_URL = new URL('./parse-worker.js', import.meta.url);

export function workerAvailable(): boolean {
  return import.meta.url.endsWith('.js') && existsSync(fileURLToPath(WORKER_URL));
}

/** A parse running on a worker thread: started when made, so it reads ahead while this thread does other work. */
export interface WorkerParse {
  /** The items a batch at a time, as the worker sends them (one iteration only). */
  batches(): AsyncIterable<ParseItem[]>;
  /** Stops the worker; for a parse that is given up before it is read to the end. */
  cancel(): Promise<void>;
}

export function parseInWorker(format: ImportFormat, file: string, ctx: ParseContext): WorkerParse {
  const input: WorkerInput = {
    format,
    file,
    fileName: ctx.fileName,
    password: ctx.password,
    key: ctx.key ? new Uint8Array(ctx.key) : undefined,
    defaults: ctx.defaults,
    allowExpired: ctx.allowExpired,
  };
  // --input-type (node -e) is refused in a worker that runs a file: leave it out of the inherited flags.
  const worker = new Worker(WORKER_URL, {
    workerData: input,
    execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
  });
  const inbox: WorkerMessage[] = [];
  let wake: (() => void) | null = null;
  let crashed: Error | null = null;
  let done = false;
  /** Seeds that arrived but will not be read (cancelled, failed, or late): wiped, not left to the garbage collector. */
  const wipe = (m: WorkerMessage) => {
    if (m.type === 'items') new Uint8Array(m.records.seeds).fill(0);
  };
  const stop = async () => {
    done = true;
    for (const m of inbox.splice(0)) wipe(m);
    await worker.terminate();
  };
  worker.on('message', (m: WorkerMessage) => {
    if (done) return wipe(m);
    inbox.push(m);
    wake?.();
    wake = null;
  });
  worker.on('error', (err) => {
    crashed = err;
    wake?.();
    wake = null;
  });
  worker.on('exit', () => {
    wake?.();
    wake = null;
  });
  async function* batches(): AsyncGenerator<ParseItem[]> {
    try {
      for (;;) {
        while (inbox.length === 0 && !crashed) await new Promise<void>((r) => (wake = r));
        if (crashed) throw crashed;
        const m = inbox.shift()!;
        if (m.type === 'error') {
          if (m.data) throw new DataError(m.message, { code: m.code, where: m.where });
          throw new TokensmithError(m.message, { code: m.code, where: m.where, exitCode: m.exitCode as ExitCodeValue });
        }
        ctx.onBytes?.(m.bytesRead);
        if (m.type === 'end') return;
        worker.postMessage('credit');
        yield [...unpack(m.records, m.others)];
      }
    } finally {
      await stop();
    }
  }
  const gen = batches();
  return { batches: () => gen, cancel: stop };
}

/** The items of a batch in file order: records rebuilt from their columns, the others between them where they were. */
function* unpack(c: RecordColumns, others: OtherItem[]): Generator<ParseItem> {
  let next = 0;
  let start = 0;
  for (let i = 0; i < c.serial.length; i++) {
    while (next < others.length && others[next]!.after === i) yield others[next++]!.item;
    const end = c.seedEnds[i]!;
    const extra = c.codeFields[i]
      ? (JSON.parse(c.codeFields[i]!) as Pick<SeedRecord, 't0' | 'checkDigit' | 'counterExact'>)
      : {};
    yield {
      record: {
        ...extra,
        serial: c.serial[i]!,
        manufacturer: c.manufacturer[i]!,
        model: c.model[i]!,
        type: c.type[i]!,
        algorithm: c.algorithm[i]!,
        digits: c.digits[i]!,
        period: c.period[i]!,
        counter: c.counter[i]!,
        driftSteps: c.driftSteps[i]!,
        seed: Buffer.from(c.seeds, start, end - start),
        attributes: JSON.parse(c.attributes[i]!) as Record<string, unknown>,
        where: c.where[i]!,
      },
    };
    start = end;
  }
  while (next < others.length) yield others[next++]!.item;
}
