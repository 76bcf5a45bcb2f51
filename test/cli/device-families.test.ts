// @module-tag daemon
/**
 * The family-specific parts of `device` and `simulate` come from the families
 * (issue 22): a throw-away family loaded through TOKENSMITH_FAMILY_MODULES
 * gets its line in `device --help`, its notes, flags and examples in
 * `device flash --help`, its devices in `device list` and its own commands
 * (`device <group> <command>`) with no other file changed; the built-in
 * families' help still teaches what it did; the CLI files that register the
 * device commands name no family. Needs the build (the CLI runs from dist/).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, assertBuilt, runCliSync } from '../helpers/cli.js';
import { ensurePcscd, lockVpcd, pcscMissing } from '../helpers/pcsc.js';
import { startSimulator } from '../helpers/simulator.js';

assertBuilt();
const dir = mkdtempSync(join(tmpdir(), 'tokensmith-devfam-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ERRORS = pathToFileURL(join(ROOT, 'dist/src/core/errors.js')).href;
const FAMILY = pathToFileURL(join(ROOT, 'dist/drivers/family.js')).href;
/** A family with help texts, a device `device list` shows, its own opener and two commands of its own. */
const TOY = `
import { PolicyError } from '${ERRORS}';
import { RECORD_FLAG } from '${FAMILY}';
let pings = 0;
export default {
  name: 'toyhelp', models: ['toyhelp-key'], summary: 'a throw-away family with help', operations: [], verbs: ['info', 'flash'],
  describe: () => '', async replay() {},
  help: {
    label: 'Toyhelp',
    devices: [{ via: 'a serial port', what: 'Toyhelp keys' }],
    listed: 'the Toyhelp keys on serial ports',
    verbs: {
      flash: {
        what: 'on a Toyhelp key, to its one slot',
        notes: { '--digits': 'a Toyhelp key shows 7' },
        examples: ['tokensmith device flash --model toyhelp-key --yes'],
        sections: [{ heading: 'Toyhelp, slowly:', lines: ['tokensmith device flash --model toyhelp-key --wait 60 --yes'] }],
      },
    },
  },
  flags: { flash: [{ flag: '--slot-color <c>', description: 'Toyhelp: the colour of the slot' }, RECORD_FLAG] },
  listDevices: async () => [{ name: 'Toyhelp key (serial, use --model toyhelp-key)', kind: 'serial', path: '/dev/ttyTOY0' }],
  open: async (o) => ({
    readerName: 'toyhelp on ' + (o.reader ?? 'the first port'), atr: Uint8Array.of(), kind: 'toyhelp',
    transmit: async () => Uint8Array.of(++pings, 0x90, 0x00), isPresent: () => true, onRemoved: () => () => {}, close: async () => {},
  }),
};
export const provisionFamily = {
  name: 'toyhelp',
  verbs: {},
  commands: {
    name: 'toyhelp',
    description: 'Toyhelp key settings: ping it, wipe it',
    options: [{ flag: '--pin <pin>', description: 'the key PIN' }],
    commands: [
      {
        name: 'ping', description: 'ping the key n times', example: 'tokensmith device toyhelp ping --times 3',
        options: [{ flag: '--times <n>', description: 'how many pings', required: true }],
        async run(ctx) {
          let last = 0;
          for (let i = 0; i < Number(ctx.options.times); i++) last = (await ctx.transport.transmit(Uint8Array.of(0, 1)))[0];
          ctx.output.result({ family: ctx.family.name, reader: ctx.transport.readerName, pings: last, pin: ctx.options.pin ?? null, storeOpen: typeof ctx.store.tokens === 'object' }, 'pinged ' + last);
        },
      },
      {
        name: 'wipe', description: 'wipe the key; needs --force', example: 'tokensmith device toyhelp wipe --force',
        options: [{ flag: '--force', description: 'yes, wipe it' }],
        async check(o) { if (!o.force) throw new PolicyError('refused: wiping a Toyhelp key needs --force', { code: 'force-needed' }); },
        async run(ctx) { ctx.output.result({ wiped: true }, 'wiped'); },
      },
    ],
  },
};
`;
const toyPath = join(dir, 'toyhelp.mjs');
writeFileSync(toyPath, TOY);
const base = {
  ...process.env,
  TOKENSMITH_DB: join(dir, 't.db'),
  TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'),
};
const withToy = { ...base, TOKENSMITH_FAMILY_MODULES: toyPath };
const toy = (args: string[]) => runCliSync(args, { env: withToy });
const cli = (args: string[]) => runCliSync(args, { env: base });

describe('a family outside the tree gets its parts of the device commands', () => {
  it('its devices in `device --help`, its clause, notes, flags and examples in `device flash --help`', () => {
    const device = toy(['device', '--help']);
    expect(device.code, device.stderr).toBe(0);
    expect(device.stdout.replace(/\s+/g, ' ')).toMatch(/or a serial port \(Toyhelp keys\)/);
    expect(device.stdout).toMatch(/toyhelp\s+Toyhelp key settings: ping it, wipe it/);
    const flash = toy(['device', 'flash', '--help']).stdout;
    const flat = flash.replace(/\s+/g, ' ');
    expect(flat).toMatch(/and register it \(on a Molto2, to one profile; on a Toyhelp key, to its one slot\)/);
    expect(flat).toMatch(
      /--digits <n> code length \(Token2 NFC tokens show 6 digits; a Molto2 profile 4, 6, 8 or 10; a Toyhelp key shows 7\)/,
    );
    expect(flat).toMatch(/--record <cassette> Token2 NFC, YubiKey, Toyhelp: record the session/);
    expect(flat).toMatch(/--slot-color <c> Toyhelp: the colour of the slot/);
    expect(flash).toMatch(/\n {2}tokensmith device flash --model toyhelp-key --yes\n/);
    expect(flash).toMatch(/\nToyhelp, slowly:\n {2}tokensmith device flash --model toyhelp-key --wait 60 --yes\n/);
  });

  it('its own commands: registered with their options and example, run with its opener and the store', () => {
    const help = toy(['device', 'toyhelp', 'ping', '--help']).stdout;
    expect(help).toMatch(/--reader <name>[\s\S]*--wait <s>[\s\S]*--pin <pin>[\s\S]*--times <n>/);
    expect(help).toMatch(/Example:\n {2}tokensmith device toyhelp ping --times 3/);
    const r = toy(['device', 'toyhelp', 'ping', '--times', '3', '--pin', '1234', '--reader', 'ttyTOY0', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      family: 'toyhelp',
      reader: 'toyhelp on ttyTOY0',
      pings: 3,
      pin: '1234',
      storeOpen: true,
    });
    const missing = toy(['device', 'toyhelp', 'ping']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '--times <n>' not specified/);
    const refused = toy(['device', 'toyhelp', 'wipe']);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/refused: wiping a Toyhelp key needs --force/);
  });

  it('`device list` shows the devices it lists, after the readers, and its line in the description', () => {
    const r = toy(['device', 'list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toContainEqual({
      name: 'Toyhelp key (serial, use --model toyhelp-key)',
      token: true,
      atr: null,
      kind: 'serial',
      path: '/dev/ttyTOY0',
    });
    const text = toy(['device', 'list']);
    expect(text.stdout).toMatch(/Toyhelp key \(serial, use --model toyhelp-key\)\s+yes\s+\/dev\/ttyTOY0/);
    expect(toy(['device', 'list', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(
      /the YubiKeys on USB HID, and the Toyhelp keys on serial ports/,
    );
  });
});

describe('the built-in families still teach through the help', () => {
  it('device and its verbs', () => {
    const device = cli(['device', '--help']).stdout.replace(/\s+/g, ' ');
    expect(device).toMatch(
      /program and check tokens on a PC\/SC reader \(Token2 NFC cards and fobs, Token2 Molto2, Protectimus Slim NFC and Flex, YubiKey OATH\) or USB HID \(YubiKey OTP slots\)/,
    );
    expect(device).toMatch(/molto2 Molto2 device settings/);
    const flash = cli(['device', 'flash', '--help']).stdout;
    expect(flash).toMatch(
      /Examples:\n {2}tokensmith device flash --reader ACR122 .*\n {2}tokensmith device flash --reader Molto2 --profile 3 --title VPN --yes\n\nYubiKey \(OATH\)/,
    );
    expect(flash).toMatch(
      /YubiKey OTP \(OATH-HOTP in slot 1 or 2.*\n {2}tokensmith device flash --model yubikey-otp --slot 2/,
    );
    expect(flash.replace(/\s+/g, ' ')).toMatch(/--batch \[n\] Token2 NFC, YubiKey: flash n tokens/);
    expect(cli(['device', 'verify', '--help']).stdout.replace(/\s+/g, ' ')).toMatch(
      /--code <digits> the code the token shows now \(a Protectimus tells its own\)/,
    );
    const sync = cli(['device', 'sync', '--help']).stdout.replace(/\s+/g, ' ');
    expect(sync).toMatch(/--display-timeout <s> Token2 NFC: display timeout to write/);
    expect(sync).toMatch(/--all-profiles Molto2: set the clock of every profile/);
    expect(sync).toMatch(
      /Examples: tokensmith device sync --reader ACR122 tokensmith device sync --reader Molto2 --all-profiles/,
    );
    expect(cli(['device', 'erase', '--help']).stdout).toMatch(
      /tokensmith device erase --model yubikey-oath --name Corp:alice --yes/,
    );
  });

  it('the Molto2 commands: same command line, options, refusals', () => {
    expect(cli(['device', 'molto2', '--help']).stdout).toMatch(/lock \[options\][\s\S]*factory-reset \[options\]/);
    const setKey = cli(['device', 'molto2', 'set-key', '--help']).stdout;
    expect(setKey).toMatch(/--customer-key <key>[\s\S]*--new-customer-key <key>/);
    expect(setKey).toMatch(/tokensmith device molto2 set-key --new-customer-key "\$\(cat molto2.key\)"/);
    const reset = cli(['device', 'molto2', 'factory-reset', '--reader', 'no-such-reader', '--wait', '0']);
    expect(reset.code).toBe(5);
    expect(reset.stderr).toMatch(/refused: a factory reset erases every profile of the Molto2/);
    expect(cli(['device', 'molto2', 'set-key']).stderr).toMatch(/required option '--new-customer-key <key>'/);
  });

  it('simulate: the per-model option texts and the example', () => {
    const r = cli(['simulate', '--help']).stdout;
    const flat = r.replace(/\s+/g, ' ');
    expect(flat).toMatch(/--period <s> Token2 NFC, Protectimus: the time step it already has: 30 \(default\) or 60/);
    expect(flat).toMatch(/--variant <v> Molto2: molto2 \(50 profiles\) or molto2v2 \(100, the default\)/);
    expect(r).toMatch(/Example:\n {2}tokensmith simulate token2-card --vpcd/);
  });
});

it('the CLI files that register the device, simulate and cassette commands, and the HID transport, name no family', () => {
  const files = [
    'src/cli/commands/device.ts',
    'src/cli/commands/device-help.ts',
    'src/cli/commands/device-family-commands.ts',
    'src/cli/commands/device-list.ts',
    'src/cli/commands/device-run.ts',
    'src/cli/commands/simulate.ts',
    'src/cli/commands/cassette.ts',
    'src/transport/hid.ts',
  ];
  const named = files.filter((f) =>
    /token2|molto2|protectimus|yubikey|yubico/i.test(readFileSync(join(ROOT, f), 'utf8')),
  );
  expect(named).toEqual([]);
});

const pcsc = pcscMissing('device molto2 lock over vpcd');
it.skipIf(pcsc !== null)(
  `device molto2 lock|unlock reach the simulated Molto2 through pcscd and vpcd${pcsc ? ` (skipped: ${pcsc})` : ''}`,
  async () => {
    const unlock = await lockVpcd();
    const stopPcscd = await ensurePcscd();
    try {
      const sim = await startSimulator({
        bin: join(ROOT, 'bin/tokensmith'),
        env: base,
        model: 'token2-molto2',
        stateFile: join(dir, 'molto2.json'),
        args: ['--serial', '2310000077'],
        vpcd: '127.0.0.1:35964',
        upWithinMs: 15_000,
      });
      try {
        const reader = ['--reader', 'Virtual PCD 00 01', '--wait', '20'];
        const locked = runCliSync(['device', 'molto2', 'lock', ...reader], { env: base, timeoutMs: 60_000 });
        expect(locked.code, locked.stderr).toBe(0);
        expect(locked.stdout).toMatch(/Molto2 2310000077: screen locked/);
        expect(sim.state().screenLocked).toBe(true);
        const open = runCliSync(['device', 'molto2', 'unlock', ...reader, '--json'], { env: base, timeoutMs: 60_000 });
        expect(open.code, open.stderr).toBe(0);
        expect(JSON.parse(open.stdout)).toMatchObject({ deviceSerial: '2310000077', action: 'unlock' });
        expect(sim.state().screenLocked).toBe(false);
      } finally {
        await sim.stop();
      }
    } finally {
      await stopPcscd();
      unlock();
    }
  },
  120_000,
);
