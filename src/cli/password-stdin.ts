/** The password of `--password-stdin`: the first line of stdin, or a prompt that does not echo at a terminal. */
import { UsageError } from '../core/errors.js';
import type { Output } from './context.js';

/** Reads one line from stdin (the password); a terminal gets a prompt that does not echo. */
export async function readPasswordLine(out: Output): Promise<string> {
  if (process.stdin.isTTY) {
    if (!out.interactive)
      throw new UsageError('--password-stdin: pipe the password in (echo ... | tokensmith user add ...)');
    const { password } = await import('@inquirer/prompts');
    return password({ message: 'Password' });
  }
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) {
    chunks.push(c as Buffer);
    if (Buffer.concat(chunks).includes(0x0a)) break;
  }
  const line = Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  if (!line) throw new UsageError('--password-stdin: stdin had no password on its first line');
  return line;
}
