/**
 * The import service: detect the format, stream the file through its parser,
 * and write the tokens, the batch and its audit row in one transaction, or
 * nothing at all. Every bad record is reported (file:line, key package,
 * serial, why), not just the first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { DataError, NotFoundError, UsageError } from '../core/errors.js';
import { parseAlgorithm, parseTokenType, validateSpec } from '../core/spec.js';
import type { Repos, Store } from '../store/types.js';
import { detectFormat, readHead, refuseNonText } from './detect.js';
import { batchParserFor } from './formats.js';
import { withDeviceDefaults, type DeviceDefaults } from './device-fill.js';
import { IMPORT_FORMATS, type ImportFormat, type ParseContext, type ParseItem, type SpecDefaults } from './types.js';
import { parseInWorker, workerAvailable, type WorkerParse } from './threaded.js';
import { BatchWriter, type OnDuplicate } from './writer.js';

/** Below this size a worker thread costs more than it saves. */
const WORKER_MIN_BYTES = 2 * 1024 * 1024;

export interface ImportOptions {
  file: string;
  format?: ImportFormat | 'auto';
  password?: string;
  /** Pre-shared transport key (PSKC). */
  key?: Buffer;
  /** Asks for the password of an encrypted file; absent when no one can answer. */
  askPassword?: () => Promise<string>;
  /** Parse on a worker thread whatever the file's size: a server's request thread must never parse (station uploads). */
  parseOffThread?: boolean;
  resource?: string;
  onDuplicate?: OnDuplicate;
  /** `--type/--algorithm/--digits/--period`: for files that do not carry them (checked with parseSpecDefaults). */
  defaults?: SpecDefaults;
  /** `--manufacturer/--model`: for files that do not name them (checked with parseDeviceDefaults). */
  device?: DeviceDefaults;
  dryRun?: boolean;
  onProgress?: (p: { bytesRead: number; totalBytes: number; records: number }) => void;
  /** Things worth saying that are not errors: skipped PIN keys, repeats, a file seen before. */
  onNote?: (message: string) => void;
}

export interface ImportError {
  where: string;
  message: string;
}

/** The contract's JSON, plus what people are told. */
export interface ImportResult {
  batch: number | null;
  imported: number;
  skipped: number;
  failed: number;
  errors: ImportError[];
}

export interface ImportSummary extends ImportResult {
  format: ImportFormat;
  sha256: string;
  file: string;
  updated: number;
  dryRun: boolean;
  /** Earlier batches of the very same file (same SHA-256). */
  seenBefore: { batch: number; at: string }[];
  /** The file was parsed on a worker thread. */
  parsedOffThread?: boolean;
}

/** The import found bad records: nothing was written; the report lists each. */
export class ImportFailedError extends DataError {
  constructor(readonly report: ImportSummary) {
    const first = report.errors[0];
    super(
      `${report.file}: ${report.failed} record${report.failed === 1 ? '' : 's'} cannot be imported, so nothing was imported` +
        (first ? `; first: ${first.where}: ${first.message}` : ''),
      {
        code: 'import-failed',
        where: first?.where,
      },
    );
  }
}

/** At most this many problems are kept in the report (the count stays exact). */
const MAX_REPORTED_ERRORS = 10_000;

/** The counts one run of the import's transaction arrived at. */
type ImportCounts = Pick<ImportSummary, 'batch' | 'imported' | 'skipped' | 'failed' | 'errors' | 'updated'>;

/** Thrown to roll the import back (bad records, a dry run); carries the counts of the attempt that decided it. */
class Rollback extends Error {
  constructor(readonly counts: ImportCounts) {
    super('rolled back');
  }
}

/** "seeds.xml:42 (key package 3) serial TS0001": every place a person needs to find the record. */
function withSerial(where: string, serial: string | undefined): string {
  return serial && !where.includes(serial) ? `${where} serial ${serial}` : where;
}

export function parseFormat(input: string | undefined): ImportFormat | 'auto' {
  const f = (input ?? 'auto').trim().toLowerCase();
  if (f === 'auto' || (IMPORT_FORMATS as readonly string[]).includes(f)) return f as ImportFormat | 'auto';
  throw new UsageError(`--format: unknown format '${input}'; use auto, ${IMPORT_FORMATS.join(', ')}`);
}

/** Checks `--type/--algorithm/--digits/--period` (exit 2 naming the flag); undefined where not given. */
export function parseSpecDefaults(flags: {
  type?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
}): SpecDefaults {
  const check = <T>(flag: string, value: string | undefined, parse: (v: string) => T): T | undefined => {
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      throw new UsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  return {
    type: check('type', flags.type, (v) => parseTokenType(v)),
    algorithm: check('algorithm', flags.algorithm, (v) => parseAlgorithm(v)),
    digits: check('digits', flags.digits, (v) => validateSpec({ digits: v }).digits),
    period: check('period', flags.period, (v) => validateSpec({ period: v }).period),
  };
}

export function parseOnDuplicate(input: string | undefined): OnDuplicate {
  const v = (input ?? 'fail').trim().toLowerCase();
  if (v === 'fail' || v === 'skip' || v === 'update') return v;
  throw new UsageError(`--on-duplicate: '${input}' is not fail, skip or update`);
}

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The file's name, its format (given or detected from its first bytes) and the --type/--algorithm/... defaults that apply to it. */
async function formatOf(
  opts: ImportOptions,
): Promise<{ fileName: string; format: ImportFormat; defaults: ImportOptions['defaults'] }> {
  const fileName = basename(opts.file);
  const head = await readHead(opts.file);
  refuseNonText(head, fileName);
  const format = opts.format && opts.format !== 'auto' ? opts.format : detectFormat(head, fileName);
  const defaults =
    opts.defaults && Object.values(opts.defaults).some((v) => v !== undefined) ? opts.defaults : undefined;
  // PSKC names type, hash, length and step in every key package: the flags have nothing to fill there.
  if (defaults && format === 'pskc')
    throw new UsageError(
      `${fileName} is PSKC, which carries type, algorithm, digits and period itself: drop --type/--algorithm/--digits/--period`,
    );
  return { fileName, format, defaults };
}

/** Feeds every parsed item to the writer (records counted for the progress line), then writes what is left. */
async function drainInto(
  batches: AsyncIterable<ParseItem[]>,
  writer: BatchWriter,
  counts: { skipped: number },
  addError: (where: string, message: string) => void,
  onRecord: () => void,
  onNote?: (m: string) => void,
): Promise<void> {
  try {
    for await (const items of batches) {
      for (const item of items) {
        if (item.record) onRecord();
        await takeItem(item, writer, counts, addError, onNote);
      }
    }
    await writer.flush();
  } finally {
    writer.discard();
  }
}

export async function importSeedFile(store: Store, opts: ImportOptions): Promise<ImportSummary> {
  const { fileName, format, defaults } = await formatOf(opts);
  const totalBytes = (await stat(opts.file)).size;
  let records = 0;
  const ctx: ParseContext = {
    fileName,
    password: opts.password,
    key: opts.key,
    askPassword: opts.askPassword,
    defaults,
    onBytes: (bytesRead) => opts.onProgress?.({ bytesRead, totalBytes, records }),
  };
  const threaded = parseOffThread(opts, totalBytes);
  // Started before the file is hashed, so its reading ahead overlaps with the hash; stopped below if not used.
  let early: WorkerParse | null = threaded ? parseInWorker(format, opts.file, ctx) : null;
  try {
    const onDuplicate = opts.onDuplicate ?? 'fail';
    const sha256 = await sha256OfFile(opts.file);

    const seenBefore = await earlierImportsOf(store, sha256, fileName, onDuplicate, opts.onNote);
    const resourceId = opts.resource ? await resourceIdOf(store, opts.resource) : null;

    const summary: ImportSummary = {
      batch: null,
      imported: 0,
      skipped: 0,
      failed: 0,
      errors: [],
      format,
      sha256,
      file: fileName,
      updated: 0,
      dryRun: Boolean(opts.dryRun),
      seenBefore,
    };
    if (threaded) summary.parsedOffThread = true;
    try {
      // The counts are the function's value (or the Rollback's): a backend may run it again after a deadlock or serialization failure.
      const counted = await store.transaction(async (tx) => {
        const attempt: ImportCounts = { batch: null, imported: 0, skipped: 0, failed: 0, errors: [], updated: 0 };
        const addError = (where: string, message: string) => {
          attempt.failed++;
          if (attempt.errors.length < MAX_REPORTED_ERRORS) attempt.errors.push({ where, message });
        };
        records = 0;
        const storeHadTokens = (await tx.tokens.count()) > 0;
        const batch = await tx.batches.create({
          kind: 'import',
          sourceName: fileName,
          sourceSha256: sha256,
          format,
          operator: store.operator,
        });
        const writer = new BatchWriter(
          tx,
          batch.id,
          resourceId,
          onDuplicate,
          {
            problem: (where, message, serial) => addError(withSerial(where, serial), message),
            skip: (where, message) => opts.onNote?.(`${where}: ${message}`),
          },
          storeHadTokens,
          format !== 'pskc',
        );
        // A backend that runs this body again needs a fresh parse: the early worker serves the first attempt only.
        const started = early;
        early = null;
        // Items come a batch at a time, from the worker or from the parser here (loaded only then).
        const parsed = threaded
          ? (started ?? parseInWorker(format, opts.file, ctx)).batches()
          : (await batchParserFor(format))(opts.file, ctx);
        const batches = withDeviceDefaults(parsed, opts.device);
        await drainInto(batches, writer, attempt, addError, () => records++, opts.onNote);
        attempt.imported = writer.imported + writer.updated;
        attempt.updated = writer.updated;
        attempt.skipped += writer.skipped;
        if (attempt.failed > 0) {
          attempt.imported = 0;
          throw new Rollback(attempt);
        }
        if (attempt.imported + attempt.skipped === 0) {
          throw new DataError(`${fileName}: the file holds no token tokensmith can import`, { code: 'empty-file' });
        }
        await finishBatch(tx, batch.id, { ...summary, ...attempt }, onDuplicate, opts.resource);
        if (opts.dryRun) throw new Rollback(attempt);
        attempt.batch = batch.id;
        return attempt;
      });
      Object.assign(summary, counted);
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
      Object.assign(summary, err.counts);
    }
    if (summary.failed > 0) throw new ImportFailedError(summary);
    return summary;
  } finally {
    await early?.cancel();
  }
}

/**
 * Whether to parse on a worker thread: a large file is read, decrypted and checked there while this thread seals and writes.
 * A password prompt needs this thread, so a file that may need one is read here; with one CPU a second thread only adds its own costs.
 */
function parseOffThread(opts: ImportOptions, totalBytes: number): boolean {
  if (opts.parseOffThread === true && !opts.askPassword && workerAvailable()) return true;
  return (
    totalBytes >= WORKER_MIN_BYTES &&
    (opts.password !== undefined || opts.key !== undefined || !opts.askPassword) &&
    availableParallelism() > 1 &&
    workerAvailable()
  );
}

/** Marks the batch done and writes its audit row (file, hash, counts, duplicate mode, Resource). */
async function finishBatch(
  tx: Repos,
  batchId: number,
  summary: ImportSummary,
  onDuplicate: OnDuplicate,
  resource: string | undefined,
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
      resource: resource ?? null,
    },
  });
}

/** Earlier finished imports of the same bytes: refused under --on-duplicate fail, a note otherwise. */
async function earlierImportsOf(
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

async function resourceIdOf(store: Store, name: string): Promise<number> {
  const r = await store.resources.findByName(name);
  if (!r) throw new NotFoundError(`no resource named '${name}' (create it with: tokensmith resource create ${name})`);
  return r.id;
}

/** One parsed item: a record goes to the writer, a problem to the report, a skip to the notes. */
async function takeItem(
  item: ParseItem,
  writer: BatchWriter,
  counts: { skipped: number },
  addError: (where: string, message: string) => void,
  onNote?: (m: string) => void,
): Promise<void> {
  if (item.record) {
    // Written even after a failure (then rolled back), so repeats and conflicts further on are reported too.
    if (writer.add(item.record)) await writer.flush();
  } else if (item.problem) {
    addError(withSerial(item.problem.where, item.problem.serial), item.problem.message);
  } else {
    counts.skipped++;
    onNote?.(`${item.skip.where}: ${item.skip.message}`);
  }
}

/** The contract's JSON object: exactly these keys. */
export function importJson(s: ImportResult): ImportResult {
  return { batch: s.batch, imported: s.imported, skipped: s.skipped, failed: s.failed, errors: s.errors };
}
