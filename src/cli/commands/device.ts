/**
 * `tokensmith device ...`: the verbs (info, flash, sync, verify, profiles,
 * erase) go through one path (device-run.ts) for every family; this file
 * declares their options. Options only some families take come from the
 * families' `flags` and are refused by name for the others.
 */
import type { Command } from 'commander';
import { outputOf, table, type Output } from '../context.js';
import type { DeviceVerb } from '../../../drivers/family.js';
import { flashBatchCommand, isBatch } from './device-batch.js';
import { registerDeviceModels } from './device-models.js';
import { registerMolto2Commands } from './device-molto2.js';
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

/**
 * The flags the families declare for each verb, added to the verb's command
 * just before it parses (the registry loads the drivers, which the start-up
 * path must not): once each, the descriptions of a flag two families share joined.
 */
function addFamilyFlags(device: Command): void {
  device.hook('preSubcommand', async (_device, sub) => {
    const verb = VERB_COMMANDS.find((v) => v === sub.name());
    if (!verb) return;
    const { families } = await import('../../../drivers/registry.js');
    const byFlag = new Map<string, string[]>();
    for (const f of await families())
      for (const fl of f.flags?.[verb] ?? []) byFlag.set(fl.flag, [...(byFlag.get(fl.flag) ?? []), fl.description]);
    for (const [flag, descriptions] of byFlag) sub.option(flag, descriptions.join('; '));
  });
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
    .description('write a fresh seed and the settings to a token (a Molto2: to one profile), and register it')
    .option(
      '--seed <base32>',
      'the seed to write (default: a fresh one from the system CSPRNG, 20 bytes for sha1, 32 for sha256)',
    )
    .option('--random-seed', 'make a fresh seed (the default)')
    .option('--algorithm <alg>', 'sha1 or sha256')
    .option('--period <s>', 'time step: 30 or 60 seconds')
    .option('--digits <n>', 'code length (Token2 NFC tokens show 6 digits; a Molto2 profile 4, 6, 8 or 10)')
    .option('--display-timeout <s>', 'how long the display stays on: 15, 30, 60 or 120 seconds')
    .option('--resource <name>', "put the token in this Resource's stock")
    .option('--user <login>', 'assign the token to this user of --resource as it is flashed')
    .option('--force', 'overwrite a token the store already holds a seed for')
    .option(
      '--entra-activate',
      'then push the token to Entra ID, assign it to its user and activate it (docs/entra.md)',
    )
    .option(
      '--record <cassette>',
      'Token2 NFC, YubiKey: record the session as a cassette (a seed that is not a labelled test seed is redacted)',
    )
    .option(
      '--batch [n]',
      'Token2 NFC, YubiKey: flash n tokens one after another into one batch, each with its own fresh seed (no n: until no token comes within --wait)',
    )
    .option(
      '--users <csv>',
      'with --resource: assign the tokens of the batch to these users in order (a CSV with a login column)',
    )
    .addHelpText(
      'after',
      '\nThe seed is written only after the token is identified; the token is registered (kind programmable, state\nprogrammed, a flash batch, an audit row) only once it has confirmed every write.' +
        DETECTION_NOTE +
        '\n\nExamples:\n  tokensmith device flash --reader ACR122 --algorithm sha256 --period 60 --display-timeout 60 --yes\n  tokensmith device flash --reader Molto2 --profile 3 --title VPN --yes' +
        '\n\nYubiKey (OATH): one credential per flash, one store token per credential:\n  tokensmith device flash --model yubikey-oath --name alice --issuer Corp --algorithm sha256 --digits 8 --period 60 --yes\n  tokensmith device flash --model yubikey-oath --batch 20 --password-file oath.pw --yes' +
        '\n\nYubiKey OTP (OATH-HOTP in slot 1 or 2, registered as UBOM<serial>_<slot>; USB HID, or CCID with --reader):\n  tokensmith device flash --model yubikey-otp --slot 2 --digits 8 --counter 0 --yes\n  tokensmith device flash --model yubikey-otp --slot 1 --access-code - --force --yes   (a protected slot: the code is tried once)',
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
    .addHelpText('after', `${DETECTION_NOTE}\n\nExample:\n  tokensmith device info --reader ACR122`)
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('info', o, cmd));

  readerOptions(device.command('sync'))
    .description(
      "set the token's clock; on models that wipe the seed when the clock is set, writes the stored seed again",
    )
    .option('--algorithm <alg>', 'Token2 NFC, for a C302-i the store does not know: sha1 or sha256')
    .option('--period <s>', 'Token2 NFC, for a C302-i the store does not know: 30 or 60')
    .option(
      '--display-timeout <s>',
      'Token2 NFC: display timeout to write: 15, 30, 60 or 120 (default: the stored one)',
    )
    .addHelpText(
      'after',
      `${DETECTION_NOTE}\n\nExamples:\n  tokensmith device sync --reader ACR122\n  tokensmith device sync --reader Molto2 --all-profiles`,
    )
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('sync', o, cmd));

  readerOptions(device.command('verify'))
    .description(
      'check the code against the stored seed and report the drift in steps (a code read off the display, or read from the token where it tells it)',
    )
    .option('--code <digits>', 'the code the token shows now (a Protectimus tells its own)')
    .option('--window <steps>', 'how many steps either side to search', '10')
    .addHelpText('after', `${DETECTION_NOTE}\n\nExample:\n  tokensmith device verify --code 123456`)
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('verify', o, cmd));
}

function registerProfileVerbs(device: Command): void {
  const customerKey = (c: Command) =>
    c.option('--customer-key <key>', 'the customer key, 32 hex digits or text (default: the factory key)');
  customerKey(readerOptions(device.command('profiles')))
    .description(
      'list the profiles of a Molto2 (title, algorithm, digits, time step, seed present), or the OATH credentials of a YubiKey (--model yubikey-oath), each with its store token',
    )
    .option('--all', 'list empty profiles too')
    .addHelpText(
      'after',
      '\nExamples:\n  tokensmith device profiles --reader Molto2 --json\n  tokensmith device profiles --model yubikey-oath --password-file oath.pw',
    )
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('profiles', o, cmd));

  customerKey(readerOptions(device.command('erase')))
    .description(
      'delete the seed of one Molto2 profile (--profile), or one YubiKey OATH credential (--model yubikey-oath --name); its store token goes back to stock without a seed',
    )
    .option('--force', 'do not ask')
    .addHelpText(
      'after',
      '\nExamples:\n  tokensmith device erase --profile 3 --yes\n  tokensmith device erase --model yubikey-oath --name Corp:alice --yes',
    )
    .action((o: DeviceOpts, cmd: Command) => runDeviceVerb('erase', o, cmd));
}

export function registerDevice(program: Command): void {
  const device = program
    .command('device')
    .description(
      'program and check tokens on a PC/SC reader (Token2 NFC cards and fobs, Token2 Molto2, Protectimus Slim NFC and Flex, YubiKey OATH) or USB HID (YubiKey OTP slots)',
    );

  device
    .command('list')
    .description('list the PC/SC readers and whether a token is on each, and the YubiKeys on USB HID')
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
              readers.map((r) => [r.name, r.token ? 'yes' : 'no', r.kind === 'hid' ? r.path : r.atr]),
            ),
      );
    });

  addFamilyFlags(device);
  registerReadVerbs(device);
  registerFlash(device);
  registerProfileVerbs(device);
  registerMolto2Commands(device);
  registerDeviceModels(device);
}
