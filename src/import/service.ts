/**
 * The import service: detect the format, stream the file through its parser,
 * and write the tokens, the batch and its audit row in one transaction, or
 * nothing at all. Every bad record is reported (file:line, key package,
 * serial, why), not just the first.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { availableParallelism } from 'node:os';
import { DataError, UsageError } from '../core/errors.js';
import type { Repos, Store } from '../store/types.js';
import { detectFormat, readHead, refuseNonText } from './detect.js';
import { batchParserFor } from './formats/index.js';
import { withDeviceDefaults, type DeviceDefaults } from './device-fill.js';
import { type ImportFormat, type ParseContext, type ParseItem, type SeedRecord, type SpecDefaults } from './types.js';
import { openSource, wipeSource, type SeedSource } from './source.js';
import { parseInWorker, workerAvailable, type WorkerParse } from './threaded.js';
import { BatchWriter, type OnDuplicate } from './writer.js';
import { earlierImportsOf, finishBatch, resourceIdOf } from './batch-records.js';

export { parseFormat, parseOnDuplicate, parseSpecDefaults } from './flags.js';

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
  /** `--allow-expired`: import keys past their Policy ExpiryDate (recorded in the audit row). */
  allowExpired?: boolean;
  /** Where `-` reads from (standard input unless a test gives another stream). */
  stdin?: NodeJS.ReadableStream;
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
  /** Records whose seed is under 16 bytes (each was warned about). */
  shortSeeds: number;
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
type ImportCounts = Pick<
  ImportSummary,
  'batch' | 'imported' | 'skipped' | 'failed' | 'errors' | 'updated' | 'shortSeeds'
>;

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

export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** The SHA-256 of the source's bytes as they arrived (a UTF-16 file's own bytes, not their UTF-8 form). */
async function sha256Of(source: SeedSource): Promise<string> {
  if (source.data) return createHash('sha256').update(source.data).digest('hex');
  return sha256OfFile(source.path);
}

/** The file's name, its format (given or detected from its first bytes) and the --type/--algorithm/... defaults that apply to it. */
async function formatOf(
  opts: ImportOptions,
  source: SeedSource,
): Promise<{ fileName: string; format: ImportFormat; defaults: ImportOptions['defaults'] }> {
  const fileName = source.name;
  const head = await readHead(source);
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
  counts: { skipped: number; shortSeeds: number },
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

/** What one import works from: the bytes, their format and hash, and the parser's context. */
interface ImportPlan {
  source: SeedSource;
  format: ImportFormat;
  sha256: string;
  ctx: ParseContext;
  threaded: boolean;
  /** Records parsed so far in this attempt (the progress line's count). */
  progress: { records: number };
}

export async function importSeedFile(store: Store, opts: ImportOptions): Promise<ImportSummary> {
  const source = await openSource(opts.file, opts.stdin);
  const early: { parse: WorkerParse | null } = { parse: null };
  try {
    const { fileName, format, defaults } = await formatOf(opts, source);
    const progress = { records: 0 };
    const ctx: ParseContext = {
      fileName,
      password: opts.password,
      key: opts.key,
      askPassword: opts.askPassword,
      defaults,
      data: source.data,
      allowExpired: opts.allowExpired,
      onBytes: (bytesRead) => opts.onProgress?.({ bytesRead, totalBytes: source.size, records: progress.records }),
    };
    // A pipe's bytes are in this thread's memory: parsed here rather than copied to a worker.
    const threaded = !source.data && parseOffThread(opts, source.size);
    // Started before the file is hashed, so its reading ahead overlaps with the hash; stopped below if not used.
    if (threaded) early.parse = parseInWorker(format, source.path, ctx);
    const plan: ImportPlan = { source, format, sha256: await sha256Of(source), ctx, threaded, progress };
    const onDuplicate = opts.onDuplicate ?? 'fail';
    const seenBefore = await earlierImportsOf(store, plan.sha256, fileName, onDuplicate, opts.onNote);
    const resourceId = opts.resource ? await resourceIdOf(store, opts.resource) : null;
    const summary: ImportSummary = {
      ...emptyCounts(),
      format,
      sha256: plan.sha256,
      file: fileName,
      dryRun: Boolean(opts.dryRun),
      seenBefore,
    };
    if (threaded) summary.parsedOffThread = true;
    Object.assign(summary, await countsOfTransaction(store, opts, plan, summary, resourceId, early));
    if (summary.failed > 0) throw new ImportFailedError(summary);
    if (summary.imported === 0) opts.onNote?.(leftOutNote(summary));
    return summary;
  } finally {
    await early.parse?.cancel();
    wipeSource(source);
  }
}

/** Nothing imported, though the file held tokens: every one was left out (skipped), and so no batch is recorded. */
function leftOutNote(s: ImportSummary): string {
  return `${s.file}: every record was left out (${s.skipped} skipped, see above): nothing imported, and no batch was recorded`;
}

function emptyCounts(): ImportCounts {
  return { batch: null, imported: 0, skipped: 0, failed: 0, errors: [], updated: 0, shortSeeds: 0 };
}

/** Runs the import's transaction: its counts, whether it committed or rolled back (bad records, a dry run, nothing to write). */
async function countsOfTransaction(
  store: Store,
  opts: ImportOptions,
  plan: ImportPlan,
  summary: ImportSummary,
  resourceId: number | null,
  early: { parse: WorkerParse | null },
): Promise<ImportCounts> {
  try {
    // The counts are the function's value (or the Rollback's): a backend may run it again after a deadlock or serialization failure.
    return await store.transaction((tx) => importAttempt(tx, store.operator, opts, plan, summary, resourceId, early));
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
    return err.counts;
  }
}

/** One run of the transaction's body: a batch, every item through the writer, then the batch finished, or a Rollback. */
async function importAttempt(
  tx: Repos,
  operator: string,
  opts: ImportOptions,
  plan: ImportPlan,
  summary: ImportSummary,
  resourceId: number | null,
  early: { parse: WorkerParse | null },
): Promise<ImportCounts> {
  const { format, ctx } = plan;
  const onDuplicate = opts.onDuplicate ?? 'fail';
  const attempt = emptyCounts();
  const addError = (where: string, message: string) => {
    attempt.failed++;
    if (attempt.errors.length < MAX_REPORTED_ERRORS) attempt.errors.push({ where, message });
  };
  plan.progress.records = 0;
  const storeHadTokens = (await tx.tokens.count()) > 0;
  const batch = await tx.batches.create({
    kind: 'import',
    sourceName: ctx.fileName,
    sourceSha256: plan.sha256,
    format,
    operator,
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
  const started = early.parse;
  early.parse = null;
  // Items come a batch at a time, from the worker or from the parser here (loaded only then).
  const parsed = plan.threaded
    ? (started ?? parseInWorker(format, plan.source.path, ctx)).batches()
    : (await batchParserFor(format))(plan.source.path, ctx);
  const batches = withDeviceDefaults(parsed, opts.device);
  await drainInto(batches, writer, attempt, addError, () => plan.progress.records++, opts.onNote);
  attempt.imported = writer.imported + writer.updated;
  attempt.updated = writer.updated;
  attempt.skipped += writer.skipped;
  if (attempt.failed > 0) {
    attempt.imported = 0;
    throw new Rollback(attempt);
  }
  if (attempt.imported + attempt.skipped === 0) {
    throw new DataError(`${ctx.fileName}: the file holds no token tokensmith can import`, { code: 'empty-file' });
  }
  // Every record left out: no empty batch in the store or the audit log (the caller says so).
  if (attempt.imported === 0) throw new Rollback(attempt);
  await finishBatch(tx, batch.id, { ...summary, ...attempt }, onDuplicate, opts);
  if (opts.dryRun) throw new Rollback(attempt);
  attempt.batch = batch.id;
  return attempt;
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

/** One parsed item: a record goes to the writer, a problem to the report, a skip to the notes. */
async function takeItem(
  item: ParseItem,
  writer: BatchWriter,
  counts: { skipped: number; shortSeeds: number },
  addError: (where: string, message: string) => void,
  onNote?: (m: string) => void,
): Promise<void> {
  if (item.record) {
    if (item.record.seed.length < SHORT_SEED_BYTES) {
      counts.shortSeeds++;
      onNote?.(shortSeedNote(item.record));
    }
    // Written even after a failure (then rolled back), so repeats and conflicts further on are reported too.
    if (writer.add(item.record)) await writer.flush();
  } else if (item.problem) {
    addError(withSerial(item.problem.where, item.problem.serial), item.problem.message);
  } else {
    counts.skipped++;
    onNote?.(`${item.skip.where}: ${item.skip.message}`);
  }
}

/** RFC 4226 section 4 asks for a shared secret of at least 128 bits. */
const SHORT_SEED_BYTES = 16;

/** A warning, not a refusal: 80-bit secrets are common in authenticator exports; a file cut short shows here too. */
function shortSeedNote(r: SeedRecord): string {
  return (
    `${withSerial(r.where, r.serial)}: warning: the seed is ${r.seed.length} bytes, under the 16 bytes (128 bits) RFC 4226 asks for; ` +
    'imported as it is: if the file may have been cut short, check it against a complete copy'
  );
}

/** The contract's JSON object: exactly these keys. */
export function importJson(s: ImportResult): ImportResult {
  return { batch: s.batch, imported: s.imported, skipped: s.skipped, failed: s.failed, errors: s.errors };
}
