import type { Command } from 'commander';
import { globalsOf, outputOf, table, withStore, type Output } from '../context.js';
import type { ApduTransport } from '../../transport/types.js';
import type { Store } from '../../store/types.js';
import { addFamilyOptions, familyAfterOpen, familyFirst, registerFamilyCommands } from './device-families.js';
import { addYubikeyOtpOptions } from './device-yubikey-otp.js';
import { registerDeviceModels } from './device-models.js';

interface ReaderOpts {
  reader?: string;
  wait?: string;
  model?: string;
}

/** A spinner on stderr when a person watches, plain lines otherwise (never on stdout). */
async function progress(out: Output, json: boolean) {
  if (out.interactive && !json) {
    const { default: ora } = await import('ora');
    const spinner = ora({ stream: process.stderr });
    return { step: (t: string) => (spinner.isSpinning ? (spinner.text = t) : spinner.start(t)), stop: () => spinner.stop() };
  }
  return { step: (_t: string) => {}, stop: () => {} };
}

async function openReader(o: ReaderOpts, out: Output, step: (t: string) => void): Promise<ApduTransport> {
  const { openPcscTransport } = await import('../../transport/pcsc.js');
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`--wait must be a number of seconds, got '${o.wait}'`);
  }
  return openPcscTransport({
    reader: o.reader,
    waitSeconds: wait,
    onWaiting: (names) => {
      const text = `waiting up to ${wait} s for a token on ${names.map((n) => `"${n}"`).join(' or ')}`;
      if (out.interactive) step(text);
      else out.info(text);
    },
  });
}

async function checkModel(model: string | undefined) {
  if (model === undefined) return undefined;
  const { isToken2Model } = await import('../../../drivers/token2-nfc/protocol.js');
  if (!isToken2Model(model)) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`--model: '${model}' is not a model this command drives; use token2-card, token2-fob or token2-fob-c302`, 'bad-model');
  }
  return model;
}

const readerOptions = (c: Command) =>
  c
    .option('--reader <name>', 'use the reader whose name contains this (case-insensitive)')
    .option('--wait <s>', 'seconds to wait for a token on the reader', '10')
    .option('--model <model>', 'force the model instead of reading it from the serial (`tokensmith device models` lists them)');

type FlashInput = import('../../provision/token2-flash.js').FlashInput;

/** `device flash --batch [n] [--users csv]`: one PC/SC context, one token after another. */
async function flashSeveral(store: Store, o: ReaderOpts & Record<string, string | boolean | undefined>, input: FlashInput, out: Output): Promise<void> {
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

export function registerDevice(program: Command): void {
  const device = program.command('device').description('program and check tokens on a PC/SC NFC reader (Token2 cards and key fobs)');

  device
    .command('list')
    .description('list the PC/SC readers and whether a token is on each, and the YubiKeys on USB HID')
    .addHelpText('after', '\nExample:\n  tokensmith device list')
    .action(async (_o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { listDeviceRows } = await import('./device-yubikey-otp.js');
      const readers = await listDeviceRows(out);
      out.result(readers, () => (readers.length === 0 ? 'no readers (plug one in; pcscd must see it)' : table(['READER', 'TOKEN', 'ATR'], readers.map((r) => [r.name, r.token ? 'yes' : 'no', r.kind === 'hid' ? r.path : r.atr]))));
    });

  readerOptions(device.command('info'))
    .description("show the token's serial, model, its clock and its offset from this computer's clock")
    .addHelpText('after', '\nExample:\n  tokensmith device info --reader ACR122')
    .action(async (o: ReaderOpts, cmd: Command) => {
      if (await familyFirst('info', o, cmd)) return;
      await withStore(cmd, async (store, out) => {
        const p = await progress(out, Boolean(globalsOf(cmd).json));
        const transport = await openReader(o, out, p.step);
        try {
          if (await familyAfterOpen('info', transport, store, out, o, cmd)) return;
          const { deviceInfo } = await import('../../provision/token2-device.js');
          const v = await deviceInfo(store, transport, { model: await checkModel(o.model), onStep: p.step });
          p.stop();
          out.result(v, () =>
            [
              `serial        ${v.serial}`,
              `model         ${v.model}${v.product ? ` (${v.product})` : ''}`,
              `reader        ${v.reader}`,
              `token clock   ${v.deviceTime}`,
              `offset        ${v.offsetSeconds >= 0 ? '+' : ''}${v.offsetSeconds} s from this computer`,
              `sync          ${v.wipesSeedOnSync ? 'wipes the seed (a sync writes the seed again)' : 'keeps the seed'}`,
              `in store      ${v.inStore ? `yes, ${v.state}` : 'no'}`,
            ].join('\n'),
          );
        } finally {
          p.stop();
          await transport.close();
        }
      });
    });

  readerOptions(device.command('flash'))
    .description('write a fresh seed, the clock, algorithm, time step and display timeout to a token, and register it')
    .option('--seed <base32>', 'the seed to write (default: a fresh one from the system CSPRNG, 20 bytes for sha1, 32 for sha256)')
    .option('--random-seed', 'make a fresh seed (the default)')
    .option('--algorithm <alg>', 'sha1 or sha256')
    .option('--period <s>', 'time step: 30 or 60 seconds')
    .option('--digits <n>', 'code length (Token2 NFC tokens show 6 digits)')
    .option('--display-timeout <s>', 'how long the display stays on: 15, 30, 60 or 120 seconds')
    .option('--resource <name>', "put the token in this Resource's stock")
    .option('--user <login>', 'assign the token to this user of --resource as it is flashed')
    .option('--force', 'overwrite a token the store already holds a seed for')
    .option('--record <cassette>', 'record the session as a cassette (a seed that is not a labelled test seed is redacted)')
    .option('--batch [n]', 'flash n tokens one after another into one batch, each with its own fresh seed (no n: until no token comes within --wait)')
    .option('--users <csv>', 'with --resource: assign the tokens of the batch to these users in order (a CSV with a login column)')
    .addHelpText(
      'after',
      '\nThe seed is written only after the token is identified; the token is registered (kind programmable, state\nprogrammed, a flash batch, an audit row) only once it has confirmed every write.\n\nExample:\n  tokensmith device flash --reader ACR122 --algorithm sha256 --period 60 --display-timeout 60 --yes',
    )
    .action(async (o: ReaderOpts & Record<string, string | boolean | undefined>, cmd: Command) => {
      if (await familyFirst('flash', o, cmd)) return;
      const g = globalsOf(cmd);
      await withStore(cmd, async (store, out) => {
        const { UsageError } = await import('../../core/errors.js');
        if (o.seed && o.randomSeed) throw new UsageError('give --seed or --random-seed, not both');
        if (o.digits !== undefined && Number(o.digits) !== 6) throw new UsageError(`--digits: Token2 NFC tokens show 6 digits; ${o.digits} is not possible`, 'bad-digits');
        const interactive = out.interactive && !g.yes;
        const raw = { ...o } as Record<string, string | boolean | undefined>;
        if (interactive) {
          const { select, input } = await import('@inquirer/prompts');
          raw.algorithm ??= await select({ message: 'Algorithm', choices: [{ value: 'sha1' }, { value: 'sha256' }] });
          raw.period ??= await select({ message: 'Time step', choices: [{ name: '30 s', value: '30' }, { name: '60 s', value: '60' }] });
          raw.displayTimeout ??= await select({ message: 'Display timeout', choices: ['15', '30', '60', '120'].map((v) => ({ name: `${v} s`, value: v })), default: '30' });
          if (raw.resource === undefined) raw.resource = (await input({ message: 'Resource (empty: none)' })).trim() || undefined;
          if (raw.resource && raw.user === undefined) raw.user = (await input({ message: 'Assign to user (empty: nobody)' })).trim() || undefined;
        } else if (!g.yes && !o.force) {
          throw new UsageError('device flash overwrites the seed of the token on the reader: confirm with --yes (no terminal to ask in)', 'confirm-needed');
        }
        const { parseFlashInput, flashToken } = await import('../../provision/token2-flash.js');
        const input = parseFlashInput({
          seed: o.seed as string | undefined,
          algorithm: raw.algorithm as string | undefined,
          period: raw.period as string | undefined,
          displayTimeout: raw.displayTimeout as string | undefined,
          model: await checkModel(o.model),
          resource: raw.resource as string | undefined,
          user: raw.user as string | undefined,
          force: Boolean(o.force),
        });
        if (o.batch !== undefined || o.users) {
          await flashSeveral(store, o, input, out);
          return;
        }
        const p = await progress(out, Boolean(g.json));
        let transport = await openReader(o, out, p.step);
        const mine = await familyAfterOpen('flash', transport, store, out, o, cmd).catch(async (e) => {
          p.stop();
          await transport.close();
          throw e;
        });
        if (mine) return void (await transport.close());
        let session: import('../../provision/cassettes.js').RecordSession | null = null;
        if (typeof o.record === 'string') {
          const { startRecording } = await import('../../provision/cassettes.js');
          session = startRecording(transport, o.record, {
            source: /virtual pcd/i.test(transport.readerName) ? 'simulator' : 'hardware',
            operation: 'flash',
            params: { algorithm: input.algorithm, period: input.period, displayTimeout: input.displayTimeout, ...(input.model ? { model: input.model } : {}) },
            seed: input.seed ?? null,
            // The family until the token says its model (a failed flash may never learn it).
            model: input.model ?? 'token2-nfc',
          });
          transport = session.transport;
        }
        try {
          const r = await flashToken(store, transport, input, {
            now: session?.clock.now,
            onStep: p.step,
            confirm: interactive
              ? async (info, existing) => {
                  p.stop();
                  const { confirm } = await import('@inquirer/prompts');
                  return confirm({
                    message: `Write a new seed to ${info.product ?? info.model} ${info.serial}${existing ? ` (in the store: ${existing.state})` : ''}? Any seed it holds is lost.`,
                    default: true,
                  });
                }
              : undefined,
          });
          session?.save({ ok: true }, { model: r.model });
          p.stop();
          out.result(
            r,
            `flashed ${r.serial} (${r.product ?? r.model}) on "${r.reader}": ${r.algorithm}, ${r.period} s, display ${r.displayTimeout} s; ` +
              `its clock was ${r.clockOffsetBefore >= 0 ? '+' : ''}${r.clockOffsetBefore} s off, now ${r.clockOffsetAfter >= 0 ? '+' : ''}${r.clockOffsetAfter} s; ` +
              `state ${r.token.state}, batch ${r.batch}${r.token.user ? `, assigned to ${r.token.user} in ${r.token.resource}` : r.token.resource ? `, in ${r.token.resource}` : ''}`,
          );
        } catch (e) {
          const { TokensmithError } = await import('../../core/errors.js');
          session?.save({ ok: false, error: e instanceof TokensmithError ? e.code : 'failure' });
          throw e;
        } finally {
          p.stop();
          await transport.close();
        }
      });
    });

  readerOptions(device.command('sync'))
    .description("set the token's clock; on models that wipe the seed when the clock is set, writes the stored seed again")
    .option('--algorithm <alg>', 'for a C302-i the store does not know: sha1 or sha256')
    .option('--period <s>', 'for a C302-i the store does not know: 30 or 60')
    .option('--display-timeout <s>', 'display timeout to write: 15, 30, 60 or 120 (default: the stored one)')
    .addHelpText('after', '\nExample:\n  tokensmith device sync --reader ACR122')
    .action(async (o: ReaderOpts & { algorithm?: string; period?: string; displayTimeout?: string }, cmd: Command) => {
      if (await familyFirst('sync', o, cmd)) return;
      await withStore(cmd, async (store, out) => {
        const { parseFlashInput } = await import('../../provision/token2-flash.js');
        const { syncDevice } = await import('../../provision/token2-device.js');
        const checked = o.algorithm || o.period || o.displayTimeout ? parseFlashInput({ algorithm: o.algorithm, period: o.period, displayTimeout: o.displayTimeout }) : null;
        const p = await progress(out, Boolean(globalsOf(cmd).json));
        const transport = await openReader(o, out, p.step);
        try {
          if (await familyAfterOpen('sync', transport, store, out, o, cmd)) return;
          const r = await syncDevice(store, transport, {
            model: await checkModel(o.model),
            onStep: p.step,
            algorithm: o.algorithm ? checked!.algorithm : undefined,
            period: o.period ? checked!.period : undefined,
            displayTimeout: o.displayTimeout ? checked!.displayTimeout : undefined,
          });
          p.stop();
          out.result(r, `synced ${r.serial} (${r.product ?? r.model}): clock was ${r.offsetBefore >= 0 ? '+' : ''}${r.offsetBefore} s off, now ${r.offsetAfter >= 0 ? '+' : ''}${r.offsetAfter} s${r.seedRewritten ? '; the seed was written again from the store (this model wipes it on a clock set)' : ''}`);
        } finally {
          p.stop();
          await transport.close();
        }
      });
    });

  readerOptions(device.command('verify'))
    .description("check a code read off the token's display against the stored seed, and report the drift in steps")
    .option('--code <digits>', 'the code the token shows now')
    .option('--window <steps>', 'how many steps either side to search', '10')
    .addHelpText('after', '\nExample:\n  tokensmith device verify --code 123456')
    .action(async (o: ReaderOpts & { code?: string; window: string }, cmd: Command) => {
      if (await familyFirst('verify', o, cmd)) return;
      const g = globalsOf(cmd);
      await withStore(cmd, async (store, out) => {
        let code = o.code;
        if (code === undefined) {
          const { UsageError } = await import('../../core/errors.js');
          if (!out.interactive || g.yes) throw new UsageError('--code is missing: give the code the token displays');
          const { input } = await import('@inquirer/prompts');
          code = await input({ message: 'Code on the display' });
        }
        const { verifyDevice } = await import('../../provision/token2-device.js');
        const p = await progress(out, Boolean(g.json));
        const transport = await openReader(o, out, p.step);
        try {
          if (await familyAfterOpen('verify', transport, store, out, o, cmd)) return;
          const r = await verifyDevice(store, transport, code, { model: await checkModel(o.model), window: Number(o.window), onStep: p.step });
          p.stop();
          out.result(r, `code ${r.code} from ${r.serial} matches its stored seed; drift ${r.driftSteps! >= 0 ? '+' : ''}${r.driftSteps} step(s)`);
        } finally {
          p.stop();
          await transport.close();
        }
      });
    });

  addFamilyOptions(device);
  addYubikeyOtpOptions(device);
  registerFamilyCommands(device);
  registerDeviceModels(device);
}
