/**
 * `-o` onto a file that exists: a person at a terminal is asked, anyone else
 * needs --force (or the global --yes), so a typo never replaces a file
 * silently. Every command with -o calls this before it writes.
 */
import { PolicyError } from '../core/errors.js';
import { lstatOrNull } from '../core/safe-file.js';
import type { Output } from './context.js';

export async function confirmOverwrite(
  path: string,
  opts: { force?: boolean; yes?: boolean },
  out: Output,
): Promise<void> {
  if (path === '-' || opts.force || opts.yes) return;
  const existing = await lstatOrNull(path);
  if (!existing) return;
  if (existing.isDirectory()) throw new PolicyError(`${path} is a folder: give a file name to -o`, { code: 'exists' });
  if (!out.interactive) throw new PolicyError(`${path} exists; use --force to write over it`, { code: 'exists' });
  const { confirm } = await import('@inquirer/prompts');
  const yes = await confirm({ message: `${path} exists. Write over it?`, default: false }, { output: process.stderr });
  if (!yes) throw new PolicyError(`${path} exists and was kept (not written over)`, { code: 'exists' });
}
