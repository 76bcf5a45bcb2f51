/**
 * `device <verb>` on the terminal: the spinner, how the device is opened
 * (--reader, --wait, a family's own `open`), and the device session
 * (src/provision/device-session.ts), which finds the family and runs its
 * handler. No family is named here.
 */
import type { Command } from 'commander';
import { globalsOf, withStore, type Output } from '../context.js';
import type { DeviceFamily, DeviceVerb } from '../../../drivers/family.js';
import type { ApduTransport } from '../../transport/types.js';
import { terminalPrompter } from '../prompter.js';

export type { DeviceOpts } from '../../provision/device-session.js';
import type { DeviceOpts } from '../../provision/device-session.js';

/** A spinner on stderr when a person watches, nothing otherwise (never on stdout). */
async function progress(out: Output, json: boolean) {
  if (out.interactive && !json) {
    const { default: ora } = await import('ora');
    const spinner = ora({ stream: process.stderr });
    return {
      step: (t: string) => void (spinner.isSpinning ? (spinner.text = t) : spinner.start(t)),
      stop: () => void spinner.stop(),
    };
  }
  return { step: (_t: string) => {}, stop: () => {} };
}

export async function waitSeconds(o: DeviceOpts): Promise<number> {
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`--wait must be a number of seconds, got '${String(o.wait)}'`);
  }
  return wait;
}

/** How a caller that keeps a PC/SC context open (a batch) picks the reader in it. */
export type PcscOpener = (opts: {
  reader?: string;
  waitSeconds: number;
  onWaiting: (readers: string[]) => void;
}) => Promise<ApduTransport>;

/** Opens the device: the family's own way when --model names a family that has one, else the PC/SC reader (through `pcsc` when given). */
export async function openDevice(
  family: DeviceFamily | undefined,
  o: DeviceOpts,
  out: Output,
  step: (t: string) => void = () => {},
  pcsc?: PcscOpener,
): Promise<ApduTransport> {
  const wait = await waitSeconds(o);
  const onWaiting = (names: string[]) => {
    const text = `waiting up to ${wait} s for a token on ${names.map((n) => `"${n}"`).join(' or ')}`;
    if (out.interactive) step(text);
    else out.info(text);
  };
  const reader = typeof o.reader === 'string' ? o.reader : undefined;
  const openPcsc = async () =>
    pcsc
      ? pcsc({ reader, waitSeconds: wait, onWaiting })
      : (await import('../../transport/pcsc.js')).openPcscTransport({ reader, waitSeconds: wait, onWaiting });
  if (family?.open)
    return family.open({
      reader,
      waitSeconds: wait,
      onWaiting,
      model: typeof o.model === 'string' ? o.model : undefined,
      options: o,
      openPcsc,
    });
  return openPcsc();
}

/**
 * `device <verb>`: `before` runs first (checks every family shares, e.g. the
 * --yes of a flash), then the device session (src/provision/device-session.ts)
 * with the terminal's progress line, output and prompter.
 */
export async function runDeviceVerb(
  verb: DeviceVerb,
  o: DeviceOpts,
  cmd: Command,
  before?: (out: Output) => Promise<void>,
): Promise<void> {
  const { familyGiven, runDeviceSession } = await import('../../provision/device-session.js');
  // An unknown model or a verb its family lacks is refused before the store is opened.
  await familyGiven(verb, o);
  const g = globalsOf(cmd);
  await withStore(cmd, async (store, out) => {
    await before?.(out);
    const p = await progress(out, Boolean(g.json));
    const entra = verb === 'flash' && o.entraActivate ? new (await import('./entra-flash.js')).EntraAfterFlash() : null;
    const output = {
      result: (v: unknown, t: string | (() => string)) => (p.stop(), entra ? entra.hold(v, t) : out.result(v, t)),
      info: (m: string) => out.info(m),
      interactive: out.interactive,
    };
    const base = {
      options: o,
      yes: Boolean(g.yes),
      json: Boolean(g.json),
      output,
      step: p.step,
      stopProgress: p.stop,
      prompt: terminalPrompter,
      store,
    };
    try {
      await runDeviceSession(verb, o, base, (family) => openDevice(family, o, out, p.step));
    } finally {
      p.stop();
    }
    await entra?.finish(store, out);
  });
}
