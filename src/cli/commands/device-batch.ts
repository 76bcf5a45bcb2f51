/**
 * `device flash --batch [n] [--users csv]`: tokens one after another on one
 * PC/SC context (the loop itself is the flash-batch service,
 * src/provision/flash-batch.ts); a family whose batch is its own loop of keys
 * (the family's `batch` in src/provision/families/<family>/index.ts) runs
 * device-batch-keys.ts.
 */
import type { Command } from 'commander';
import { withStore, type Output } from '../context.js';
import type { Store } from '../../store/types.js';
import type { DeviceOpts } from './device-run.js';
import { terminalPrompter } from '../prompter.js';

type ReaderOpts = { reader?: string; wait?: string; model?: string };
type FlashInput = import('../../provision/families/token2-nfc/flash.js').FlashInput;

/** `device flash --batch [n] [--users csv]`: one PC/SC context, one token after another. */
export async function flashSeveral(
  store: Store,
  o: ReaderOpts & Record<string, string | boolean | undefined>,
  input: FlashInput,
  out: Output,
): Promise<void> {
  const { UsageError } = await import('../../core/errors.js');
  if (input.seed)
    throw new UsageError(
      '--seed with --batch would give every token the same seed: leave it out, each token gets a fresh one',
    );
  if (o.record) throw new UsageError('--record records one session: leave out --batch');
  if (o.users && !input.resource)
    throw new UsageError('--users needs --resource: the tokens are assigned to users within a Resource');
  const count = o.batch === undefined || o.batch === true ? null : Number(o.batch);
  if (count !== null && (!Number.isInteger(count) || count < 1))
    throw new UsageError(`--batch must be a whole number from 1, got '${o.batch}'`);
  const { token2Flasher } = await import('../../provision/families/token2-nfc/flash.js');
  const { readBatchUsers } = await import('../../provision/batch-users.js');
  const users = typeof o.users === 'string' ? await readBatchUsers(o.users) : undefined;
  const { PcscContext } = await import('../../transport/pcsc.js');
  const { BatchStop } = await import('../../provision/flash-batch.js');
  const { runCliBatch } = await import('./batch-flash.js');
  const ctx = await PcscContext.open();
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  // Ctrl-C: a token being written is finished (never abandoned half-way), one not yet written is cancelled, then the run stops.
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
  process.on('SIGINT', onSigint);
  const source = {
    next: async () => {
      writing = false;
      const t = await ctx.select({
        reader: o.reader,
        waitSeconds: wait,
        onWaiting: () => out.info(`put the next token on the reader (waiting up to ${wait} s)`),
      });
      writing = true;
      return t;
    },
  };
  try {
    const flasher = o.entraActivate
      ? (await import('../../provision/entra-flash.js')).entraActivating(token2Flasher(input))
      : token2Flasher(input);
    await runCliBatch(store, source, flasher, { count, users, stop }, out);
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
export async function flashBatchCommand(
  o: DeviceOpts,
  cmd: Command,
  before: (out: Output) => Promise<void>,
): Promise<void> {
  if (typeof o.model === 'string') {
    const { familyForVerb } = await import('../../../drivers/registry.js');
    const family = await familyForVerb('flash', o.model);
    const { provisionFamilies, provisionOf } = await import('../../provision/families/index.js');
    const way = (await provisionOf(family))?.batch;
    if (way?.loop === 'keys' && o.users === undefined) {
      const { familyGiven } = await import('../../provision/device-session.js');
      await familyGiven('flash', o);
      const { keysBatch } = await import('./device-batch-keys.js');
      return keysBatch(family, o.model, o, cmd, before);
    }
    if (way?.loop !== 'flasher' || (o.users !== undefined && !way.users)) {
      const { UsageError } = await import('../../core/errors.js');
      const ways = (await provisionFamilies()).flatMap((p) => (p.batch ? [p.batch.what] : []));
      throw new UsageError(
        `${o.model} has no ${way ? '--users' : '--batch'} (--batch flashes ${ways.join('; ')}; --users goes with a batch that assigns as it flashes)`,
        'no-such-flag',
      );
    }
  }
  await withStore(cmd, async (store: Store, out) => {
    await before(out);
    const { flashSettings } = await import('../../provision/families/token2-nfc/verbs.js');
    const raw = await flashSettings({
      options: o,
      output: out,
      yes: Boolean(cmd.optsWithGlobals().yes),
      stopProgress: () => {},
      prompt: terminalPrompter,
    });
    const str = (k: string) => (typeof raw[k] === 'string' ? (raw[k] as string) : undefined);
    const { parseFlashInput } = await import('../../provision/families/token2-nfc/flash.js');
    const input = parseFlashInput({
      seed: str('seed'),
      algorithm: str('algorithm'),
      period: str('period'),
      displayTimeout: str('displayTimeout'),
      model: str('model'),
      resource: str('resource'),
      user: str('user'),
      force: Boolean(raw.force),
    });
    await flashSeveral(store, o as ReaderOpts & DeviceOpts, input, out);
  });
}
