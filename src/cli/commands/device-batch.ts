/**
 * `device flash --batch [n] [--users csv]`: Token2 NFC tokens one after
 * another on one PC/SC context (the loop itself is flashBatch in
 * src/provision/token2-flash.ts). Only the token2-nfc family flashes in batches.
 */
import type { Command } from 'commander';
import { withStore, type Output } from '../context.js';
import type { Store } from '../../store/types.js';
import type { DeviceOpts } from './device-run.js';

type ReaderOpts = { reader?: string; wait?: string; model?: string };
type FlashInput = import('../../provision/token2-flash.js').FlashInput;

/** `device flash --batch [n] [--users csv]`: one PC/SC context, one token after another. */
export async function flashSeveral(store: Store, o: ReaderOpts & Record<string, string | boolean | undefined>, input: FlashInput, out: Output): Promise<void> {
  const { UsageError } = await import('../../core/errors.js');
  if (input.seed) throw new UsageError('--seed with --batch would give every token the same seed: leave it out, each token gets a fresh one');
  if (o.record) throw new UsageError('--record records one session: leave out --batch');
  if (o.users && !input.resource) throw new UsageError('--users needs --resource: the tokens are assigned to users within a Resource');
  const count = o.batch === undefined || o.batch === true ? null : Number(o.batch);
  if (count !== null && (!Number.isInteger(count) || count < 1)) throw new UsageError(`--batch must be a whole number from 1, got '${o.batch}'`);
  const { flashBatch, readBatchUsers } = await import('../../provision/token2-flash.js');
  const users = typeof o.users === 'string' ? await readBatchUsers(o.users) : undefined;
  const { PcscContext } = await import('../../transport/pcsc.js');
  const ctx = await PcscContext.open();
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  // Ctrl-C: the token being written is finished (never abandoned half-way), then the run stops.
  const stop = { requested: false };
  let wakeWaiting: (() => void) | null = null;
  let writing = false;
  const onSigint = () => {
    if (stop.requested) process.exit(130);
    stop.requested = true;
    out.info(writing ? 'Ctrl-C: finishing the token on the reader, then stopping (Ctrl-C again to quit at once)' : 'Ctrl-C: stopping; no token was being written');
    wakeWaiting?.();
  };
  process.on('SIGINT', onSigint);
  const { TokensmithError } = await import('../../core/errors.js');
  const next = () =>
    Promise.race([
      ctx.select({ reader: o.reader, waitSeconds: wait, onWaiting: () => out.info(`put the next token on the reader (waiting up to ${wait} s)`) }).then((t) => ((writing = true), t)),
      new Promise<never>((_, reject) => (wakeWaiting = () => reject(new TokensmithError('stopped', { code: 'stopped' })))),
    ]);
  try {
    const r = await flashBatch(store, count, next, { ...input, users }, {
      stop,
      onToken: (i, res, c) => {
        writing = false;
        const line = res instanceof Error ? (res.code === 'seed-present' ? `skipped ${res.where ?? ''} (in the store with a seed; --force flashes it)` : `FAILED: ${res.message}`) : `flashed ${res.serial} (${res.product ?? res.model})${res.token.user ? `, assigned to ${res.token.user}` : ''}`;
        out.info(`#${i + 1}: ${line}  [done ${c.done} / failed ${c.failed} / skipped ${c.skipped}]`);
      },
      done: async (t, _i, last) => {
        if (last || !t.isPresent()) return;
        out.info('take the token off the reader');
        await new Promise<void>((resolve) => {
          const off = t.onRemoved(() => {
            off();
            resolve();
          });
          if (!t.isPresent()) resolve();
        });
      },
    });
    out.result(r, () =>
      [
        `batch ${r.batch}${r.stopped ? ' (stopped by Ctrl-C)' : ''}: ${r.flashed.length} flashed, ${r.skipped.length} skipped, ${r.failed.length} failed`,
        ...r.flashed.map((f) => `  flashed  ${f.serial}${f.token.user ? ` -> ${f.token.user}` : ''}`),
        ...r.skipped.map((f) => `  skipped  ${f.serial ?? `#${f.index}`} (${f.reason})`),
        ...r.failed.map((f) => `  failed   ${f.serial ?? `#${f.index}`}: ${f.message}`),
      ].join('\n'),
    );
    if (r.failed.length > 0) {
      throw new TokensmithError(`batch ${r.batch}: ${r.failed.length} token(s) failed: ${r.failed.map((f) => `#${f.index} ${f.serial ?? ''} ${f.error}`).join('; ')}`, { exitCode: 3, code: 'batch-partly-failed', resultPrinted: true });
    }
  } finally {
    process.off('SIGINT', onSigint);
    await ctx.close();
  }
}


/** Whether this flash is a batch. */
export function isBatch(o: DeviceOpts): boolean {
  return o.batch !== undefined || o.users !== undefined;
}

/** The --batch entry: refused by name for a --model of another family, then the settings checked and the batch run. */
export async function flashBatchCommand(o: DeviceOpts, cmd: Command, before: (out: Output) => Promise<void>): Promise<void> {
  if (typeof o.model === 'string') {
    const { familyForVerb } = await import('../../../drivers/registry.js');
    const family = await familyForVerb('flash', o.model);
    if (family.name !== 'token2-nfc') {
      const { UsageError } = await import('../../core/errors.js');
      throw new UsageError(`${o.model} has no --batch (--batch and --users flash Token2 NFC tokens, one seed each)`, 'no-such-flag');
    }
  }
  await withStore(cmd, async (store: Store, out) => {
    await before(out);
    const { flashSettings } = await import('../../provision/device-verbs/token2-nfc.js');
    const raw = await flashSettings({ options: o, output: out, yes: Boolean(cmd.optsWithGlobals().yes), stopProgress: () => {} });
    const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
    const { parseFlashInput } = await import('../../provision/token2-flash.js');
    const input = parseFlashInput({ seed: str('seed'), algorithm: str('algorithm'), period: str('period'), displayTimeout: str('displayTimeout'), model: str('model'), resource: str('resource'), user: str('user'), force: Boolean(raw.force) });
    await flashSeveral(store, o as ReaderOpts & DeviceOpts, input, out);
  });
}
