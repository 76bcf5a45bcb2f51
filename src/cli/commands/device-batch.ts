/**
 * `device flash --batch [n] [--users csv]`: tokens one after another into one
 * flash batch, for every family alike. The family's side (which family, its
 * settings, the flasher of each token) is src/provision/batch-families.ts; the
 * loop, its counts and records are the flash-batch service
 * (src/provision/flash-batch.ts), the one the station's batch runs. Here: the
 * usage checks, where the tokens come from, and Ctrl-C.
 */
import type { Command } from 'commander';
import { globalsOf, withStore, type Output } from '../context.js';
import type { DeviceFamily } from '../../../drivers/family.js';
import type { TokenFlasher, TokenSource } from '../../provision/flash-batch.js';
import type { Store } from '../../store/types.js';
import type { PcscContext } from '../../transport/pcsc.js';
import { openDevice, waitSeconds, type DeviceOpts, type PcscOpener } from './device-run.js';
import { terminalPrompter } from '../prompter.js';

/** Whether this flash is a batch. */
export function isBatch(o: DeviceOpts): boolean {
  return o.batch !== undefined || o.users !== undefined;
}

/** What no batch takes, refused before any token; n of --batch n, or null for "until no token comes within --wait". */
async function batchCount(o: DeviceOpts): Promise<number | null> {
  const { UsageError } = await import('../../core/errors.js');
  if (o.seed)
    throw new UsageError(
      '--seed with --batch would give every token the same seed: leave it out, each token gets a fresh one',
    );
  if (o.record) throw new UsageError('--record records one session: leave out --batch');
  const count = o.batch === undefined || o.batch === true ? null : Number(o.batch);
  if (count !== null && (!Number.isInteger(count) || count < 1))
    throw new UsageError(`--batch must be a whole number from 1, got '${String(o.batch)}'`);
  return count;
}

/**
 * Where the tokens come from: a family whose batch opens each token its own way
 * (`keys`) opens them as a single flash does; otherwise cards one after another on
 * one PC/SC context. `writing` is told when a token came (for Ctrl-C's message).
 */
async function tokenSource(
  keysOf: DeviceFamily | undefined,
  o: DeviceOpts,
  out: Output,
  writing: (now: boolean) => void,
): Promise<TokenSource & { close(): Promise<void> }> {
  const wait = await waitSeconds(o);
  const came = async <T>(next: () => Promise<T>): Promise<T> => {
    writing(false);
    const t = await next();
    writing(true);
    return t;
  };
  if (keysOf) return keysSource(keysOf, o, out, came, wait);
  const { PcscContext } = await import('../../transport/pcsc.js');
  const ctx = await PcscContext.open();
  return {
    next: () =>
      came(() =>
        ctx.select({
          reader: typeof o.reader === 'string' ? o.reader : undefined,
          waitSeconds: wait,
          onWaiting: () => out.info(`put the next token on the reader (waiting up to ${wait} s)`),
        }),
      ),
    close: () => ctx.close(),
  };
}

/**
 * Keys opened as a single flash opens them: asked for again until the next one
 * comes within --wait (a key on USB HID does not wait by itself); a PC/SC reader
 * through one context the source holds, so closing it ends a pending wait.
 */
async function keysSource(
  family: DeviceFamily,
  o: DeviceOpts,
  out: Output,
  came: <T>(next: () => Promise<T>) => Promise<T>,
  wait: number,
): Promise<TokenSource & { close(): Promise<void> }> {
  const { PcscContext: Pcsc } = await import('../../transport/pcsc.js');
  const { keySource } = await import('../../provision/key-source.js');
  let ctx: PcscContext | undefined;
  const pcsc: PcscOpener = async (opts) => (ctx ??= await Pcsc.open()).select(opts);
  const keys = keySource(() => openDevice(family, o, out, (text) => out.info(text), pcsc), {
    waitSeconds: wait,
    onWaiting: () => out.info(`put the next token on the reader or plug it in (waiting up to ${wait} s)`),
    onClose: async () => ctx?.close(),
  });
  return { next: (i) => came(() => keys.next(i)), close: () => keys.close() };
}

/** Runs the batch on the terminal: Ctrl-C finishes a token being written (never abandoned half-way), cancels one not yet written, then stops. */
async function runBatch(
  store: Store,
  o: DeviceOpts,
  keysOf: DeviceFamily | undefined,
  flasher: TokenFlasher,
  run: { count: number | null; users?: string[] },
  out: Output,
): Promise<void> {
  const { BatchStop } = await import('../../provision/flash-batch.js');
  const { runCliBatch } = await import('./batch-flash.js');
  const stop = new BatchStop();
  let writing = false;
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.request();
    out.info(
      writing
        ? 'Ctrl-C: finishing the token on the reader, then stopping (Ctrl-C again to quit at once)'
        : 'Ctrl-C: stopping; no token was being written',
    );
  };
  const source = await tokenSource(keysOf, o, out, (now) => (writing = now));
  process.on('SIGINT', onSigint);
  try {
    await runCliBatch(store, source, flasher, { ...run, stop }, out);
  } finally {
    process.off('SIGINT', onSigint);
    await source.close();
  }
}

/** The --batch entry: the family of --model checked (a family without a batch refused by name), then the batch run. */
export async function flashBatchCommand(
  o: DeviceOpts,
  cmd: Command,
  before: (out: Output) => Promise<void>,
): Promise<void> {
  const { batchFamilyOf, batchFlasher } = await import('../../provision/batch-families.js');
  const given = await batchFamilyOf(o);
  await withStore(cmd, async (store: Store, out) => {
    await before(out);
    const count = await batchCount(o);
    const { readBatchUsers } = await import('../../provision/batch-users.js');
    const users = typeof o.users === 'string' ? await readBatchUsers(o.users) : undefined;
    const g = globalsOf(cmd);
    const flasher = await batchFlasher(given, {
      options: o,
      yes: Boolean(g.yes),
      json: Boolean(g.json),
      output: { result: (v, t) => out.result(v, t), info: (m) => out.info(m), interactive: out.interactive },
      step: () => {},
      stopProgress: () => {},
      prompt: terminalPrompter,
      store,
    });
    const { entraActivating } = await import('../../provision/entra-flash.js');
    const each = o.entraActivate ? entraActivating(flasher) : flasher;
    await runBatch(store, o, given?.way.loop === 'keys' ? given.family : undefined, each, { count, users }, out);
  });
}
