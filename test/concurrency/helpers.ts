/** Running several tokensmith processes at once, and seed files whose seeds follow from the serial so overlapping files agree. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { runCli } from '../helpers/cli.js';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return runCli(args, { env: { ...process.env, ...env, NO_COLOR: '1' } });
}

/** The seed of a test serial: the same in every file that lists it. */
export function seedOf(serial: string): Buffer {
  return createHash('sha1').update(`tokensmith concurrency test seed ${serial}`).digest();
}

export const serialOf = (n: number) => `CC${String(n).padStart(7, '0')}`;

/** An OATH CSV (serial, seed hex, type, digits, period) of serials from..to-1. */
export function writeSeedFile(path: string, from: number, to: number): string[] {
  const serials: string[] = [];
  const lines: string[] = [];
  for (let n = from; n < to; n++) {
    const s = serialOf(n);
    serials.push(s);
    lines.push(`${s}, ${seedOf(s).toString('hex')}, totp, 6, 30`);
  }
  writeFileSync(path, lines.join('\n') + '\n');
  return serials;
}
