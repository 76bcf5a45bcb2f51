/**
 * `tokensmith simulate ... --vpcd` as a child process: the card on a vpcd
 * reader for the tests that run the real PC/SC stack (test/e2e, test/web).
 *
 * stop() takes the card off and then waits REMOVAL_SEEN_MS before it returns.
 * pcscd learns that a vpcd card left only when it next polls the reader
 * (every 400 ms); a test that put the next card on sooner would swap cards
 * faster than any hand, pcscd would never report the first one gone, and a
 * long-lived PC/SC connection (the station's bridge) would still point at it.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { detectionOrder } from '../../drivers/registry.js';

/** More than two of pcscd's 400 ms polls: the removal is seen before the next card comes. */
export const REMOVAL_SEEN_MS = 1000;

export interface Simulator {
  /** The simulator's --state file, parsed (read at each call). */
  state(): Record<string, any>;
  /** What the simulator printed so far (its stderr), each line stamped with the time it arrived. */
  log(): string;
  /** Takes the card off the reader (SIGTERM), then waits until pcscd has seen it go. */
  stop(): Promise<void>;
}

export interface SimulatorOptions {
  bin: string;
  env: NodeJS.ProcessEnv;
  model: string;
  stateFile: string;
  args?: string[];
  /** host:port of vpcd; vpcd's first reader when absent. */
  vpcd?: string;
  /** How long it may take to come up (a loaded machine starts node slowly). */
  upWithinMs?: number;
}

export async function startSimulator(o: SimulatorOptions): Promise<Simulator> {
  const vpcd = o.vpcd ? ['--vpcd', o.vpcd] : ['--vpcd'];
  const proc = spawn(
    process.execPath,
    [o.bin, 'simulate', o.model, ...vpcd, '--state', o.stateFile, ...(o.args ?? [])],
    { env: o.env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
    log += d.replace(/^(?=.)/gm, () => `[${new Date().toISOString().slice(11, 23)}] `);
  });
  const upWithin = o.upWithinMs ?? 30_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the simulator did not come up within ${upWithin / 1000} s: ${log}`)),
      upWithin,
    );
    const check = () => {
      if (!log.includes('is on the virtual reader')) return;
      clearTimeout(timer);
      proc.stderr!.off('data', check);
      proc.off('exit', exited);
      resolve();
    };
    const exited = (c: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the simulator exited (${c}) before it came up: ${log}`));
    };
    proc.stderr!.on('data', check);
    proc.once('exit', exited);
  }).catch((e) => {
    proc.kill('SIGKILL');
    throw e;
  });
  let stopped: Promise<void> | null = null;
  return {
    state: () => JSON.parse(readFileSync(o.stateFile, 'utf8')),
    log: () => log,
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }).then(() => new Promise<void>((r) => setTimeout(r, REMOVAL_SEEN_MS)))),
  };
}

/**
 * Commands a `device` verb (or the station's flash) without a model sends a
 * Token2 NFC card before its own work: one read-only probe per family detection
 * tries up to and including the card's own (the registry's detection order).
 */
export const DETECTION_PROBES = (await detectionOrder()).findIndex((f) => f.name === 'token2-nfc') + 1;
