/**
 * The real PC/SC stack for the tests that run it (test/e2e, test/web,
 * test/postgres-bars): pcscd (started here unless one runs) with
 * vsmartcard's vpcd reader. vpcd's readers sit on fixed ports and pcscd is
 * one per machine, so every test file that uses them takes the machine-wide
 * lock (lockVpcd) first. The card itself: test/helpers/simulator.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pcscdUp, waitForPcscd } from '../../src/transport/pcscd.js';

export { lockVpcd } from '../e2e/pcsc-lock.js';

export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';

export function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']))
    if (existsSync(join(dir, cmd))) return join(dir, cmd);
  return null;
}

/** Whether tokensmith's optional PC/SC module and its native binding are there (npm skips it without libpcsclite-dev). */
function nfcPcscBuilt(): boolean {
  try {
    const require = createRequire(import.meta.url);
    const nfc = dirname(require.resolve('nfc-pcsc/package.json'));
    const pcsclite = dirname(require.resolve('@pokusew/pcsclite/package.json', { paths: [nfc] }));
    return existsSync(join(pcsclite, 'build/Release/pcsclite.node'));
  } catch {
    return false;
  }
}

/** Why `test` cannot run here (null: it can). Under CI a missing stack is a failure, not a skip. */
export function pcscMissing(test: string): string | null {
  const why = !which('pcscd')
    ? 'pcscd is not installed (apt-get install pcscd)'
    : !existsSync(VPCD_DRIVER)
      ? 'vsmartcard-vpcd is not installed (apt-get install vsmartcard-vpcd)'
      : !nfcPcscBuilt()
        ? 'nfc-pcsc (the optional PC/SC module) is not built: apt-get install libpcsclite-dev, then npm install'
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

/**
 * Waits until pcscd reports a card on `reader`, as `tokensmith device list` sees it. The simulator is "on the
 * virtual reader" once vpcd took its connection, but pcscd notices the card only at its next poll of the reader
 * (every 400 ms, later on a fresh pcscd): a tool that connects at once and does not wait for a card, as ykman
 * does, gets "No smart card inserted (0x8010000C)" in between. tokensmith's own commands wait by themselves.
 */
export async function waitForCardSeen(
  bin: string,
  env: NodeJS.ProcessEnv,
  reader: string,
  timeoutMs = 30_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [bin, 'device', 'list', '--json'], { env, timeout: 20_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
    const rows = r.code === 0 ? (JSON.parse(r.stdout) as { name: string; token: boolean }[]) : [];
    if (rows.some((row) => row.name === reader && row.token)) return;
    last = r.code === 0 ? JSON.stringify(rows) : r.stderr;
    if (Date.now() > end)
      throw new Error(`pcscd did not see the card on ${reader} within ${timeoutMs / 1000} s: ${last}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
