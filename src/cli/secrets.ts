/**
 * Secrets given as options: a value in argv can be read by every user of the
 * machine (ps, /proc/<pid>/cmdline) and stays in shell history, so using one
 * prints a warning naming the safer way; files are read here for every command.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import type { Output } from './context.js';

/** Options that carry a secret (commander's camelCase name), with the flag and what to use instead. */
const ARGV_SECRETS: Record<string, { flag: string; instead: string }> = {
  password: { flag: '--password', instead: '--password-file or the prompt' },
  key: { flag: '--key', instead: '--key-file' },
  bindPassword: { flag: '--bind-password', instead: '--bind-password-file' },
  secret: { flag: '--secret', instead: '--secret-file' },
  seed: { flag: '--seed', instead: 'no --seed (a fresh seed from the system CSPRNG)' },
  customerKey: {
    flag: '--customer-key',
    instead: 'a host no one else is logged in to (this command has no file option for it yet)',
  },
  newCustomerKey: {
    flag: '--new-customer-key',
    instead: 'a host no one else is logged in to (this command has no file option for it yet)',
  },
};

/** Warns for every secret the command about to run was given in argv (a commander preAction hook, so every command is covered). */
export function warnArgvSecrets(actionCommand: Command, out: Output): void {
  for (const [name, s] of Object.entries(ARGV_SECRETS)) {
    if (actionCommand.getOptionValueSource(name) === 'cli') warnArgvSecret(out, s.flag, s.instead);
  }
}

/** Warns that `flag` put a secret in argv, and says what to use instead. */
export function warnArgvSecret(out: Output, flag: string, instead: string): void {
  out.warn(
    `${flag} on the command line is visible to other users of this machine (ps, /proc) and stays in shell history: use ${instead}`,
  );
}

/** The first line of a file that holds a secret (a password, a key, a seed). */
export function readSecretFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
  } catch (err) {
    throw new UsageError(
      `${flag}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}
