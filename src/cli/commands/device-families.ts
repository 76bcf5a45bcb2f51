/**
 * The `device` commands for the Molto2 (multi-profile USB) and the Protectimus
 * Slim NFC / Flex: extra options on flash/info/sync/verify, and the
 * `device profiles`, `device erase`, `device molto2` subcommands. device.ts
 * calls `familyFirst` (before its own work) and `familyAfterOpen` (once the
 * reader is open, for a family told by the reader name or the ATR).
 */
import type { Command } from 'commander';
import { globalsOf, table, withStore, type Output } from '../context.js';
import type { Store } from '../../store/types.js';
import type { ApduTransport } from '../../transport/types.js';
import type { DeviceFamily } from '../../../drivers/family.js';

export type DeviceVerb = 'flash' | 'info' | 'sync' | 'verify';
type Opts = Record<string, string | boolean | undefined>;

/** The families whose verbs this file and device.ts implement. */
const BUILT_IN_NAMES = ['token2-nfc', 'token2-molto2', 'protectimus'];
const MY_MODELS = ['token2-molto2', 'protectimus-slim', 'protectimus-flex'];

function sign(n: number): string {
  return `${n >= 0 ? '+' : ''}${n}`;
}

async function openReader(o: Opts, out: Output): Promise<ApduTransport> {
  const { openPcscTransport } = await import('../../transport/pcsc.js');
  const wait = o.wait === undefined ? 10 : Number(o.wait);
  if (!Number.isFinite(wait) || wait < 0) {
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`--wait must be a number of seconds, got '${o.wait}'`);
  }
  return openPcscTransport({ reader: o.reader as string | undefined, waitSeconds: wait, onWaiting: (names) => out.info(`waiting up to ${wait} s for a token on ${names.map((n) => `"${n}"`).join(' or ')}`) });
}

/** Options this file adds to device.ts's commands. */
export function addFamilyOptions(device: Command): void {
  const sub = (name: string) => device.commands.find((c) => c.name() === name)!;
  sub('flash')
    .option('--profile <n>', 'Molto2: the profile to write (0-99 on a Molto2v2, 0-49 on a Molto2)')
    .option('--title <t>', 'Molto2: the profile title shown on the display (up to 12 bytes)')
    .option('--customer-key <key>', 'Molto2: the customer key, 32 hex digits or text (default: the factory key); never logged');
  sub('info').option('--serial <s>', 'Protectimus: the serial printed on the token, to match it in the store');
  sub('sync')
    .option('--profile <n>', 'Molto2: set the clock of this profile')
    .option('--all-profiles', 'Molto2: set the clock of every profile')
    .option('--customer-key <key>', 'Molto2: the customer key (default: the factory key)')
    .option('--serial <s>', 'Protectimus: the serial printed on the token, to match it in the store');
  sub('verify').option('--serial <s>', 'Protectimus: the serial printed on the token (the token reads its own code; no --code needed)');
}

/** With --model: the registry's family for it, once it is known to support `verb` (an unknown model or a missing verb is refused by name). */
async function familyGate(verb: DeviceVerb | 'profiles' | 'erase', o: Opts): Promise<DeviceFamily | undefined> {
  if (typeof o.model !== 'string') return undefined;
  const { familyForVerb } = await import('../../../drivers/registry.js');
  return familyForVerb(verb, o.model);
}

/** `device info` for a family that reads its own info (no store side): open, ask the family, print its fields. */
async function printFamilyInfo(family: DeviceFamily, model: string, o: Opts, cmd: Command): Promise<void> {
  await withStore(cmd, async (_store, out) => {
    const transport = await openReader(o, out);
    try {
      const fields = await family.readInfo!(model, transport);
      const r = { family: family.name, model, reader: transport.readerName, ...fields };
      out.result(r, () => Object.entries(r).map(([k, v]) => `${k.padEnd(15)} ${v ?? '-'}`).join('\n'));
    } finally {
      await transport.close();
    }
  });
}

function isMine(o: Opts): boolean {
  return typeof o.model === 'string' && MY_MODELS.includes(o.model);
}

/**
 * Called first by a device.ts action: handles the call when --model names one
 * of these families or a family-only option is given (or, for verify without
 * --code, when the token on the reader turns out to be a Protectimus).
 */
export async function familyFirst(verb: DeviceVerb, opts: object, cmd: Command): Promise<boolean> {
  const o = opts as Opts;
  const family = await familyGate(verb, o);
  // yubikey-otp's verbs live in their own file (store side: src/provision/yubikey-otp.ts).
  if (o.model === 'yubikey-otp' && (verb === 'flash' || verb === 'info')) return (await import('./device-yubikey-otp.js'))[verb === 'flash' ? 'yubikeyOtpFlash' : 'yubikeyOtpInfo'](o, cmd).then(() => true);
  if (verb === 'info' && family?.readInfo) {
    await printFamilyInfo(family, o.model as string, o, cmd);
    return true;
  }
  if (family && !BUILT_IN_NAMES.includes(family.name)) {
    // A family from TOKENSMITH_FAMILY_MODULES reaches the device only through its readInfo; never through another family's code.
    const { UsageError } = await import('../../core/errors.js');
    throw new UsageError(`${o.model}: the ${family.name} family lists '${verb}' but gives tokensmith no code for it (only readInfo, for device info, is called)`, 'no-such-verb');
  }
  const mine = isMine(o) || o.profile !== undefined || o.allProfiles !== undefined || (verb !== 'flash' && o.serial !== undefined);
  if (!mine && !(verb === 'verify' && o.code === undefined)) return false;
  let handled = false;
  await withStore(cmd, async (store, out) => {
    const transport = await openReader(o, out);
    try {
      handled = await familyAfterOpen(verb, transport, store, out, o, cmd);
      if (!handled && mine) {
        const { UsageError } = await import('../../core/errors.js');
        throw new UsageError(`--profile, --all-profiles and --serial are for Molto2 and Protectimus tokens; the token on "${transport.readerName}" is a Token2 NFC token`, 'wrong-family');
      }
    } finally {
      await transport.close();
    }
  });
  return handled;
}

/** Once the reader is open: handles the call when the token is a Molto2 or a Protectimus. */
export async function familyAfterOpen(verb: DeviceVerb, transport: ApduTransport, store: Store, out: Output, opts: object, cmd: Command): Promise<boolean> {
  const o = opts as Opts;
  const { familyOf } = await import('../../provision/families.js');
  const fam = familyOf(o.model as string | undefined, transport.readerName, transport.atr);
  if (fam.family === 'token2-nfc') return false;
  // A family told by the reader name: its verbs are checked as --model's are.
  await familyGate(verb, { model: fam.family === 'protectimus' ? fam.model : 'token2-molto2' });
  const g = globalsOf(cmd);
  const { UsageError } = await import('../../core/errors.js');
  if (fam.family === 'protectimus') {
    const p = await import('../../provision/protectimus.js');
    const base = { model: fam.model, serial: o.serial as string | undefined };
    if (verb === 'flash') p.protectimusFlash(fam.model);
    if (verb === 'info') {
      const v = await p.protectimusInfo(store, transport, base);
      out.result(v, () =>
        [`model           ${v.model}`, `reader          ${v.reader}`, `UID             ${v.uid ?? '-'}`, `hardware scheme ${v.hardwareScheme}`, `firmware        ${v.firmware}`, `clock (RTC)     ${v.rtc ? 'yes' : 'no'}`, `interval        ${v.interval ?? 'unknown'} s`, `in store        ${v.inStore ? `${v.serial}, ${v.state}` : 'no'}`].join('\n'),
      );
    } else if (verb === 'sync') {
      const r = await p.protectimusSync(store, transport, base);
      out.result(r, `set the clock of ${r.serial ?? `the ${r.model}`} (${r.interval} s steps)${r.driftBefore !== null ? `: drift was ${sign(r.driftBefore)} step(s), now ${sign(r.driftAfter!)}` : '; the store does not know its seed, so the code was not checked'}`);
    } else {
      const r = await p.protectimusVerify(store, transport, { ...base, window: o.window === undefined ? undefined : Number(o.window) });
      out.result(r, `the code on ${r.serial} (${r.code}, read from the token) matches its stored seed; drift ${sign(r.driftSteps)} step(s) (${sign(r.driftSeconds)} s)`);
    }
    return true;
  }
  const m = await import('../../provision/molto2-profiles.js');
  const c = { customerKey: o.customerKey as string | undefined };
  if (verb === 'flash') {
    if (!g.yes && !o.force && !out.interactive) throw new UsageError('device flash writes a seed to the Molto2 profile: confirm with --yes (no terminal to ask in)', 'confirm-needed');
    if (o.seed && o.randomSeed) throw new UsageError('give --seed or --random-seed, not both');
    const input = m.parseProfileFlashInput({ ...(o as Record<string, string | undefined>), force: Boolean(o.force), ...c });
    const r = await m.flashProfile(store, transport, input);
    out.result(
      r,
      `flashed profile ${r.profile}${r.title ? ` '${r.title}'` : ''} of Molto2 ${r.deviceSerial} on "${r.reader}": ${r.algorithm}, ${r.digits} digits, ${r.period} s, display ${r.displayTimeout} s${r.overwrote ? ' (replaced the seed it held)' : ''}; ` +
        `store token ${r.serial}, state ${r.token.state}, batch ${r.batch}${r.token.user ? `, assigned to ${r.token.user} in ${r.token.resource}` : ''}`,
    );
  } else if (verb === 'info') {
    const r = await m.listProfiles(store, transport, c);
    const used = r.profiles.filter((p) => p.seedPresent);
    out.result({ ...r, profiles: undefined, profilesWithSeed: used.map((p) => p.profile) }, `Molto2 ${r.deviceSerial} (${r.variant}, ${r.profileCount} profiles) on "${r.reader}": clock ${sign(r.clockOffset)} s from this computer; ${used.length} profile(s) hold a seed`);
  } else if (verb === 'sync') {
    if (o.profile === undefined && !o.allProfiles) throw new UsageError('device sync on a Molto2: say which clock with --profile n, or --all-profiles', 'profile-needed');
    const r = await m.syncProfiles(store, transport, o.allProfiles ? 'all' : [m.parseProfileNumber(o.profile as string)], c);
    out.result(r, `synced ${r.profiles.length} profile clock(s) of Molto2 ${r.deviceSerial}: they were ${r.offsetsBefore.map(sign).join(' / ')} s off, now ${sign(r.offsetAfter)} s`);
  } else {
    throw new UsageError('device verify on a Molto2: the Molto2 cannot be read back; check a code from its display with `tokensmith tokens code <serial>-<nn>`', 'not-supported');
  }
  return true;
}

/** `device profiles`, `device erase`, `device molto2 ...` */
export function registerFamilyCommands(device: Command): void {
  const reader = (c: Command) => c.option('--reader <name>', 'use the reader whose name contains this (case-insensitive)').option('--wait <s>', 'seconds to wait for the device', '10').option('--customer-key <key>', 'the customer key, 32 hex digits or text (default: the factory key)');

  reader(device.command('profiles'))
    .description('list the profiles of a Molto2: title, algorithm, digits, time step, whether a seed is present, and the store token for each')
    .option('--all', 'list empty profiles too')
    .option('--model <model>', 'the model on the reader (refused unless its family has profiles)')
    .addHelpText('after', '\nExample:\n  tokensmith device profiles --reader Molto2 --json')
    .action(async (o: Opts, cmd: Command) => {
      await familyGate('profiles', o);
      await withStore(cmd, async (store, out) => {
        const transport = await openReader(o, out);
        try {
          const { listProfiles } = await import('../../provision/molto2-profiles.js');
          const r = await listProfiles(store, transport, { customerKey: o.customerKey as string | undefined });
          const shown = o.all ? r.profiles : r.profiles.filter((p) => p.seedPresent || p.serial || p.title);
          out.result(r, () =>
            `Molto2 ${r.deviceSerial} (${r.variant}, ${r.profileCount} profiles)\n` +
              table(['PROFILE', 'TITLE', 'ALG', 'DIGITS', 'STEP', 'SEED', 'CLOCK', 'STORE', 'USER'], shown.map((p) => [p.profile, p.title, p.algorithm, p.digits, p.period, p.seedPresent ? 'yes' : 'no', `${sign(p.clockOffset)} s`, p.serial ? `${p.serial} (${p.state})` : '', p.user ?? ''])),
          );
        } finally {
          await transport.close();
        }
      });
    });

  reader(device.command('erase'))
    .description("delete the seed of one Molto2 profile; its store token goes back to stock without a seed")
    .requiredOption('--profile <n>', 'the profile to empty')
    .option('--force', 'do not ask')
    .option('--model <model>', 'the model on the reader (refused unless its family can erase)')
    .addHelpText('after', '\nExample:\n  tokensmith device erase --profile 3 --yes')
    .action(async (o: Opts, cmd: Command) => {
      await familyGate('erase', o);
      await withStore(cmd, async (store, out) => {
        const { parseProfileNumber, eraseProfile } = await import('../../provision/molto2-profiles.js');
        const profile = parseProfileNumber(o.profile as string);
        if (!globalsOf(cmd).yes && !o.force) {
          const { UsageError } = await import('../../core/errors.js');
          if (!out.interactive) throw new UsageError(`device erase deletes the seed of profile ${profile}: confirm with --yes`, 'confirm-needed');
          const { confirm } = await import('@inquirer/prompts');
          if (!(await confirm({ message: `Delete the seed of profile ${profile}? It cannot be read back.`, default: false }))) throw new UsageError('cancelled; nothing was erased', 'cancelled');
        }
        const transport = await openReader(o, out);
        try {
          const r = await eraseProfile(store, transport, profile, { customerKey: o.customerKey as string | undefined });
          out.result(r, `erased profile ${r.profile} of Molto2 ${r.deviceSerial}${r.storeUpdated ? `; store token ${r.serial} is back in stock without a seed` : ''}`);
        } finally {
          await transport.close();
        }
      });
    });

  const molto2 = device.command('molto2').description('Molto2 device settings: lock or unlock the screen, change the customer key, factory reset');
  for (const [name, desc] of [
    ['lock', 'lock the screen (firmware 2.1+)'],
    ['unlock', 'unlock the screen (firmware 2.1+)'],
  ] as const) {
    reader(molto2.command(name))
      .description(desc)
      .addHelpText('after', `\nExample:\n  tokensmith device molto2 ${name}`)
      .action((o: Opts, cmd: Command) => molto2Admin(cmd, o, { kind: name }));
  }
  reader(molto2.command('set-key'))
    .description('change the customer key (the device asks for the ▲ button); keep the new key: every later command needs it')
    .requiredOption('--new-customer-key <key>', 'the new key, 32 hex digits or text; never logged')
    .addHelpText('after', '\nExample:\n  tokensmith device molto2 set-key --new-customer-key "$(cat molto2.key)"')
    .action((o: Opts, cmd: Command) => molto2Admin(cmd, o, { kind: 'set-key', newKey: o.newCustomerKey as string }));
  reader(molto2.command('factory-reset'))
    .description('erase every profile and restore the factory customer key (the device asks for the ▲ button); needs --force')
    .option('--force', 'yes, erase every profile')
    .addHelpText('after', '\nExample:\n  tokensmith device molto2 factory-reset --force')
    .action(async (o: Opts, cmd: Command) => {
      if (!o.force) {
        const { PolicyError } = await import('../../core/errors.js');
        throw new PolicyError('refused: a factory reset erases every profile of the Molto2 and restores the factory customer key; add --force to do it', { code: 'force-needed' });
      }
      await molto2Admin(cmd, o, { kind: 'factory-reset' });
    });
}

async function molto2Admin(cmd: Command, o: Opts, action: Parameters<typeof import('../../provision/molto2-profiles.js').molto2Admin>[2]): Promise<void> {
  await withStore(cmd, async (store, out) => {
    const transport = await openReader(o, out);
    try {
      const { molto2Admin: run } = await import('../../provision/molto2-profiles.js');
      const r = await run(store, transport, action, { customerKey: o.customerKey as string | undefined });
      const press = r.waitingForButton ? ': the Molto2 now waits: press the ▲ button on it to confirm' : '';
      const words = { lock: 'screen locked', unlock: 'screen unlocked', 'set-key': 'new customer key sent', 'factory-reset': 'factory reset requested' }[r.action as 'lock'];
      out.result(r, `Molto2 ${r.deviceSerial}: ${words}${press}`);
    } finally {
      await transport.close();
    }
  });
}

