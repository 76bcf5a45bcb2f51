/**
 * The tokensmith CLI: global flags, exit codes, and the command groups. This
 * module stays light (commander only) so that `--version` and `--help` are
 * fast; every command loads its services when it runs.
 */
import { Command, CommanderError } from 'commander';
import { ExitCode, TokensmithError } from '../core/errors.js';
import { escapeForTerminal, jsonForTerminal } from '../core/text-guard.js';
import { registerCommands } from './commands/index.js';
import { packageVersion } from '../core/version.js';

export function buildProgram(): Command {
  const program = new Command('tokensmith');
  program
    .description(
      'Program hardware TOTP tokens, import classic token seed files, and provision them for MFA self-service enrollment.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--db <path>', 'the provisioning database (default: $TOKENSMITH_DB, else the per-user data directory)')
    .option('--json', 'machine output on stdout; messages and progress go to stderr')
    .option('-y, --yes', 'never prompt: take defaults, confirm destructive actions, fail on what is missing')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 failure, 2 usage, 3 device, 4 data (bad input, conflict, wrong key or password), 5 refused by policy,
130/143 interrupted (SIGINT/SIGTERM) while writing a file.
Environment: TOKENSMITH_DB (database path), TOKENSMITH_MASTER_KEY (32-byte seed-sealing key, hex or base64).
Start with: tokensmith demo`,
    );
  registerCommands(program);
  // Every command, device commands included: a secret typed into argv is visible to other users.
  program.hook('preAction', async (_program, actionCommand) => {
    const [{ warnArgvSecrets }, { outputOf }] = await Promise.all([import('./secrets.js'), import('./context.js')]);
    warnArgvSecrets(actionCommand, outputOf(actionCommand));
  });
  return program;
}

function reportError(err: unknown, json: boolean): number {
  if (err instanceof TokensmithError) {
    // Messages quote serials and names from files and the store: escaped so they cannot steer the terminal.
    process.stderr.write(`tokensmith: ${escapeForTerminal(err.message)}\n`);
    if (json && !err.resultPrinted)
      process.stdout.write(
        jsonForTerminal({
          error: {
            code: err.code,
            message: err.message,
            exitCode: err.exitCode,
            ...(err.where ? { where: err.where } : {}),
          },
        }) + '\n',
      );
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`tokensmith: unexpected error: ${e?.stack ?? String(err)}\n`);
  if (json)
    process.stdout.write(
      JSON.stringify({ error: { code: 'internal', message: e?.message ?? String(err), exitCode: 1 } }, null, 2) + '\n',
    );
  return ExitCode.failure;
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return ExitCode.ok;
      if (err.exitCode === 0) return ExitCode.ok;
      // commander already told stderr; --json callers still get the documented error object on stdout.
      if (json)
        process.stdout.write(
          JSON.stringify(
            { error: { code: 'usage', message: err.message.replace(/^error: /, ''), exitCode: ExitCode.usage } },
            null,
            2,
          ) + '\n',
        );
      return ExitCode.usage;
    }
    return reportError(err, json);
  }
}
