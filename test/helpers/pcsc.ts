/**
 * The real PC/SC stack for the tests that run it (test/e2e, test/web,
 * test/postgres-bars): pcscd (started here unless one runs) with
 * vsmartcard's vpcd reader. vpcd's readers sit on fixed ports and pcscd is
 * one per machine, so every test file that uses them takes the machine-wide
 * lock (lockVpcd) first. The card itself: test/helpers/simulator.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pcscdUp, waitForPcscd } from '../../src/transport/pcscd.js';

export { lockVpcd } from '../e2e/pcsc-lock.js';

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']))
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

/** Why `test` cannot run here (null: it can). Under CI a missing stack is a failure, not a skip. */
export function pcscMissing(test: string): string | null {
  const why = !which('pcscd')
    ? 'pcscd is not installed (apt-get install pcscd)'
    : !existsSync(VPCD_DRIVER)
      ? 'vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)'
      : null;
  if (why && process.env.CI) throw new Error(`${test} must run in CI, but ${why}`);
  return why;
}

/** Starts pcscd unless it runs; returns a stop function that stops only the one started here. */
export async function ensurePcscd(): Promise<() => Promise<void>> {
  if (await pcscdUp()) return async () => {};
  const proc: ChildProcess = spawn(which('pcscd')!, ['--foreground'], { stdio: 'ignore' });
  if (!(await waitForPcscd(10_000))) throw new Error('pcscd did not come up within 10 s');
  return () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
}
