/**
 * The real PC/SC stack for browser tests, as test/e2e/pcsc.test.ts runs it:
 * pcscd (started here unless one runs) with vsmartcard's vpcd reader, and
 * `tokensmith simulate ... --vpcd` as the card. vpcd has one reader on one
 * port, so every test file that uses it takes this machine-wide lock first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pcscdUp, waitForPcscd } from '../../src/transport/pcscd.js';
import { startSimulator, type Simulator } from '../helpers/simulator.js';

export type { Simulator };

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin'])) if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

export function pcscMissing(): string | null {
  const why = !which('pcscd') ? 'pcscd is not installed (apt-get install pcscd)' : !existsSync(VPCD_DRIVER) ? 'vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)' : null;
  if (why && process.env.CI) throw new Error(`the browser flash test must run in CI, but ${why}`);
  return why;
}

// The machine-wide vpcd lock is the e2e tests' own: one lock for every file that uses vpcd.
export { lockVpcd } from '../e2e/pcsc-lock.js';

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

/** A simulated Token2 card on vpcd's first reader (see test/helpers/simulator.ts for why stop() waits). */
export function simulate(bin: string, env: NodeJS.ProcessEnv, stateFile: string, args: string[]): Promise<Simulator> {
  return startSimulator({ bin, env, model: 'token2-card', stateFile, args, upWithinMs: 15_000 });
}
