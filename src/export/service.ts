/**
 * The export service: checks the protection asked for against the format,
 * selects the tokens, streams them through the format's writer into a file
 * that appears only when complete, and writes one audit row. The CLI and the
 * web station call `exportTokens`; nothing here prints.
 */
import { readFile } from 'node:fs/promises';
import { DataError, UsageError } from '../core/errors.js';
import { packageVersion } from '../core/version.js';
import type { Store } from '../store/types.js';
import { EntraCsvWriter } from './entra-csv.js';
import {
  enrollmentResource,
  enrollmentUser,
  encodeEnrollmentPackage,
  seedsInfo,
  type EnrollmentContent,
  type EnrollmentToken,
} from './enrollment.js';
import { OathCsvWriter } from './oath-csv.js';
import { YubikeyCsvWriter } from './yubikey-csv.js';
import { OtpauthWriter } from './otpauth.js';
import { ProtectimusCsvWriter } from './protectimus-csv.js';
import { PskcWriter } from './pskc.js';
import { deriveTransportKeys, presharedTransportKeys, type TransportKeys } from './pskc-crypto.js';
import { countSelection, iterateSelection, resolveSelection, TokenContextLookup, type Selection } from './select.js';
import { ExportSink } from './sink.js';
import { ThalesCsvWriter } from './thales-csv.js';
import { UsersFileWriter } from './usersfile.js';
import {
  EXPORT_FORMATS,
  PLAIN_ONLY_FORMATS,
  type ExportFormat,
  type ExportResult,
  type ExportToken,
  type FormatWriter,
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

function writerFor(
  format: Exclude<ExportFormat, 'enrollment'>,
  keys: TransportKeys | null,
  sel: Selection,
  opts: ExportOptions,
): FormatWriter {
  switch (format) {
    case 'pskc':
      return new PskcWriter({ keys, includeUser: true });
    case 'oath-csv':
      return new OathCsvWriter({ withUsers: sel.resource !== null });
    case 'entra-csv':
      return new EntraCsvWriter();
    case 'protectimus-csv':
      return new ProtectimusCsvWriter();
    case 'thales-csv':
      return new ThalesCsvWriter();
    case 'yubikey-csv':
      return new YubikeyCsvWriter();
    case 'otpauth':
      return new OtpauthWriter({ qrDir: opts.qrDir });
    case 'usersfile':
      return new UsersFileWriter(opts.output);
  }
}

/** No export format carries LinOTP's day password (its codes are MD5 over key and date, not OATH): such tokens are left out, said. */
function refuseDayPassword(t: ExportToken): string | null {
  return t.token.type === 'dpw'
    ? 'a LinOTP day password (DPW): its codes are MD5 over the key and the date, which this format cannot describe (it would be read as an OATH token with wrong codes)'
    : null;
}

/** Streams the selection through `onToken`; tokens without a seed or refused by the writer are skipped. */
async function eachToken(
  store: Store,
  sel: Selection,
  refuse: (t: ExportToken) => string | null,
  onToken: (t: ExportToken) => Promise<void>,
): Promise<{ exported: number; skipped: SkippedToken[] }> {
  const lookup = new TokenContextLookup(store);
  const skipped: SkippedToken[] = [];
  let exported = 0;
  for await (const { token, seed, assignment } of iterateSelection(store, sel)) {
    if (!seed) {
      skipped.push({
        serial: token.serial,
        reason: 'no seed in the store (a blank programmable token: flash it first)',
      });
      continue;
    }
    try {
      const ctx = await lookup.of(token, assignment);
      const t: ExportToken = {
        token,
        seed,
        user: ctx.user?.login ?? null,
        userEmail: ctx.user?.email ?? null,
        resource: ctx.resource,
      };
      const reason = refuse(t);
      if (reason) {
        skipped.push({ serial: token.serial, reason });
        continue;
      }
      await onToken(t);
      exported++;
    } finally {
      seed.fill(0);
    }
  }
  return { exported, skipped };
}

function nothingExported(format: ExportFormat, sel: Selection, skipped: SkippedToken[]): DataError {
  const list = skipped
    .slice(0, 10)
    .map((s) => `${s.serial}: ${s.reason}`)
    .join('; ');
  return new DataError(
    `no token of ${sel.description} can go into ${format}, so no file was written. Left out: ${list}${skipped.length > 10 ? '; ...' : ''}`,
    {
      code: 'empty-selection',
    },
  );
}

export async function exportTokens(store: Store, opts: ExportOptions): Promise<ExportOutcome> {
  const format = parseExportFormat(opts.format);
  if (!opts.output) throw new UsageError('-o <file> is required');
  if (format === 'enrollment' && !opts.resource)
    throw new UsageError('an enrollment package is for one Resource: add --resource <name>');
  if (opts.qrDir && format !== 'otpauth') throw new UsageError('--qr applies to --format otpauth only');
  if (opts.includePasswordHashes && format !== 'enrollment')
    throw new UsageError('--include-password-hashes applies to --format enrollment only');
  const toStdout = opts.output === '-';
  const keys = await transportKeysFor(format, opts);
  if (toStdout && !(format === 'pskc' && keys)) {
    throw new UsageError(
      '-o - (stdout) is for encrypted PSKC only; write seeds in the clear, and binary packages, to a file with -o <file>',
    );
  }
  const sel = await resolveSelection(store, {
    resource: opts.resource,
    state: opts.state,
    serialsFile: opts.serialsFile,
  });
  const total = await countSelection(store, sel);
  if (total === 0)
    throw new DataError(`no tokens match (${sel.description}); nothing was exported`, { code: 'empty-selection' });

  const notes: string[] = [];
  if (!keys && format !== 'usersfile')
    notes.push(
      `${format} file holds ${format === 'enrollment' || format === 'pskc' ? 'plaintext seeds (--plaintext)' : 'the seeds in the clear'}: keep it private and delete it after the import`,
    );
  const sink = toStdout ? ExportSink.toStream(opts.stdout ?? process.stdout) : await ExportSink.toFile(opts.output);
  let result: { exported: number; skipped: SkippedToken[] };
  try {
    if (format === 'enrollment') {
      result = await writeEnrollment(store, sel, keys, opts, sink);
    } else {
      const writer = writerFor(format, keys, sel, opts);
      await sink.write(writer.header());
      const refuse = (t: ExportToken) =>
        refuseDayPassword(t) ??
        (writer.carriesCodeFields ? null : codeFieldsRefusal(t, format)) ??
        writer.refuse?.(t) ??
        null;
      result = await eachToken(store, sel, refuse, async (t) => sink.write(await writer.entry(t)));
      await sink.write(writer.footer());
      notes.push(...(writer.notes?.() ?? []));
    }
    if (result.exported === 0) throw nothingExported(format, sel, result.skipped);
    await sink.commit();
  } catch (err) {
    await sink.abort();
    throw err;
  }
  const file = sink.path ?? '-';
  await store.transaction(async (tx) => {
    await tx.audit.append({
      action: 'export',
      subject: `export:${format}`,
      details: {
        format,
        file,
        exported: result.exported,
        skipped: result.skipped.length,
        encrypted: keys !== null,
        ...(keys
          ? {
              cipher: keys.cipher.name,
              mac: keys.mac.name,
              key: keys.source.kind === 'password' ? `pbkdf2 (${keys.source.iterations} iterations)` : 'pre-shared',
            }
          : {}),
        selection: {
          resource: sel.resource?.name ?? null,
          state: sel.state ?? null,
          serialsFile: opts.serialsFile ?? null,
        },
        ...(format === 'enrollment' ? { passwordHashes: Boolean(opts.includePasswordHashes) } : {}),
      },
    });
  });
  return { format, file, exported: result.exported, skipped: result.skipped, encrypted: keys !== null, notes };
}

/** The enrollment package: built in memory (one Resource's tokens), then written in one go. */
async function writeEnrollment(
  store: Store,
  sel: Selection,
  keys: TransportKeys | null,
  opts: ExportOptions,
  sink: ExportSink,
): Promise<{ exported: number; skipped: SkippedToken[] }> {
  const resource = sel.resource!;
  const pskc = new PskcWriter({ keys, includeUser: true });
  const parts: string[] = [pskc.header()];
  const tokens: EnrollmentToken[] = [];
  const exportedIds = new Set<number>();
  const result = await eachToken(
    store,
    sel,
    (t) => pskc.refuse(t),
    async (t) => {
      parts.push(pskc.entry(t));
      const tok = t.token;
      exportedIds.add(tok.id);
      tokens.push({
        serial: tok.serial,
        manufacturer: tok.manufacturer,
        model: tok.model,
        kind: tok.kind,
        type: tok.type,
        algorithm: tok.algorithm,
        digits: tok.digits,
        period: tok.period,
        counter: tok.counter,
        driftSteps: tok.driftSteps,
        state: tok.state,
        user: t.user,
        keyId: tok.serial,
      });
    },
  );
  parts.push(pskc.footer());
  if (result.exported === 0) return result;

  const users = new Map<number, Awaited<ReturnType<Store['users']['get']>>>();
  for (const u of await store.users.list({ resourceId: resource.id })) users.set(u.id, u);
  const assignments = [];
  for (const a of await store.assignments.list({ resourceId: resource.id })) {
    if (!exportedIds.has(a.tokenId)) continue;
    const tok = (await store.tokens.get(a.tokenId))!;
    if (!users.has(a.userId)) users.set(a.userId, await store.users.get(a.userId));
    const u = users.get(a.userId);
    if (!u) continue;
    assignments.push({
      serial: tok.serial,
      manufacturer: tok.manufacturer,
      user: u.login,
      assignedAt: a.createdAt,
      enrolledAt: a.enrolledAt,
    });
  }
  const content: EnrollmentContent = {
    createdAt: new Date().toISOString(),
    createdBy: store.operator,
    generator: `tokensmith ${packageVersion()}`,
    resource: enrollmentResource(resource),
    users: [...users.values()]
      .filter((u): u is NonNullable<typeof u> => u !== null)
      .sort((a, b) => a.login.localeCompare(b.login))
      .map((u) => enrollmentUser(u, Boolean(opts.includePasswordHashes))),
    tokens,
    assignments,
    seeds: seedsInfo(keys, parts.join('')),
  };
  await sink.write(encodeEnrollmentPackage(content));
  return result;
}
