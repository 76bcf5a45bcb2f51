import { readSecretFile } from '../secrets.js';
import type { Command } from 'commander';
import { decodeHex } from '../../core/codecs.js';
import { DataError, TokensmithError, UsageError } from '../../core/errors.js';
import type { Store } from '../../store/types.js';
import { withStore, type Output } from '../context.js';
import { filledBy, importExamples, importFormatHelp } from '../../import/formats/names.js';

interface ImportFlags {
  format?: string;
  password?: string;
  passwordFile?: string;
  key?: string;
  keyFile?: string;
  resource?: string;
  onDuplicate?: string;
  dryRun?: boolean;
  allowExpired?: boolean;
  type?: string;
  algorithm?: string;
  digits?: string;
  period?: string;
  manufacturer?: string;
  model?: string;
}

/** A progress bar on stderr, only for a person at a terminal and only for files worth it. */
function progressBar(out: Output, json: boolean) {
  const stderr = process.stderr as NodeJS.WriteStream;
  const enabled = Boolean(stderr.isTTY) && !process.env.CI;
  let last = 0;
  let drawn = false;
  let paused = false;
  const started = Date.now();
  return {
    pause(p: boolean) {
      paused = p;
      if (p) this.clear();
    },
    update(p: { bytesRead: number; totalBytes: number }) {
      if (!enabled || paused || p.totalBytes < 512 * 1024) return;
      const now = Date.now();
      if (now - last < 100 || now - started < 300) return;
      last = now;
      const ratio = Math.min(1, p.bytesRead / p.totalBytes);
      const width = 30;
      const full = Math.round(ratio * width);
      stderr.write(
        `\r[${'#'.repeat(full)}${' '.repeat(width - full)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${(p.bytesRead / 1e6).toFixed(1)} / ${(p.totalBytes / 1e6).toFixed(1)} MB`,
      );
      drawn = true;
    },
    clear() {
      if (drawn) stderr.write('\r\x1b[2K');
      drawn = false;
    },
    json,
    out,
  };
}

/** The examples and rules under `import --help`. */
const IMPORT_HELP = `
Examples:
${importExamples()
  .map((e) => `  ${e}`)
  .join('\n')}

--type/--algorithm/--digits/--period fill what a file does not carry; a record whose file says
otherwise is refused (exit 4, naming the field). They do not apply to PSKC (exit 2).
--manufacturer/--model do the same for the device (PSKC included): a token already in the store
without a manufacturer takes it with --on-duplicate update.

<file> may be a pipe, a process substitution or - (standard input): it is read into memory first
(at most 256 MB). A directory is a usage error (exit 2).
An encrypted file without --password/--key asks for the password when there is a terminal
(not when the file itself comes from standard input).
The same file twice (same SHA-256) is noticed. Exit 4 for any bad input; the store is then unchanged.
Formats and what tokensmith does with odd files: docs/import.md.`;

export function registerImport(program: Command): void {
  program
    .command('import <file>')
    .description(
      'import a seed file of classic tokens (PSKC, encrypted or not, or a vendor CSV/XML/URI list): every record is checked first, ' +
        'and if any is bad nothing is written and each bad record is listed with its place and why',
    )
    .option('--format <format>', importFormatHelp(), 'auto')
    .option(
      '--password <pw>',
      'password of a PBKDF2-encrypted PSKC file (visible in the process list: prefer --password-file or the prompt)',
    )
    .option('--password-file <file>', 'read the password from the first line of a file')
    .option(
      '--key <hex>',
      'pre-shared transport key of an encrypted PSKC file, in hex (16, 24 or 32 bytes); visible to other users: prefer --key-file',
    )
    .option('--key-file <file>', 'read the pre-shared transport key (hex) from the first line of a file')
    .option('--resource <name>', 'put the imported tokens in the stock of this Resource')
    .option(
      '--on-duplicate <mode>',
      'a serial already in the store with the same seed: fail, skip or update (a different seed is always a conflict)',
      'fail',
    )
    .option(
      '--type <type>',
      `totp, hotp or dpw, for files that do not say (${filledBy('type')}); refused where the file says otherwise`,
    )
    .option('--algorithm <hash>', `sha1, sha256 or sha512, for files that do not say (${filledBy('algorithm')})`)
    .option('--digits <n>', `code length for files that do not say (${filledBy('digits')})`)
    .option('--period <seconds>', `TOTP time step for files that do not say (${filledBy('period')})`)
    .option(
      '--manufacturer <name>',
      'manufacturer for files that do not name one (OATH CSV, seed lists); Entra needs one; refused where the file says otherwise',
    )
    .option(
      '--model <name>',
      'model for files that do not name one; Entra needs one; refused where the file says otherwise',
    )
    .option(
      '--allow-expired',
      'import PSKC keys past their Policy ExpiryDate (refused otherwise); the audit row records that this was asked for',
    )
    .option('--dry-run', 'check everything and report, but write nothing')
    .addHelpText('after', IMPORT_HELP)
    .action(async (file: string, o: ImportFlags, cmd: Command) => {
      await withStore(cmd, (store, out) => runImport(store, out, file, o, Boolean(cmd.optsWithGlobals().yes)));
    });
}

/** --password, --password-file, --key and --key-file: at most one, read and checked before the file is opened. */
function secretFlags(o: ImportFlags): { password?: string; key?: Buffer } {
  if ([o.password, o.passwordFile, o.key, o.keyFile].filter((v) => v !== undefined).length > 1) {
    throw new UsageError('give one of --password, --password-file, --key and --key-file');
  }
  if (o.passwordFile !== undefined) return { password: readSecretFile(o.passwordFile, '--password-file') };
  const keyHex = o.keyFile !== undefined ? readSecretFile(o.keyFile, '--key-file') : o.key;
  if (keyHex !== undefined) {
    try {
      return { key: decodeHex(keyHex, '--key') };
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  return { password: o.password };
}

/** Asks for the password of an encrypted file at a terminal, with the progress bar paused; undefined where nobody can answer. */
function passwordPrompt(
  out: Output,
  bar: ReturnType<typeof progressBar>,
  file: string,
  yes: boolean,
): (() => Promise<string>) | undefined {
  if (!out.interactive || yes) return undefined;
  return async () => {
    bar.pause(true);
    const { password: ask } = await import('@inquirer/prompts');
    try {
      return await ask({ message: `Password of ${file}` }, { output: process.stderr });
    } catch (err) {
      // Ctrl-C or Ctrl-D at the prompt.
      if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError')
        throw new UsageError('no password given: nothing imported');
      throw err;
    } finally {
      bar.pause(false);
    }
  };
}

async function runImport(store: Store, out: Output, file: string, o: ImportFlags, yes: boolean): Promise<void> {
  const { importSeedFile, importJson, parseFormat, parseOnDuplicate, parseSpecDefaults } =
    await import('../../import/service.js');
  const { parseDeviceDefaults } = await import('../../import/device-fill.js');
  const defaults = parseSpecDefaults(o);
  const device = parseDeviceDefaults(o);
  const { password, key } = secretFlags(o);
  const bar = progressBar(out, out.json);
  try {
    const s = await importSeedFile(store, {
      file,
      format: parseFormat(o.format),
      password,
      key,
      // Standard input is the file itself: no prompt can read from it.
      askPassword: file === '-' ? undefined : passwordPrompt(out, bar, file, yes),
      allowExpired: o.allowExpired,
      resource: o.resource,
      onDuplicate: parseOnDuplicate(o.onDuplicate),
      defaults,
      device,
      dryRun: o.dryRun,
      onProgress: (p) => bar.update(p),
      onNote: (m) => {
        bar.clear();
        out.info(m);
      },
    });
    bar.clear();
    const counts = `${s.imported} token${s.imported === 1 ? '' : 's'}${s.updated ? ` (${s.updated} updated)` : ''}, ${s.skipped} skipped`;
    out.result(
      importJson(s),
      s.dryRun
        ? `dry run: ${file} (${s.format}) is good: ${counts} would be imported; nothing was written`
        : s.batch === null
          ? `nothing imported from ${file} (${s.format}): ${counts}; no batch was recorded`
          : `imported ${file} (${s.format}) as batch ${s.batch}: ${counts}${o.resource ? `, in Resource ${o.resource}` : ''}`,
    );
  } catch (err) {
    bar.clear();
    if (!(err instanceof DataError)) throw err;
    await reportRefusedImport(err, out, file);
  }
}

/** A refused import: every bad record on stderr, or with --json the contract's report on stdout; then exit 4 either way. */
async function reportRefusedImport(err: DataError, out: Output, file: string): Promise<never> {
  const { importJson, ImportFailedError } = await import('../../import/service.js');
  let report;
  if (err instanceof ImportFailedError) {
    const r = err.report;
    out.info(`${r.file}: ${r.failed} bad record${r.failed === 1 ? '' : 's'}; nothing was imported:`);
    for (const e of r.errors) out.info(`  ${e.where}: ${e.message}`);
    if (r.failed > r.errors.length) out.info(`  ... and ${r.failed - r.errors.length} more`);
    report = importJson(r);
  } else {
    // The whole file was refused (wrong password, not XML, truncated ...): one error, no record counted.
    const where = err.where ?? file;
    const message = err.message.startsWith(`${where}: `) ? err.message.slice(where.length + 2) : err.message;
    report = { batch: null, imported: 0, skipped: 0, failed: 0, errors: [{ where, message }] };
  }
  if (!out.json) throw err;
  // --json: the report is the contract's JSON on stdout (not the generic error object), then exit 4.
  out.result(report, '');
  throw new TokensmithError(err.message, {
    exitCode: err.exitCode,
    code: err.code,
    where: err.where,
    resultPrinted: true,
  });
}
