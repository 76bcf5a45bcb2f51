/**
 * `tokensmith device ...`: the verbs (info, flash, sync, verify, profiles,
 * erase) go through one path (device-run.ts) for every family; this file
 * declares what they share. What is a family's own (its flags, its notes on
 * a shared option, its examples, its own commands) comes from the families
 * once `device` is chosen (device-help.ts); their flags are refused by name
 * for the other families.
 */
import type { Command } from 'commander';
import { outputOf, table, type Output } from '../context.js';
import type { DeviceVerb } from '../../../drivers/family.js';
import { flashBatchCommand, isBatch } from './device-batch.js';
import { registerDeviceModels } from './device-models.js';
import { whenChosen } from './help.js';
import type { VerbExamples } from './device-help.js';
import { runDeviceVerb, type DeviceOpts } from './device-run.js';

/** The verbs this file registers (drivers/family.ts's DEVICE_VERBS; not imported: drivers/ stay off the start-up path). */
const VERB_COMMANDS: readonly DeviceVerb[] = ['info', 'flash', 'sync', 'verify', 'profiles', 'erase'];

const DETECTION_NOTE =
  '\nWithout --model the family is told by what the device answers (each family is asked in turn with a harmless read).';

const readerOptions = (c: Command) =>
  c
    .option('--reader <name>', 'use the reader whose name contains this (case-insensitive)')
    .option('--wait <s>', 'seconds to wait for a token on the reader', '10')
    .option(
      '--model <model>',
      'the model on the reader, instead of asking the device (`tokensmith device models` lists them)',
    );

/** The verbs' own examples (the families' follow them). */
const OWN_EXAMPLES: VerbExamples = {
  info: ['tokensmith device info --reader ACR122'],
  sync: ['tokensmith device sync --reader ACR122'],
  verify: ['tokensmith device verify --code 123456'],
};

const LIST_DESCRIPTION = 'list the PC/SC readers and whether a token is on each';

/** The `device` commands that got their families' parts (once each, whoever asks). */
const done = new WeakSet<Command>();

/**
 * The families' parts of `device`: its description, each verb's description,
 * option texts, flags and examples, what `device list` shows besides the
 * readers, and the families' own commands. Added once `device` is chosen,
 * before it parses (the registry loads the drivers, which the start-up path must not).
 */
export async function addFamilyParts(device: Command): Promise<void> {
  if (done.has(device)) return;
  done.add(device);
  const [{ families }, { provisionFamilies }, help, { registerFamilyCommands }] = await Promise.all([
    import('../../../drivers/registry.js'),
    import('../../provision/families/index.js'),
    import('./device-help.js'),
    import('./device-family-commands.js'),
  ]);
  const list = await families();
  const description = help.deviceDescription(list);
  if (description) device.description(description);
  const listed = list.filter((f) => f.listDevices && f.help?.listed).map((f) => f.help!.listed!);
  device.commands.find((c) => c.name() === 'list')?.description([LIST_DESCRIPTION, ...listed].join(', and '));
  for (const sub of device.commands) {
    const verb = VERB_COMMANDS.find((v) => v === sub.name());
    if (verb) help.addVerbParts(sub, verb, list, OWN_EXAMPLES[verb] ?? []);
  }
  for (const p of await provisionFamilies()) if (p.commands) registerFamilyCommands(device, p.name, p.commands);
}

/** What every family's flash shares, checked before the reader is opened. */
function flashChecks(o: DeviceOpts, yes: boolean) {
  return async (out: Output) => {
    const { UsageError } = await import('../../core/errors.js');
    if (o.seed && o.randomSeed) throw new UsageError('give --seed or --random-seed, not both');
    if (!yes && !o.force && !out.interactive)
      throw new UsageError(
        'device flash writes a seed to the token on the reader: confirm with --yes (no terminal to ask in)',
        'confirm-needed',
      );
  };
}

function registerFlash(device: Command): void {
  readerOptions(device.command('flash'))
    .description('write a fresh seed and the settings to a token, and register it')
    .option(
      '--seed <base32>',
      'the seed to write (default: a fresh one from the system CSPRNG, 20 bytes for sha1, 32 for sha256)',
    )
    .option('--random-seed', 'make a fresh seed (the default)')
    .option('--algorithm <alg>', 'sha1 or sha256')
    .option('--period <s>', 'time step: 30 or 60 seconds')
    .option('--digits <n>', 'code length')
    .option('--display-timeout <s>', 'how long the display stays on: 15, 30, 60 or 120 seconds')
    .option('--resource <name>', "put the token in this Resource's stock")
    .option('--user <login>', 'assign the token to this user of --resource as it is flashed')
    .option('--force', 'overwrite a token the store already holds a seed for')
    .option(
      '--entra-activate',
      'then push the token to Entra ID, assign it to its user and activate it (docs/entra.md)',
    )
    .option(
      '--batch [n]',
      'flash n tokens one after another into one batch, each with its own fresh seed (no n: until no token comes within --wait)',
    )
    .option(
      '--users <csv>',
      'with --resource: assign the tokens of the batch to these users in order (a CSV with a login column)',
    )
    .addHelpText(
      'after',
      '\nThe seed is written only after the token is identified; the token is registered (kind programmable, state\nprogrammed, a flash batch, an audit row) only once it has confirmed every write.' +
        DETECTION_NOTE,
    )
    .action(async (o: DeviceOpts, cmd: Command) => {
      const checks = flashChecks(o, Boolean(cmd.optsWithGlobals().yes));
      if (isBatch(o)) return flashBatchCommand(o, cmd, checks);
      await runDeviceVerb('flash', o, cmd, checks);
    });
}

function registerReadVerbs(device: Command): void {
  readerOptions(device.command('info'))
    .description(
      "show what the token says about itself: serial, model, its clock and offset from this computer's, whether the store knows it",
    )
    .addHelpText('after', DETECTION_NOTE)
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('info', o, cmd));

  readerOptions(device.command('sync'))
    .description(
      "set the token's clock; on models that wipe the seed when the clock is set, writes the stored seed again",
    )
    .option('--algorithm <alg>', 'sha1 or sha256, for a token the store does not know')
    .option('--period <s>', '30 or 60, for a token the store does not know')
    .option('--display-timeout <s>', 'display timeout to write: 15, 30, 60 or 120 (default: the stored one)')
    .addHelpText('after', DETECTION_NOTE)
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('sync', o, cmd));

  readerOptions(device.command('verify'))
    .description(
      'check the code against the stored seed and report the drift in steps (a code read off the display, or read from the token where it tells it)',
    )
    .option('--code <digits>', 'the code the token shows now')
    .option('--window <steps>', 'how many steps either side to search', '10')
    .addHelpText('after', DETECTION_NOTE)
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('verify', o, cmd));
}

function registerProfileVerbs(device: Command): void {
  const customerKey = (c: Command) =>
    c.option('--customer-key <key>', 'the customer key, 32 hex digits or text (default: the factory key)');
  customerKey(readerOptions(device.command('profiles')))
    .description('list what a token holds, each with its store token')
    .option('--all', 'list empty profiles too')
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('profiles', o, cmd));

  customerKey(readerOptions(device.command('erase')))
    .description('delete one seed a token holds; its store token goes back to stock without a seed')
    .option('--force', 'do not ask')
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('erase', o, cmd));
}

export function registerDevice(program: Command): void {
  const device = program
    .command('device')
    .description(
      'program and check tokens on PC/SC readers and USB HID (`tokensmith device models` lists the families)',
    );
  // The families' parts are added only when `device` is chosen (or `help device` asked): the drivers stay off the start-up path.
  whenChosen(program, device, () => addFamilyParts(device));

  device
    .command('list')
    .description(LIST_DESCRIPTION)
    .addHelpText('after', '\nExample:\n  tokensmith device list')
    .action(async (_o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { listDeviceRows } = await import('./device-list.js');
      const readers = await listDeviceRows(out);
      out.result(readers, () =>
        readers.length === 0
          ? 'no readers (plug one in; pcscd must see it)'
          : table(
              ['READER', 'TOKEN', 'ATR'],
              readers.map((r) => [r.name, r.token ? 'yes' : 'no', r.kind === 'pcsc' ? r.atr : r.path]),
            ),
      );
    });

  registerReadVerbs(device);
  registerFlash(device);
  registerProfileVerbs(device);
  registerDeviceModels(device);
}
