import type { Command } from 'commander';
import { globalsOf, intOption, withStore, type Output } from '../context.js';
import { UsageError } from '../../core/errors.js';
import type { Store } from '../../store/types.js';
import { exportFormatHelp } from '../../export/formats/names.js';
import type { ExportOutcome } from '../../export/service.js';
import type { SkippedToken } from '../../export/types.js';

interface ExportFlags {
  format: string;
  output: string;
  resource?: string;
  state?: string;
  serials?: string;
  password?: string;
  passwordFile?: string;
  key?: string;
  keyFile?: string;
  keyName?: string;
  plaintext?: boolean;
  cipher?: string;
  mac?: string;
  iterations?: number;
  qr?: string;
  includePasswordHashes?: boolean;
  force?: boolean;
  verbose?: boolean;
}

/** Which tokens: --resource, --state, --serials. */
function selectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--resource <name>',
      "only this Resource's tokens (its stock and those assigned in it); oath-csv then writes users and realm",
    )
    .option(
      '--state <states>',
      'only tokens in this state, or in any of a comma list (in_stock, programmed, assigned, enrolled, ...)',
    )
    .option('--serials <file>', 'only the serials listed in this file, one per line (# comments allowed)');
}

/** How the seeds are protected: a password, a pre-shared key, or --plaintext. */
function protectionOptions(cmd: Command): Command {
  return cmd
    .option(
      '--password <pw>',
      'encrypt with a key derived from this password (PBKDF2-HMAC-SHA1, 100,000 iterations, 16-byte salt); visible to other users: prefer --password-file',
    )
    .option('--password-file <file>', 'read the password from the first line of a file')
    .option(
      '--key <hex>',
      'encrypt with this pre-shared transport key (16, 24 or 32 bytes in hex); visible to other users: prefer --key-file',
    )
    .option('--key-file <file>', 'read the pre-shared transport key (hex) from the first line of a file')
    .option('--key-name <name>', 'the KeyName written for a pre-shared key', 'Pre-shared-key')
    .option('--plaintext', 'write the seeds in the clear (required for the CSV and otpauth formats)')
    .option(
      '--cipher <cipher>',
      'aes128-cbc (default), aes192-cbc, aes256-cbc, tripledes-cbc, kw-aes128, kw-aes192, kw-aes256',
    )
    .option('--mac <alg>', 'hmac-sha1 (default), hmac-sha256, hmac-sha384, hmac-sha512')
    .option('--iterations <n>', 'PBKDF2 iterations (at least 100000)', intOption('--iterations'));
}

const EXPORT_HELP = `
Examples:
  tokensmith export --format pskc --password-file pw.txt -o tokens.pskc.xml
  tokensmith export --format pskc --key 000102030405060708090a0b0c0d0e0f --state in_stock -o stock.xml
  tokensmith export --format entra-csv --plaintext --state assigned,enrolled -o entra.csv
  tokensmith export --format otpauth --plaintext --serials soft.txt --qr qr/ -o uris.txt
  tokensmith export --format enrollment --resource vpn --password-file pw.txt -o vpn.enroll
  tokensmith export --format usersfile --plaintext --resource vpn -o /etc/users.oath

An -o file that exists is replaced when it is this store's own earlier export in the same
format (the audit log records each export's file) or, for usersfile, a users file pam_oath
reads: re-exporting from cron needs no --force. Any other file is written over only with
--force (or -y), or when you say yes at the prompt; otherwise exit 5. A symbolic link at -o
(or in --qr) is refused (exit 5). An interrupted export (Ctrl-C, SIGTERM) removes its
temporary file and exits 130 or 143.
An empty selection is an error (exit 4), never an empty file. Tokens a format cannot carry are
left out, never changed: counted per reason (--verbose lists them; --json: "skipped"). A TOTP
token whose clock drift the format cannot carry is named with what to do (--json: "drifted").
Every export writes an audit row.`;

export function registerExport(program: Command): void {
  const cmd = program
    .command('export')
    .description(
      'export tokens for an MFA server (PSKC, CSV dialects, otpauth URIs) or as the enrollment package of a Resource; ' +
        'PSKC and enrollment packages are encrypted unless --plaintext, and the CSV and otpauth formats, which can only hold seeds in the clear, need --plaintext',
    )
    .requiredOption('--format <format>', exportFormatHelp())
    .requiredOption(
      '-o, --output <file>',
      'the file to write (mode 0600, appears only when complete); "-" = stdout, for encrypted pskc only',
    );
  protectionOptions(selectionOptions(cmd))
    .option('--qr <dir>', 'otpauth: also write a QR code (PNG) per token into this folder')
    .option('--include-password-hashes', "enrollment: include the users' scrypt password hashes")
    .option(
      '--force',
      'write over an -o file that exists and is not an earlier export of this store (at a terminal you are asked instead)',
    )
    .option('--verbose', 'list each token left out with its reason (by default: a count per reason)')
    .addHelpText('after', EXPORT_HELP)
    .action(async (o: ExportFlags, c: Command) => {
      await withStore(c, (store, out) => runExport(store, out, o, Boolean(globalsOf(c).yes)));
    });
}

async function runExport(store: Store, out: Output, o: ExportFlags, yes: boolean): Promise<void> {
  if (o.output === '-' && out.json)
    throw new UsageError('-o - and --json both want stdout: write the export to a file');
  const { readSecretFile } = await import('../secrets.js');
  if (o.key !== undefined && o.keyFile !== undefined) throw new UsageError('give one of --key and --key-file');
  const key = o.keyFile !== undefined ? readSecretFile(o.keyFile, '--key-file') : o.key;
  const { replaceableWithoutAsking } = await import('../../export/replace.js');
  if (!(await replaceableWithoutAsking(store, o.format, o.output))) {
    const { confirmOverwrite } = await import('../overwrite.js');
    await confirmOverwrite(o.output, { force: o.force, yes }, out);
  }
  const { exportTokens } = await import('../../export/service.js');
  const r = await exportTokens(store, {
    format: o.format,
    output: o.output,
    resource: o.resource,
    state: o.state,
    serialsFile: o.serials,
    password: o.password,
    passwordFile: o.passwordFile,
    key,
    keyName: o.keyName,
    plaintext: o.plaintext,
    cipher: o.cipher,
    mac: o.mac,
    iterations: o.iterations,
    qrDir: o.qr,
    includePasswordHashes: o.includePasswordHashes,
  });
  reportExport(out, r, Boolean(o.verbose));
}

/** Left-out tokens grouped by reason, the largest group first. */
function byReason(skipped: SkippedToken[]): [string, string[]][] {
  const groups = new Map<string, string[]>();
  for (const s of skipped) groups.set(s.reason, [...(groups.get(s.reason) ?? []), s.serial]);
  return [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
}

/** One line per left-out token with --verbose; else one per reason, with the serial when it is the only one. */
function reportSkipped(out: Output, skipped: SkippedToken[], verbose: boolean): void {
  if (verbose) {
    for (const s of skipped) out.info(`left out ${s.serial}: ${s.reason}`);
    return;
  }
  for (const [reason, serials] of byReason(skipped))
    out.info(
      serials.length === 1
        ? `left out ${serials[0]}: ${reason}`
        : `left out ${serials.length} tokens: ${reason} (--verbose lists them)`,
    );
}

/** stderr: the warnings and notes, the drifted tokens by serial, the left-out ones counted (listed with --verbose); stdout: the result. */
function reportExport(out: Output, r: ExportOutcome, verbose: boolean): void {
  if (!r.encrypted) out.warn(r.notes.shift() ?? 'the export holds seeds in the clear');
  for (const n of r.notes) out.info(n);
  for (const d of r.drifted)
    out.warn(`${d.serial} was written without its clock drift (${d.driftSteps} steps): ${d.advice}`);
  reportSkipped(out, r.skipped, verbose);
  const { notes: _notes, ...json } = r;
  if (r.file === '-') return;
  out.result(
    json,
    `exported ${r.exported} token(s) to ${r.file} (${r.format}, ${r.encrypted ? 'encrypted' : 'PLAINTEXT'})${r.skipped.length ? `; ${r.skipped.length} left out` : ''}${r.drifted.length ? `; ${r.drifted.length} drifted (see above)` : ''}`,
  );
}
