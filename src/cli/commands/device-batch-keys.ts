/**
 * `device flash --model yubikey-oath|yubikey-otp --batch [n]`: YubiKeys one
 * after another into one flash batch, each with a fresh seed. The OATH keys
 * come one by one on a PC/SC context (src/provision/families/yubikey/oath-batch.ts);
 * the OTP keys are opened the family's way (USB HID, or CCID with --reader)
 * and each is taken away before the next.
 */
import type { Command } from 'commander';
import { globalsOf, withStore, type Output } from '../context.js';
import type { DeviceFamily } from '../../../drivers/family.js';
import type { Store } from '../../store/types.js';
import type { OathFlashInput } from '../../provision/families/yubikey/oath.js';
import type { YubikeyOtpInput } from '../../provision/families/yubikey/otp.js';
import type { PasswordSource } from '../../../drivers/yubikey/oath-driver.js';
import { openDevice, type DeviceOpts } from './device-run.js';
import { terminalPrompter } from '../prompter.js';

/** n of --batch n, or null for "until no key comes within --wait". */
async function batchCount(o: DeviceOpts): Promise<number | null> {
  const { UsageError } = await import('../../core/errors.js');
  const count = o.batch === undefined || o.batch === true ? null : Number(o.batch);
  if (count !== null && (!Number.isInteger(count) || count < 1))
    throw new UsageError(`--batch must be a whole number from 1, got '${String(o.batch)}'`);
  return count;
}

/** OATH: keys one after another on one PC/SC context. */
async function flashOathKeys(
  store: Store,
  o: DeviceOpts,
  input: OathFlashInput & { password: PasswordSource },
  count: number | null,
  out: Output,
): Promise<void> {
  const { TokensmithError } = await import('../../core/errors.js');
  const { PcscContext } = await import('../../transport/pcsc.js');
  const { NoTokenError } = await import('../../transport/errors.js');
  const { flashOathBatch } = await import('../../provision/families/yubikey/oath-batch.js');
  const ctx = await PcscContext.open();
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  try {
    const r = await flashOathBatch(store, count, input, {
      next: () =>
        ctx
          .select({
            reader: o.reader as string | undefined,
            waitSeconds: wait,
            onWaiting: () => out.info(`put the next YubiKey on the reader (waiting up to ${wait} s)`),
          })
          .catch((e) => (e instanceof NoTokenError && count === null ? null : Promise.reject(e))),
      onKey: (i, res) =>
        out.info(
          `#${i + 1}: ${res instanceof Error ? `FAILED: ${res.message}` : `wrote '${res.credential}' to ${res.deviceId} (store ${res.serial})`}`,
        ),
      done: async (t, last) => {
        if (last || !t.isPresent()) return;
        out.info('take the YubiKey off the reader');
        await new Promise<void>((resolve) => {
          const off = t.onRemoved(() => (off(), resolve()));
          if (!t.isPresent()) resolve();
        });
      },
    });
    out.result(r, () =>
      [
        `batch ${r.batch}: ${r.flashed.length} flashed, ${r.failed.length} failed`,
        ...r.flashed.map((f) => `  flashed  ${f.serial} '${f.credential}'`),
        ...r.failed.map((f) => `  failed   #${f.index}: ${f.message}`),
      ].join('\n'),
    );
    if (r.failed.length > 0)
      throw new TokensmithError(`batch ${r.batch}: ${r.failed.length} key(s) failed`, {
        exitCode: 3,
        code: 'batch-partly-failed',
        resultPrinted: true,
      });
  } finally {
    await ctx.close();
  }
}

/** OTP: each key opened as a single flash opens it, programmed, then taken away before the next. */
async function flashOtpKeys(
  store: Store,
  family: DeviceFamily,
  o: DeviceOpts,
  cmd: Command,
  input: YubikeyOtpInput,
  count: number | null,
  out: Output,
): Promise<void> {
  const { flashOtpKey, describeOtpResult } = await import('../../provision/families/yubikey/otp-verbs.js');
  const batchId = (
    await store.batches.create({
      kind: 'flash',
      sourceName: 'yubikey-otp',
      format: 'yubikey-otp',
      operator: store.operator,
    })
  ).id;
  const flashed: string[] = [];
  const g = globalsOf(cmd);
  const output = { result: () => {}, info: (m: string) => out.info(m), interactive: out.interactive };
  try {
    for (let i = 0; count === null || i < count; i++) {
      const transport = await openDevice(family, o, out).catch((e: { code?: string }) => {
        // Without n, the batch ends when no key comes within --wait.
        if (count === null && i > 0 && e.code === 'no-token') return null;
        throw e;
      });
      if (!transport) break;
      try {
        const ctx = {
          family,
          model: 'yubikey-otp',
          modelGiven: true,
          transport,
          options: o,
          yes: Boolean(g.yes),
          json: Boolean(g.json),
          output,
          step: () => {},
          stopProgress: () => {},
          prompt: terminalPrompter,
          store,
        };
        const r = await flashOtpKey(ctx, { ...input, batchId });
        out.info(describeOtpResult(r));
        flashed.push(r.serial);
        out.info(`flashed ${r.serial}; take the key away for the next one`);
        await new Promise<void>((resolve) => (transport.isPresent() ? transport.onRemoved(resolve) : resolve()));
      } finally {
        await transport.close();
      }
    }
  } finally {
    await store.batches.finish(batchId, { imported: flashed.length, skipped: 0, failed: 0 }, 'done');
  }
  out.result(
    { batch: batchId, flashed },
    `batch ${batchId}: ${flashed.length} key(s) programmed: ${flashed.join(', ')}`,
  );
}

/** A batch of keys (the yubikey family's `batch.loop` is `keys`): the family's checks before any key is opened, then the model's loop. */
export async function keysBatch(
  family: DeviceFamily,
  model: string,
  o: DeviceOpts,
  cmd: Command,
  before: (out: Output) => Promise<void>,
): Promise<void> {
  const g = globalsOf(cmd);
  await withStore(cmd, async (store, out) => {
    await before(out);
    const { UsageError } = await import('../../core/errors.js');
    const { verbChecks } = await import('../../provision/families/index.js');
    const output = {
      result: (v: unknown, t: string | (() => string)) => out.result(v, t),
      info: (m: string) => out.info(m),
      interactive: out.interactive,
    };
    const prepared = await (
      await verbChecks(family, 'flash')
    )?.({
      family,
      model,
      modelGiven: true,
      options: o,
      yes: Boolean(g.yes),
      json: Boolean(g.json),
      output,
      step: () => {},
      stopProgress: () => {},
      prompt: terminalPrompter,
      store,
    });
    if (o.seed)
      throw new UsageError(
        `--seed with --batch would give every key the same seed: leave it out, each ${model === 'yubikey-otp' ? 'key' : 'credential'} gets a fresh one`,
      );
    if (o.record) throw new UsageError('--record records one session: leave out --batch');
    const count = await batchCount(o);
    if (model === 'yubikey-otp') return flashOtpKeys(store, family, o, cmd, prepared as YubikeyOtpInput, count, out);
    const p = prepared as { password: PasswordSource; input: OathFlashInput };
    await flashOathKeys(store, o, { ...p.input, password: p.password }, count, out);
  });
}
