/**
 * The export service: checks the protection asked for against the format,
 * selects the tokens, streams them through the format's writer into a file
 * that appears only when complete, and writes one audit row. The CLI and the
 * web station call `exportTokens`; nothing here prints.
 */
import { readFile } from 'node:fs/promises';
import { DataError, UsageError } from '../core/errors.js';
import type { Store } from '../store/types.js';
import { driftNotCarried } from './drift.js';
import { writeEnrollment } from './enrollment-writer.js';
import { deriveTransportKeys, presharedTransportKeys, type TransportKeys } from './pskc-crypto.js';
import { countSelection, resolveSelection, type Selection } from './select.js';
import { ExportSink } from './sink.js';
import { writerFor, type StreamFormat } from './formats/index.js';
import { eachToken, refuseDayPassword, type StreamResult } from './stream.js';
import {
  EXPORT_FORMATS,
  PLAIN_ONLY_FORMATS,
  type ExportFormat,
  type ExportResult,
  type DriftedToken,
  type ExportToken,
  type SkippedToken,
  codeFieldsRefusal,
} from './types.js';

export interface ExportOptions {
  format: string;
  /** A file path, or "-" for stdout (encrypted PSKC only). */
  output: string;
  resource?: string;
  state?: string;
  serialsFile?: string;
  password?: string;
  passwordFile?: string;
  /** Pre-shared transport key, hex. */
  key?: string;
  keyName?: string;
  plaintext?: boolean;
  cipher?: string;
  mac?: string;
  iterations?: number;
  /** otpauth: a folder for one QR code (PNG) per token. */
  qrDir?: string;
  /** enrollment: include the users' scrypt password hashes. */
  includePasswordHashes?: boolean;
  /** Where "-" writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
}

export interface ExportOutcome extends ExportResult {
  /** Lines for the person at the terminal (warnings, what to choose on import). */
  notes: string[];
}

export function parseExportFormat(input: string): ExportFormat {
  const f = input.trim().toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(f)) return f as ExportFormat;
  throw new UsageError(`--format: unknown format '${input}'; use one of ${EXPORT_FORMATS.join(', ')}`);
}

async function passwordOf(opts: ExportOptions): Promise<string | undefined> {
  if (opts.passwordFile === undefined) return opts.password;
  let text: string;
  try {
    text = await readFile(opts.passwordFile, 'utf8');
  } catch (err) {
    throw new DataError(
      `cannot read the password file ${opts.passwordFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { code: 'password-file' },
    );
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** Decides encryption from the flags and the format; refuses a plaintext export nobody confirmed. */
export async function transportKeysFor(format: ExportFormat, opts: ExportOptions): Promise<TransportKeys | null> {
  const secretGiven = [opts.password !== undefined || opts.passwordFile !== undefined, opts.key !== undefined].filter(
    Boolean,
  ).length;
  if (opts.password !== undefined && opts.passwordFile !== undefined)
    throw new UsageError('give --password or --password-file, not both');
  if (secretGiven > 1) throw new UsageError('give --password (or --password-file) or --key, not both');
  if (PLAIN_ONLY_FORMATS.includes(format)) {
    if (secretGiven)
      throw new UsageError(
        `${format} cannot encrypt seeds; drop --password/--key and confirm with --plaintext, or export --format pskc (encrypted)`,
      );
    if (!opts.plaintext) {
      throw new UsageError(
        `${format} holds the seeds in the clear: add --plaintext to confirm that is wanted, or export --format pskc with --password for an encrypted file`,
        'plaintext-not-confirmed',
      );
    }
    return null;
  }
  if (opts.plaintext) {
    if (secretGiven) throw new UsageError('--plaintext and --password/--key contradict each other: choose one');
    if (opts.cipher || opts.mac || opts.iterations !== undefined)
      throw new UsageError('--cipher, --mac and --iterations apply to encrypted exports only');
    return null;
  }
  if (!secretGiven) {
    throw new UsageError(
      `${format} exports are encrypted: give --password <pw> (or --password-file <f>) or --key <hex>; --plaintext writes the seeds in the clear`,
      'no-export-key',
    );
  }
  if (opts.key !== undefined)
    return presharedTransportKeys({ keyHex: opts.key, cipher: opts.cipher, mac: opts.mac, keyName: opts.keyName });
  return deriveTransportKeys({
    password: (await passwordOf(opts))!,
    iterations: opts.iterations,
    cipher: opts.cipher,
    mac: opts.mac,
  });
}

function nothingExported(format: ExportFormat, sel: Selection, skipped: SkippedToken[]): DataError {
  const list = skipped
    .slice(0, 10)
    .map((s) => `${s.serial}: ${s.reason}`)
    .join('; ');
  return new DataError(
    `no token of ${sel.description} can go into ${format}, so no file was written. Left out: ${list}${skipped.length > 10 ? '; ...' : ''}`,
    { code: 'empty-selection' },
  );
}

/** The format and the protection asked for, checked against each other before anything is read. */
async function checkRequest(opts: ExportOptions): Promise<{ format: ExportFormat; keys: TransportKeys | null }> {
  const format = parseExportFormat(opts.format);
  if (!opts.output) throw new UsageError('-o <file> is required');
  if (format === 'enrollment' && !opts.resource)
    throw new UsageError('an enrollment package is for one Resource: add --resource <name>');
  if (opts.qrDir && format !== 'otpauth') throw new UsageError('--qr applies to --format otpauth only');
  if (opts.includePasswordHashes && format !== 'enrollment')
    throw new UsageError('--include-password-hashes applies to --format enrollment only');
  const keys = await transportKeysFor(format, opts);
  if (opts.output === '-' && !(format === 'pskc' && keys)) {
    throw new UsageError(
      '-o - (stdout) is for encrypted PSKC only; write seeds in the clear, and binary packages, to a file with -o <file>',
    );
  }
  return { format, keys };
}

/** The selection, refused when it holds no token at all. */
async function selectTokens(store: Store, opts: ExportOptions): Promise<Selection> {
  const sel = await resolveSelection(store, {
    resource: opts.resource,
    state: opts.state,
    serialsFile: opts.serialsFile,
  });
  if ((await countSelection(store, sel)) === 0)
    throw new DataError(`no tokens match (${sel.description}); nothing was exported`, { code: 'empty-selection' });
  return sel;
}

interface Written extends StreamResult {
  drifted: DriftedToken[];
}

/** One format's writer over the token stream; tokens whose drift the format cannot carry are named. */
async function writeFormat(
  store: Store,
  format: StreamFormat,
  keys: TransportKeys | null,
  sel: Selection,
  opts: ExportOptions,
  sink: ExportSink,
  notes: string[],
): Promise<Written> {
  const writer = writerFor(format, {
    keys,
    oneResource: sel.resource !== null,
    qrDir: opts.qrDir,
    output: opts.output,
  });
  await sink.write(writer.header());
  const refuse = (t: ExportToken) =>
    refuseDayPassword(t) ??
    (writer.carriesCodeFields ? null : codeFieldsRefusal(t, format)) ??
    writer.refuse?.(t) ??
    null;
  const drifted: DriftedToken[] = [];
  const result = await eachToken(store, sel, refuse, async (t) => {
    await sink.write(await writer.entry(t));
    const d = writer.carriesDrift ? null : driftNotCarried(format, t.token);
    if (d) drifted.push(d);
  });
  await sink.write(writer.footer());
  notes.push(...(writer.notes?.() ?? []));
  return { ...result, drifted };
}

/** Writes the file (or stdout), committing it only when at least one token went in. */
async function writeExport(
  store: Store,
  format: ExportFormat,
  keys: TransportKeys | null,
  sel: Selection,
  opts: ExportOptions,
  notes: string[],
): Promise<Written & { file: string }> {
  const sink =
    opts.output === '-' ? ExportSink.toStream(opts.stdout ?? process.stdout) : await ExportSink.toFile(opts.output);
  try {
    const result =
      format === 'enrollment'
        ? { ...(await writeEnrollment(store, sel, keys, opts, sink)), drifted: [] }
        : await writeFormat(store, format, keys, sel, opts, sink, notes);
    if (result.exported === 0) throw nothingExported(format, sel, result.skipped);
    await sink.commit();
    return { ...result, file: sink.path ?? '-' };
  } catch (err) {
    await sink.abort();
    throw err;
  }
}

/** The export's audit row: what went where, how protected, from which selection; never a seed, password or key. */
async function auditExport(
  store: Store,
  format: ExportFormat,
  keys: TransportKeys | null,
  sel: Selection,
  opts: ExportOptions,
  r: Written & { file: string },
): Promise<void> {
  const protection = keys
    ? {
        cipher: keys.cipher.name,
        mac: keys.mac.name,
        key: keys.source.kind === 'password' ? `pbkdf2 (${keys.source.iterations} iterations)` : 'pre-shared',
      }
    : {};
  await store.transaction(async (tx) => {
    await tx.audit.append({
      action: 'export',
      subject: `export:${format}`,
      details: {
        format,
        file: r.file,
        exported: r.exported,
        skipped: r.skipped.length,
        ...(r.drifted.length ? { drifted: r.drifted.length } : {}),
        encrypted: keys !== null,
        ...protection,
        selection: {
          resource: sel.resource?.name ?? null,
          state: sel.states?.join(',') ?? null,
          serialsFile: opts.serialsFile ?? null,
        },
        ...(format === 'enrollment' ? { passwordHashes: Boolean(opts.includePasswordHashes) } : {}),
      },
    });
  });
}

export async function exportTokens(store: Store, opts: ExportOptions): Promise<ExportOutcome> {
  const { format, keys } = await checkRequest(opts);
  const sel = await selectTokens(store, opts);
  const notes: string[] = [];
  if (!keys && format !== 'usersfile')
    notes.push(
      `${format} file holds ${format === 'enrollment' || format === 'pskc' ? 'plaintext seeds (--plaintext)' : 'the seeds in the clear'}: keep it private and delete it after the import`,
    );
  const r = await writeExport(store, format, keys, sel, opts, notes);
  await auditExport(store, format, keys, sel, opts, r);
  return {
    format,
    file: r.file,
    exported: r.exported,
    skipped: r.skipped,
    drifted: r.drifted,
    encrypted: keys !== null,
    notes,
  };
}
